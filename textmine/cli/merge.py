"""``textmine merge``: add up saved counts exactly."""
import click

from textmine.cli._options import check_output, check_output_dir, quiet_option


@click.command("merge")
@click.argument("inputs", nargs=-1, required=True, metavar="COUNTS...")
@click.option("-o", "--output", "output", required=True, metavar="DIR", type=click.Path(file_okay=False),
              callback=check_output_dir,
              help="The merged count directory (replaced as a whole if it exists).")
@click.option("--tsv", "tsv", metavar="FILE", default=None, type=click.Path(allow_dash=True), callback=check_output,
              help="Also write the merged counts as token<TAB>count lines (count descending, then code "
                   "point, as textmine count writes them); - for stdout.")
@quiet_option
def merge(inputs, output, tsv, quiet):
    """Merge count directories written by textmine count --save: the counts of a key add up.

    The inputs must count the same kind of keys (tokenizer, n-gram orders) with textmine count --min-count 1,
    so that the sum is exact; the keys of every input are sorted, so the merge is linear. A
    corpus can grow day by day (count the new part, merge it in) or be counted on several
    machines. Every input is checked against the sha256 sums in its meta.json first.

    \b
      textmine count -t ngram --n 4 day1/ --save c1 -o /dev/null
      textmine count -t ngram --n 4 day2/ --save c2 -o /dev/null
      textmine merge c1 c2 -o all
    """
    from textmine import countfile

    parts = [countfile.load(p) for p in inputs]
    merged = countfile.merge(parts, list(inputs))
    merged.save(output)
    if tsv is not None:
        from textmine.formats import atomic_output

        order = sorted(range(len(merged)), key=lambda i: -int(merged.counts[i]))  # stable: code point within a count
        with atomic_output(tsv, "wb") as out:
            raw, off, cnt = bytes(merged.data), merged.offsets.tolist(), merged.counts.tolist()
            out.write(b"".join(raw[off[i]:off[i + 1]] + b"\t%d\n" % cnt[i] for i in order))
    if not quiet:
        click.echo(f"textmine merge: {len(parts)} inputs, {len(merged)} keys, total count "
                   f"{int(merged.counts.sum())} -> {output}", err=True)
