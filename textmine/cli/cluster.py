"""``textmine cluster``: InfoMap communities of a graph (link list or Pajek)."""
import sys

import click

from textmine.cli._options import encoding_option, jobs_option, output_option, quiet_option, seed_option


@click.command("cluster")
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("-d", "--directed", is_flag=True, help="Directed links and PageRank flow (default: undirected).")
@click.option("--teleport-to", type=click.Choice(["links", "nodes"]), default="links", show_default=True,
              help="Directed flow: teleport proportionally to link weight, or uniformly to nodes.")
@click.option("-e", "--recorded-teleportation", is_flag=True,
              help="Directed flow: code teleportation steps too (with --teleport-to nodes: the 2008 form).")
@click.option("-p", "--teleport-prob", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.15,
              show_default=True, help="Teleportation probability τ of the directed flow.")
@click.option("-N", "--trials", type=click.IntRange(min=1), default=1, show_default=True,
              help="Independent trials (seeds SEED, SEED+1, ...); the shortest codelength wins.")
@seed_option
@click.option("-2", "--two-level", "two_level", is_flag=True, help="Two-level partition (the default).")
@click.option("--multilevel", is_flag=True,
              help="Hierarchical map equation: grow the best two-level partition into a module tree.")
@click.option("--prefer-modular-solution", is_flag=True,
              help="Keep the modular solution even when one module codes shorter.")
@click.option("--markov-time", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="Scale link flow (not visit rates) by T, as Infomap: T > 1 gives fewer, larger modules, "
                   "T < 1 more, smaller ones. Codelengths are comparable only at the same T.")
@click.option("--regularized", is_flag=True,
              help="Regularized map equation (Infomap --regularized): a Bayesian prior of weak links between "
                   "all nodes, coded as teleportation; for sparse or sampled graphs (kNN, co-occurrence).")
@click.option("--regularization-strength", type=click.FloatRange(0, min_open=True), default=1.0,
              show_default=True, help="C in the prior's strength C ln(N)/N (with --regularized).")
@click.option("--preferred-number-of-modules", "preferred_modules", type=click.IntRange(min=1), default=None,
              metavar="K", help="Add |M - K| bits to the codelength of M modules (Infomap's soft preference; "
                                "two-level only). The codelength printed includes it.")
@click.option("--multilayer-relax-rate", type=click.FloatRange(0, 1), default=0.15, show_default=True,
              help="Multilayer *Intra input without *Inter links: the rate at which the walker follows the links "
                   "of the same physical node in any layer (Infomap's --multilayer-relax-rate).")
@click.option("--multilayer-relax-limit", type=int, default=-1, show_default=True, metavar="N",
              help="With --multilayer-relax-rate: relax only to layers whose integer id differs by at most N "
                   "(negative: any layer; Infomap's option).")
@click.option("--multilayer-relax-limit-up", type=int, default=-1, show_default=True, metavar="N",
              help="As --multilayer-relax-limit, for layers with higher ids only.")
@click.option("--multilayer-relax-limit-down", type=int, default=-1, show_default=True, metavar="N",
              help="As --multilayer-relax-limit, for layers with lower ids only.")
@click.option("--format", "fmt", type=click.Choice(["tsv", "clu", "tree", "ftree", "csv", "json"]), default="tsv",
              show_default=True, help="tsv: node<TAB>module<TAB>flow; clu/tree/ftree/csv/json: Infomap's formats "
                                      "(ftree: the tree plus module-level *Links, for the Network Navigator).")
@click.option("--state-level", is_flag=True,
              help="State networks: one row per state (state, module, flow, physical node; Infomap's "
                   "_states.clu) instead of one per physical node and module. tsv and clu.")
