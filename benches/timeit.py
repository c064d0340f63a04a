#!/usr/bin/env python3
"""Run commands N times and print their wall time (median, min, p90) in milliseconds.

Usage: timeit.py LABEL N CMD [ARG...]
       timeit.py --interleave N LABEL CMD [ARG...] :: LABEL CMD [ARG...] :: ...
stdout/stderr of CMD are discarded. With --interleave the commands take turns, run by run,
so a burst of load on a shared machine falls on all of them alike instead of on one.
Peak memory is measured in one extra run under GNU time (`/usr/bin/time -f %M`): a fork from
Python would otherwise report Python's own RSS, copied into the child before exec.
"""
import statistics
import subprocess
import sys
import time


def run_once(label, cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = (time.perf_counter() - t) * 1000
    if r.returncode != 0:
        sys.exit(f"{label}: {cmd} exited {r.returncode}")
    return elapsed


def report(label, cmd, times):
    times = sorted(times)
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    rss_mib = int(r.stderr.strip().splitlines()[-1]) / 1024
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(f"{label:<44} median {statistics.median(times):8.2f} ms   min {times[0]:8.2f}   "
          f"p90 {p90:8.2f}   maxrss {rss_mib:6.1f} MiB", flush=True)


def main(argv):
    if argv and argv[0] == "--interleave":
        n = int(argv[1])
        groups, cur = [], []
        for a in argv[2:] + ["::"]:
            if a == "::":
                if len(cur) < 2:
                    sys.exit("each group needs a label and a command")
                groups.append((cur[0], cur[1:]))
                cur = []
            else:
                cur.append(a)
    else:
        if len(argv) < 3:
            sys.exit(__doc__)
        n, groups = int(argv[1]), [(argv[0], argv[2:])]
    times = [[] for _ in groups]
    for _ in range(n):
        for i, (label, cmd) in enumerate(groups):
            times[i].append(run_once(label, cmd))
    for (label, cmd), ts in zip(groups, times):
        report(label, cmd, ts)


main(sys.argv[1:])
