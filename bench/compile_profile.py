#!/usr/bin/env python3
"""Where a cold start spends its time: numba compile seconds per kernel for one textmine command.

Runs the command in this process with an empty kernel cache (a fresh ``NUMBA_CACHE_DIR``, unless
``--warm`` or ``NUMBA_CACHE_DIR`` is already set) and a listener on numba's ``numba:compile``
event; prints, per dispatcher, how many specialisations were compiled and the CPU seconds spent,
*exclusive* of the kernels compiled inside it (a kernel calling another numba function compiles
the callee first), largest first, then the total compile, the process CPU seconds and the wall
time. Only this process is profiled: with ``-j N`` the workers load what the parent compiled
(``count`` compiles every kernel before its pool starts).

Usage::

    PYTHONPATH=. python bench/compile_profile.py count data/ --glob '*.txt' -j 2 --top 20
    PYTHONPATH=. python bench/compile_profile.py --top 10 discover-words data/song_ci_sample.txt

Options before the command: ``--top K`` (rows printed, default 25), ``--warm`` (keep the cache),
``--tree`` (also every compile of 0.05 s or more, indented under the compile that triggered it,
callees listed before their caller).
The command's output goes to ``/dev/null``; the profile goes to stdout.
"""
import os
import sys
import tempfile
import time


def main(argv):
    top, warm, tree = 25, False, False
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--top":
            top = int(argv.pop(0))
        elif opt == "--warm":
            warm = True
        elif opt == "--tree":
            tree = True
        else:
            raise SystemExit(f"unknown option {opt}")
    if not argv:
        raise SystemExit(__doc__)
    if not warm and not os.environ.get("NUMBA_CACHE_DIR"):
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-")
    t0, c0 = time.perf_counter(), time.process_time()

    from numba.core import event

    stats = {}  # name -> [specialisations, exclusive seconds, inclusive seconds]
    stack = []  # [name, start, seconds of nested compiles]
    calls = []  # (depth, name, inclusive seconds), in the order the compiles end

    class Profile(event.Listener):
        def on_start(self, ev):
            d = ev.data["dispatcher"]
            stack.append([getattr(d, "__qualname__", None) or d.py_func.__qualname__, time.thread_time(), 0.0])

        def on_end(self, ev):
            name, start, nested = stack.pop()
            dt = time.thread_time() - start
            s = stats.setdefault(name, [0, 0.0, 0.0])
            s[0] += 1
            s[1] += dt - nested
            s[2] += dt
            if stack:
                stack[-1][2] += dt
            calls.append((len(stack), name, dt))

    event.register("numba:compile", Profile())  # CPU seconds of this thread: steadier than wall
    # time on a loaded machine (numba compiles in the calling thread)

    from textmine.cli import cli

    argv = argv + ["-q"] if "-q" not in argv else argv
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        cli.main(argv, prog_name="textmine", standalone_mode=False)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = sorted(stats.items(), key=lambda kv: -kv[1][1])
    total = sum(s[1] for s in stats.values())
    print(f"{'kernel':<48} {'n':>3} {'excl s':>7} {'incl s':>7}")
    for name, (n, excl, incl) in rows[:top]:
        print(f"{name:<48} {n:>3} {excl:7.2f} {incl:7.2f}")
    rest = rows[top:]
    if rest:
        print(f"{'(%d more)' % len(rest):<48} {sum(s[0] for _, s in rest):>3} {sum(s[1] for _, s in rest):7.2f}")
    if tree:  # each compile under the one that triggered it (callers are printed after callees)
        print()
        for depth, name, dt in calls:
            if dt >= 0.05:
                print(f"{'  ' * depth}{name} {dt:.2f}")
    print(f"compile total {total:.2f} s over {sum(s[0] for s in stats.values())} specialisations; "
          f"process CPU {cpu:.2f} s, wall {wall:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
