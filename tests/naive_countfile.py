"""Slow, obviously-correct twins of the kernels of textmine.countfile."""


def naive_merge(*runs):
    """Sum of several {bytes key: count} dicts, as a sorted list of (key, count)."""
    out = {}
    for run in runs:
        for k, c in run.items():
            out[k] = out.get(k, 0) + c
    return sorted(out.items())


def naive_strictly_sorted(keys):
    return all(a < b for a, b in zip(keys, keys[1:]))
