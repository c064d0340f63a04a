#!/usr/bin/env python3
"""Run a command N times and print its wall time (median, min, p90) in milliseconds.

Usage: timeit.py LABEL N CMD [ARG...]   (stdout/stderr of CMD are discarded)
Peak memory is measured in one extra run under GNU time (`/usr/bin/time -f %M`): a fork from
Python would otherwise report Python's own RSS, copied into the child before exec.
"""
import statistics
import subprocess
import sys
import time

label, n, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for _ in range(n):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - t) * 1000)
    if r.returncode != 0:
        sys.exit(f"{label}: {cmd} exited {r.returncode}")
times.sort()
r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
rss_mib = int(r.stderr.strip().splitlines()[-1]) / 1024
p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
print(f"{label:<44} median {statistics.median(times):8.2f} ms   min {times[0]:8.2f}   p90 {p90:8.2f}   maxrss {rss_mib:6.1f} MiB")
