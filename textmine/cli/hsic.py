"""``textmine hsic``: HSIC independence test between two variables, or between all pairs of columns."""
import json
import math

import click

from textmine.cli._options import (check_output, encoding_option, header_option, jobs_option, output_option, quiet_option,
                                   seed_option)

_FIELDS = ("statistic", "estimator", "pvalue", "method", "bandwidth_x", "bandwidth_y", "n", "permutations", "seed")
_PAIR_FIELDS = ("x", "y", "statistic", "pvalue")


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else str(v)
    return str(v)


def _select(table, names, cats, spec, path):
    """Columns of ``table`` named by ``spec``, with their names and label flags."""
    from textmine.hsic import column_indices
    idx = column_indices(names, spec, path)
    return table[:, idx], [names[i] for i in idx], [cats[i] for i in idx]


def _parse_collection(ctx, param, value):
    if value is None:
        return None
    parts = value.split(",")
    try:
        if len(parts) != 3:
            raise ValueError
        base, lo, hi = float(parts[0]), int(parts[1]), int(parts[2])
    except ValueError:
        raise click.BadParameter(f"{value!r}: give BASE,LO,HI, e.g. 2,-2,2") from None
    if not (base > 1 and math.isfinite(base)) or lo > hi or hi - lo > 20:
        raise click.BadParameter(f"{value!r}: need BASE > 1, LO <= HI and at most 21 bandwidths")
    return base, lo, hi


def _parse_bandwidth(ctx, param, value):
    if value is None:
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number or a pair SIGMA_X,SIGMA_Y") from None
    if len(parts) not in (1, 2) or not all(p > 0 and math.isfinite(p) for p in parts):
        raise click.BadParameter(f"{value!r}: give one or two positive numbers")
    return parts[0] if len(parts) == 1 else tuple(parts)


@click.command("hsic")
@click.argument("x", type=click.Path(allow_dash=True, dir_okay=False))
@click.argument("y", required=False, type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--x-cols", metavar="SPEC", help="Columns of X that form x: 1-based numbers, ranges or header names "
              "(1,3-4 or age,income). With one table and no --y-cols, y is the other columns.")
@click.option("--y-cols", metavar="SPEC", help="Columns that form y (of Y, or of X when Y is not given).")
@click.option("--column-names", is_flag=True, help="The first line of each input table holds column names.")
@header_option("the output's field names")
@click.option("--delimiter", metavar="CHAR", help="Cell separator [default: ',' for .csv, TAB otherwise; 'ws' = any "
              "whitespace].")
@click.option("--kernel", type=click.Choice(["gaussian", "linear", "distance", "precomputed"]), default="gaussian",
              show_default=True, help="distance: the distance-induced kernel (biased = distance covariance V^2, "
              "normalized = bias-corrected distance correlation; O(n log n) for one column each); "
              "precomputed: X and Y are n x n kernel matrices.")
@click.option("--bandwidth-rule", type=click.Choice(["median", "gretton", "hyppo", "fixed"]), default=None,
              help="Gaussian sigma per variable: median distance (default), gretton = sqrt(0.5 median d^2) over the "
              "first 100 rows (hsicTestGamma.m), hyppo = median of x reused for y, fixed = --bandwidth.")
@click.option("--bandwidth", callback=_parse_bandwidth, metavar="SIGMA[,SIGMA_Y]",
              help="Fixed Gaussian sigma (implies --bandwidth-rule fixed).")
@click.option("--estimator", type=click.Choice(["biased", "unbiased", "gretton2005", "normalized"]), default=None,
              help="biased tr(KHLH)/n^2, gretton2005 /(n-1)^2, unbiased (Song 2012), normalized (hyppo's statistic) "
              "[default: biased; normalized with --pvalue chi2].")
@click.option("--pvalue", "method", type=click.Choice(["auto", "gamma", "permutation", "chi2", "rff", "block",
                                                      "aggregated", "aggregated-inc"]),
              default="auto", show_default=True,
              help="aggregated: HSICAgg, 3 x 3 Gaussian bandwidths (median distance / 4, / 2, / 1), one set of -B "
              "permutations, the pairs' p-values combined by their harmonic mean (power where one median bandwidth "
              "fails). aggregated-inc: the same "
              "collection on agginc's incomplete U-statistic (each of n/2 row pairs against the next 200) with -B "
              "wild-bootstrap draws, linear in n (for large n; statistic 'incomplete'). auto: aggregated "
              "for one test up to n = 500 (Gaussian kernel, median rule, no --estimator), else gamma (biased), "
              "chi2 (normalized), permutation (unbiased); rff from n = 10000 (chi2 with --kernel distance); "
              "--pairwise uses gamma.")
