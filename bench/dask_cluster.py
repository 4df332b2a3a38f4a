"""count and discover-words on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on 127.0.0.1, started here, against the local engine on the same input.

Checks that the outputs are byte-identical, and that a worker killed in the middle of a run is
survived (Dask re-runs its tasks on the other worker; a new worker joins) with identical output.

    PYTHONPATH=. python bench/dask_cluster.py [--corpus FILE] [--repeat 4]

The corpus defaults to ../shared/data/raw/*.txt (the first file) repeated --repeat times into a
temporary folder. Only loopback addresses are used.
"""
import argparse
import hashlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, log):
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))


def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def run(args, out):
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "textmine", *args, "-o", str(out), "-q"], capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if p.returncode != 0:
        raise SystemExit(f"textmine {' '.join(args)} failed: {p.stderr}")
    return time.perf_counter() - t, hashlib.sha256(out.read_bytes()).hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus")
    ap.add_argument("--repeat", type=int, default=4)
    a = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="textmine-dask-bench-"))
    src = pathlib.Path(a.corpus) if a.corpus else sorted((SHARED / "raw").glob("*.txt"))[0]
    corpus = work / "corpus.txt"
    text = src.read_bytes()
    corpus.write_bytes(text * a.repeat)
    print(f"corpus: {src.name} x{a.repeat} = {corpus.stat().st_size / 1e6:.1f} MB")
    port = free_port()
    addr = f"tcp://127.0.0.1:{port}"
    log = open(work / "cluster.log", "w")
    procs = [start(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], log)]
    time.sleep(3)

    def worker():
        return start(["dask", "worker", addr, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                      "--no-dashboard", "--memory-limit", "4GB"], log)

    procs += [worker(), worker()]
    time.sleep(5)
    jobs = [("count", ["count", "-t", "ngram", "--n", "4", str(corpus)]),
            ("discover-words", ["discover-words", str(corpus), "--memory-limit", "64M"])]
    rows = []
    try:
        for name, args in jobs:
            t_local, h_local = run(args + ["-j", "2"], work / f"{name}.local")
            t_dask, h_dask = run(args + ["--engine", "dask", "--scheduler", addr], work / f"{name}.dask")
            # the same run again, with one worker killed a few seconds in and a new one started
            out = work / f"{name}.killed"
            t0 = time.perf_counter()
            p = subprocess.Popen([sys.executable, "-m", "textmine", *args, "--engine", "dask", "--scheduler", addr,
                                  "-o", str(out), "-q"], stderr=subprocess.PIPE, text=True,
                                 env=dict(os.environ, PYTHONPATH=str(ROOT)))
            time.sleep(max(1.0, 0.4 * t_dask))
            stop(procs[1])
            procs[1] = worker()
            err = p.communicate()[1]
            t_killed = time.perf_counter() - t0
            h_killed = hashlib.sha256(out.read_bytes()).hexdigest()[:16] if p.returncode == 0 else f"exit {p.returncode}"
            rows.append((name, t_local, h_local, t_dask, h_dask, t_killed, h_killed, err.strip()[-200:]))
    finally:
        for p in procs:
            stop(p)
        log.close()
    print("| command | local -j 2 s | sha256 | dask (2 workers) s | sha256 | worker killed s | sha256 |")
    print("|---|---|---|---|---|---|---|")
    for name, tl, hl, td, hd, tk, hk, _ in rows:
        print(f"| {name} | {tl:.1f} | {hl} | {td:.1f} | {hd} | {tk:.1f} | {hk} |")
    for name, _, hl, _, hd, _, hk, err in rows:
        same = hl == hd == hk
        print(f"{name}: {'identical' if same else 'DIFFERENT'}" + (f" (stderr: {err})" if err else ""))


if __name__ == "__main__":
    main()