@encoding_option(what=" of the link lists or Pajek files; a UTF-8 BOM is dropped.")
@jobs_option
@output_option
@quiet_option
def cluster(paths, directed, teleport_to, recorded_teleportation, teleport_prob, trials, seed, two_level,
            multilevel, prefer_modular_solution, markov_time, regularized, regularization_strength,
            preferred_modules, multilayer_relax_rate, multilayer_relax_limit, multilayer_relax_limit_up,
            multilayer_relax_limit_down, fmt, state_level, encoding, jobs, output, quiet):
    """Find communities by minimising the map equation (InfoMap; two-level unless --multilevel).

    PATHS are link lists (`source target [weight]` per line, TAB or space separated, string node
    ids) or Pajek files; none or `-` reads stdin. A file is Pajek only when its first line that is
    not blank and does not start with # or % is a section header (`*Vertices [N]`, `*Edges`,
    `*Arcs`, `*Links`, any case). In a link list `*` means nothing (`***`, `**zg` are nodes) and a
    comment is a line whose first field starts with # or % and is alone or followed by a space
    (`# note`, `#note`); `#b<TAB>c` is a link, so a TAB-separated line of 2-3 fields always is.
    Other line lengths are errors (FILE:LINE); the comments skipped are counted on stderr.
    Duplicate links are summed, self-loops kept (counted once in a node's flow).

    State (memory) networks: Infomap's `*Vertices` (physical nodes) + `*States` (`state_id
    physical_id ["name"]`) + `*Links` (between states). The map equation is optimised on the
    states with physical-node codebooks; the output lists each physical node once per module it
    has flow in (overlapping clusters: a polysemous word in two modules), in tsv, clu or tree.
    Multilayer networks (`*Multilayer`: `layer node layer node [weight]`; or `*Intra`: `layer node
    node [weight]` with optional `*Inter`: `layer node layer [weight]`) become state networks with
    one state per (layer, node), as Infomap builds them; `*Intra` input uses directed flow.

    --seed defaults to 1 like every other command; Infomap's 123 gives no parity (its random
    number generator differs), so pass any seed; trials use SEED, SEED+1, ...

    Output columns (tsv): node, module (1 = largest flow), node flow. Modules are listed by
    decreasing flow, nodes within a module by decreasing flow. The codelength, the one-level
    codelength and the number of modules go to stderr.

    Memory: grows with the links and nodes of the graph (about 180 bytes per link measured at
    1.3 M links), plus per-node state for each trial running in parallel (-j).

    \b
      textmine cluster karate.net
      textmine neighbors vectors.txt --k 50 --min-sim 0.6 | textmine cluster --directed -N 10
    """
    from textmine import __version__
    from textmine.cli._options import resolve
    from textmine.formats import atomic_output
    from textmine.graph import read_graph
    from textmine.infomap import infomap, write_result

    if multilevel and two_level:
        raise click.UsageError("--multilevel and --two-level exclude each other")
    if preferred_modules and multilevel:
        raise click.UsageError("--preferred-number-of-modules applies to the two-level partition; drop --multilevel")
    if regularized and (recorded_teleportation or teleport_to != "links"):
        raise click.UsageError("--regularized has its own (recorded) teleportation; drop -e/--teleport-to")
    if regularization_strength != 1.0 and not regularized:
        raise click.UsageError("--regularization-strength needs --regularized")
    files = resolve(list(paths) or ["-"])
    graph = read_graph(files, directed=directed, encoding=encoding, relax_rate=multilayer_relax_rate,
                       relax_limit=multilayer_relax_limit, relax_limit_up=multilayer_relax_limit_up,
                       relax_limit_down=multilayer_relax_limit_down)
    directed = directed or graph.directed  # *Intra input is directed (as Infomap makes it)
    if graph.layers is not None and regularized:
        raise click.UsageError("--regularized is not available for multilayer networks")
    if graph.is_state_network:
        if multilevel or preferred_modules:
            raise click.UsageError("state networks (*States) are partitioned in two levels without "
                                   "--preferred-number-of-modules; drop --multilevel")
        if fmt not in ("tsv", "clu", "tree"):
            raise click.UsageError(f"--format {fmt} is not available for state networks yet; use tsv, clu or tree")
        if state_level and fmt == "tree":
            raise click.UsageError("--state-level writes tsv or clu")
    elif state_level:
        raise click.UsageError("--state-level needs a state network (*States)")
    result = infomap(graph, directed=directed, teleport_to=teleport_to, recorded=recorded_teleportation,
                     teleport_prob=teleport_prob, trials=trials, seed=seed, n_jobs=jobs,
                     prefer_modular=prefer_modular_solution, multilevel=multilevel, markov_time=markov_time,
                     regularized=regularized, regularization_strength=regularization_strength,
                     preferred_modules=preferred_modules or 0)
    header = [f"textmine {__version__}", "textmine cluster " + " ".join(sys.argv[2:] if len(sys.argv) > 2 else [])]
    with atomic_output(output) as out:
        write_result(out, result, graph.ids, graph.names, fmt=fmt, header=header, state_level=state_level)
    if not quiet:
        notes = []
        if graph.n_duplicates:
            notes.append(f"{graph.n_duplicates} duplicate links summed")
        if graph.n_self_loops:
            notes.append(f"{graph.n_self_loops} self-loops")
        n_comments = graph.stats.get("comments", 0)
        if n_comments:
            notes.append(f"{n_comments} comment line{'s' if n_comments != 1 else ''} skipped")
        nodes = (f"{graph.n_nodes} state nodes of {len(graph.phys_ids)} physical nodes" if graph.is_state_network
                 else f"{graph.n_nodes} nodes")
        click.echo(f"textmine cluster: {nodes}, {graph.n_links} links" + (f" ({', '.join(notes)})" if notes else "")
                   + f"; flow model {result.flow_model}", err=True)
        click.echo(f"textmine cluster: codelength {max(0.0, result.codelength):.6f} bits (one-level "
                   f"{max(0.0, result.one_level_codelength):.6f}, "
                   f"savings {100 * result.relative_savings:.4g}%), {result.n_modules} modules"
                   + (f" in {result.levels} levels" if result.levels > 2 else "") + ", "
                   f"best of {trials} trial{'s' if trials > 1 else ''}", err=True)