@click.option("--collection", callback=_parse_collection, metavar="BASE,LO,HI",
              help="Bandwidths of --pvalue aggregated: BASE^i x median distance / sqrt 2, i = LO..HI, per "
              "variable [default: 2,-2,0; agginc's is 2,-2,2].")
@click.option("--level", "alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Significance level α at which --pvalue aggregated marks each bandwidth pair rejected "
              "(--json 'kernels').")
@click.option("-B", "--permutations", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Permutations of the permutation test.")
@click.option("--num-features", type=click.IntRange(min=1), default=None,
              help="Random Fourier features per variable (--pvalue rff) [default: 100].")
@click.option("--features", "features_old", type=click.IntRange(min=1), default=None, hidden=True,
              help="Deprecated spelling of --num-features.")
@click.option("--block-size", type=click.IntRange(min=4), default=50, show_default=True,
              help="Rows per block (--pvalue block).")
@click.option("--pairwise", is_flag=True, help="Test every pair of columns (of X, or X's against Y's); writes "
              "x<TAB>y<TAB>statistic<TAB>pvalue per pair.")
@click.option("--fdr", type=click.Choice(["bh", "by"]), default=None,
              help="With --pairwise: add a qvalue column after pvalue, the Benjamini-Hochberg (bh) or "
              "Benjamini-Yekutieli (by, any dependence) adjusted p-value over all the pairs.")
@click.option("--json", "as_json", is_flag=True, help="Write JSON (one object; one per line with --pairwise).")
@click.option("--null", "null_path", type=click.Path(dir_okay=False), metavar="FILE.npy", callback=check_output,
              help="Save the permutation null statistics as .npy.")
@encoding_option(what=" of text tables; a UTF-8 BOM is dropped.")
@click.option("--categorical", metavar="COLS", help="Columns that hold labels (1-based numbers, ranges or header "
              "names, as --x-cols; numbers count in X, names in X or Y), compared by the delta kernel: 1 if equal, "
              "else 0. Columns of non-numeric text are labels anyway. A label variable is one column; an empty or NA "
              "cell is missing, not a level.")
@click.option("--missing", type=click.Choice(["error", "drop"]), default="error", show_default=True,
              help="Missing cells (empty, NA, NaN, N/A, null): error names FILE:LINE and the column; drop leaves "
              "out the incomplete rows of each test (per pair with --pairwise) and says how many on stderr.")
@seed_option
@jobs_option
@output_option
@quiet_option
def hsic(x, y, x_cols, y_cols, header, delimiter, kernel, bandwidth_rule, bandwidth, estimator, method,
         collection, alpha, permutations, num_features, features_old, block_size, pairwise, fdr, as_json, null_path,
         encoding, missing, categorical, seed, jobs, output, quiet, column_names):
    """Hilbert-Schmidt independence test between x and y (n x p and n x q).

    X and Y are TSV, CSV or .npy tables (- is stdin), rows paired by position. With one table,
    pick x and y with --x-cols/--y-cols (a two-column table needs neither).

    Output: one TSV row (--header adds a line of names)

    Memory: the exact tests hold n x n kernel matrices (8 bytes per entry, O(n^2); the aggregated
    test six of them); the rff and block tests grow linearly with n.

    Labels: a column of text (or one named by --categorical) is compared by the delta kernel, so
    a document label can be tested against numeric features with any --pvalue; the aggregated
    test then runs over the other variable's bandwidths only.

    \b
      statistic estimator pvalue method bandwidth_x bandwidth_y n permutations seed

    ('-' where a field does not apply; permutations is B, or the features per variable for rff,
    or the block size for block) or, with --json, one JSON object with the same keys.
    --pvalue aggregated reports the bandwidth pair with the smallest single p-value; its --json
    adds "alpha" and "kernels" (each pair's sigmas, statistic, own p-value and whether it
    rejects at --level after the min-p correction for the collection; a pair rejects only when
    the test does, but the test can reject with no pair significant alone).
    --pvalue gamma reproduces Gretton's hsicTestGamma.m (with --bandwidth-rule gretton);
    --estimator normalized --pvalue chi2 --bandwidth-rule hyppo reproduces hyppo's Hsic.

    \b
      textmine hsic data.tsv --x-cols 1 --y-cols 2
      textmine hsic table.csv --column-names --pairwise | sort -t$'\\t' -k4,4g | head
    """
    from textmine.errors import TextmineError
    from textmine.formats import atomic_output
    from textmine.hsic import column_indices, hsic_pairwise, hsic_test, read_table

    if x == "-" and y == "-":
        raise click.UsageError("only one of X and Y can be stdin")
    if features_old is not None:
        click.echo("textmine hsic: --features is deprecated, use --num-features", err=True)
        if num_features is not None and num_features != features_old:
            raise click.UsageError("--features (deprecated) and --num-features disagree; give --num-features only")
        num_features = features_old
    features = 100 if num_features is None else num_features
    if fdr is not None and not pairwise:
        raise click.UsageError("--fdr adjusts the p-values of many tests; it needs --pairwise")
    if collection is not None and method not in ("aggregated", "aggregated-inc"):
        raise click.UsageError("--collection is for --pvalue aggregated")
    if bandwidth is not None and bandwidth_rule not in (None, "fixed"):
        raise click.UsageError(f"--bandwidth gives a fixed sigma; it cannot be combined with --bandwidth-rule "
                               f"{bandwidth_rule}")
    if bandwidth_rule == "fixed" and bandwidth is None:
        raise click.UsageError("--bandwidth-rule fixed needs --bandwidth SIGMA[,SIGMA_Y]")
    if kernel == "distance" and (bandwidth is not None or bandwidth_rule is not None):
        raise click.UsageError("--kernel distance has no bandwidth; drop --bandwidth/--bandwidth-rule")
    bw = bandwidth if bandwidth is not None else (bandwidth_rule or "median")
    if null_path and (pairwise or method != "permutation"):
        raise click.UsageError("--null needs --pvalue permutation (and no --pairwise)")
    if kernel == "precomputed" and (y is None or pairwise or x_cols or y_cols):
        raise click.UsageError("--kernel precomputed needs two n x n matrices X and Y (no column selection or "
                               "--pairwise)")

    if categorical is not None and kernel == "precomputed":
        raise click.UsageError("--categorical needs data columns, not precomputed kernel matrices")
    spec_y = None
    if categorical is not None and y is not None:
        # numbers and ranges count in X; header names in whichever table has them
        spec_y = ",".join(p for p in categorical.split(",") if p.strip() and not p.strip()[0].isdigit())
    tx, names_x, lev_x = read_table(x, delimiter, column_names, encoding, missing, return_levels=True,
                                    categorical=None if categorical is None else (
                                        lambda nm: column_indices(nm, categorical, x, lenient=y is not None)))
    cats_x = [j in lev_x for j in range(tx.shape[1])]
    if y is not None:
        ty, names_y, lev_y = read_table(y, delimiter, column_names, encoding, missing, return_levels=True,
                                        categorical=None if not spec_y else (
                                            lambda nm: column_indices(nm, spec_y, y, lenient=True)))
        cats_y = [j in lev_y for j in range(ty.shape[1])]
        if spec_y:
            unknown = [p.strip() for p in spec_y.split(",") if p.strip() not in names_x + names_y]
            if unknown:
                raise TextmineError(f"--categorical: no column {unknown[0]!r} in {x} or {y}")
        if ty.shape[0] != tx.shape[0]:
            raise TextmineError(f"{x} has {tx.shape[0]} rows but {y} has {ty.shape[0]}; "
                                "the samples must be paired row by row")
        if x_cols:
            tx, names_x, cats_x = _select(tx, names_x, cats_x, x_cols, x)
        if y_cols:
            ty, names_y, cats_y = _select(ty, names_y, cats_y, y_cols, y)
    else:
        if x_cols:
            xa, names_xa, cats_xa = _select(tx, names_x, cats_x, x_cols, x)
        if y_cols:
            ya, names_ya, cats_ya = _select(tx, names_x, cats_x, y_cols, x)
        if pairwise:
            if x_cols and y_cols:
                tx, names_x, cats_x, ty, names_y, cats_y = xa, names_xa, cats_xa, ya, names_ya, cats_ya
            else:
                if x_cols:
                    tx, names_x, cats_x = xa, names_xa, cats_xa
                ty = names_y = cats_y = None
        else:
            if not x_cols and not y_cols:
                if tx.shape[1] != 2:
                    raise click.UsageError(f"{x} has {tx.shape[1]} columns: pick x and y with --x-cols and --y-cols, "
                                           "give a second table Y, or use --pairwise")
                x_cols, y_cols = "1", "2"
                xa, names_xa, cats_xa = _select(tx, names_x, cats_x, "1", x)
                ya, names_ya, cats_ya = _select(tx, names_x, cats_x, "2", x)
            elif not y_cols:
                rest = [j for j in range(tx.shape[1]) if names_x[j] not in names_xa]
                if not rest:
                    raise click.UsageError("--x-cols takes every column; give --y-cols")
                ya, names_ya, cats_ya = tx[:, rest], [names_x[j] for j in rest], [cats_x[j] for j in rest]
            elif not x_cols:
                rest = [j for j in range(tx.shape[1]) if names_x[j] not in names_ya]
                if not rest:
                    raise click.UsageError("--y-cols takes every column; give --x-cols")
                xa, names_xa, cats_xa = tx[:, rest], [names_x[j] for j in rest], [cats_x[j] for j in rest]
            tx, names_x, cats_x, ty, names_y, cats_y = xa, names_xa, cats_xa, ya, names_ya, cats_ya

    common = dict(kernel=kernel, bandwidth=bw, estimator=estimator, method=method, n_permutations=permutations,
                  seed=seed, n_jobs=jobs, n_features=features, block_size=block_size, alpha=alpha,
                  collection=collection, missing=missing)
    if pairwise:
        cat_idx = ([j for j, c in enumerate(cats_x) if c], [j for j, c in enumerate(cats_y or []) if c])
        rows = hsic_pairwise(tx, ty, names_x, names_y, fdr=fdr, categorical=cat_idx, **common)
        if missing == "drop" and not quiet:
            dropped = [(a, b, r.dropped) for a, b, r in rows if r.dropped]
            if dropped:
                click.echo(f"textmine hsic: dropped incomplete rows in {len(dropped)} of {len(rows)} pairs (at most "
                           f"{max(k for _, _, k in dropped)} rows; the JSON output has a 'dropped' key)", err=True)
        fields = _PAIR_FIELDS + (("qvalue",) if fdr else ())
        with atomic_output(output) as out:
            if header and not as_json:
                out.write("\t".join(fields) + "\n")
            if as_json:
                for a, b, r in rows:
                    out.write(json.dumps({"x": a, "y": b, **r.to_dict()}) + "\n")
            else:
                for a, b, r in rows:
                    cells = [a, b, _fmt(r.statistic), _fmt(r.pvalue)] + ([_fmt(r.qvalue)] if fdr else [])
                    out.write("\t".join(cells) + "\n")
        return
    for t, cats, nm, side in ((tx, cats_x, names_x, "x"), (ty, cats_y, names_y, "y")):
        if any(cats) and t.shape[1] > 1:
            label = nm[cats.index(True)]
            raise TextmineError(f"{side} has {t.shape[1]} columns including the label column {label!r}; a label "
                                f"is tested alone (choose it alone with --{side}-cols, or use --pairwise)")
    result = hsic_test(tx, ty, return_null=bool(null_path), categorical=(any(cats_x), any(cats_y)), **common)
    if missing == "drop" and result.dropped and not quiet:
        click.echo(f"textmine hsic: dropped {result.dropped} incomplete rows of {result.n + result.dropped}", err=True)
    if null_path:
        import numpy as np
        with atomic_output(null_path, "wb") as f:
            np.save(f, result.null)
    d = result.to_dict()
    with atomic_output(output) as out:
        if as_json:
            extra = {k: d[k] for k in ("alpha", "kernels", "dropped") if k in d}
            out.write(json.dumps({**{k: d[k] for k in _FIELDS}, **extra}) + "\n")
        else:
            if header:
                out.write("\t".join(_FIELDS) + "\n")
            out.write("\t".join(_fmt(d[k]) for k in _FIELDS) + "\n")
