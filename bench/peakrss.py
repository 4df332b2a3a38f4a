#!/usr/bin/env python3
"""Peak memory of a command and all its child processes (Linux ``/proc``).

``measure(cmd)`` runs ``cmd`` and polls its process tree every ``interval`` seconds; it returns the
wall time, the exit status, the largest *sum* of the resident set sizes seen at one poll (what the
machine had to hold at once, all worker processes together), and the sum over processes of each
one's own peak (``VmHWM``, read at each poll: an upper bound that a short spike between polls cannot hide).
The root's ``ru_maxrss`` from ``wait4`` is reported but not used: Linux keeps a child's high-water
mark across ``exec``, so it starts at the spawning process's own size (a test runner's, say).

Usage: python bench/peakrss.py CMD [ARGS...]
"""
import os
import subprocess
import sys
import time


def _children():
    """``{pid: ppid}`` of every process (one pass over /proc)."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        out[int(name)] = int(rest[1])
    return out


def _mem(pid):
    """``(VmRSS, VmHWM)`` of a process in bytes, or None once it is gone."""
    rss = hwm = None
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except OSError:
        return None
    if rss is None:  # a zombie
        return None
    return rss, hwm


def measure(cmd, interval=0.05, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=None, cwd=None):
    """Run ``cmd``; returns a dict: ``seconds``, ``status``, ``stderr`` (text), ``peak_sum`` (largest
    sum of RSS over the tree at one poll), ``hwm_sum`` (sum of each process's peak RSS) and
    ``root_maxrss`` (bytes)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
    hwm = {}
    peak_sum = 0
    err_chunks = []
    if stderr == subprocess.PIPE:
        import threading

        t = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)
        t.start()
    while True:
        tree = {p.pid}
        try:
            parents = _children()
        except OSError:
            parents = {}
        grew = True
        while grew:
            grew = False
            for pid, ppid in parents.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        total = 0
        for pid in tree:
            m = _mem(pid)
            if m is not None:
                total += m[0]
                hwm[pid] = max(hwm.get(pid, 0), m[1] or 0)
        peak_sum = max(peak_sum, total)
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(interval)
    p.returncode = os.waitstatus_to_exitcode(status)
    if stderr == subprocess.PIPE:
        t.join()
        p.stderr.close()
    root = usage.ru_maxrss * 1024
    return {"seconds": time.perf_counter() - t0, "status": p.returncode,
            "stderr": b"".join(err_chunks).decode("utf-8", "replace"),
            "peak_sum": peak_sum, "hwm_sum": sum(hwm.values()), "root_maxrss": root}


if __name__ == "__main__":
    r = measure(sys.argv[1:], stderr=None)
    print(f"{r['seconds']:.2f} s, exit {r['status']}, peak RSS (sum over processes) {r['peak_sum'] / 2**20:.0f} MiB, "
          f"sum of peaks {r['hwm_sum'] / 2**20:.0f} MiB", file=sys.stderr)
