#!/usr/bin/env python3
"""bench/measure.py RUNS OUTFILE CMD...: runs CMD RUNS times (stdout to
OUTFILE, stderr passed through) and prints "MEDIAN_SECONDS MAX_RSS_KIB".
Peak memory is ru_maxrss of the children (getrusage(RUSAGE_CHILDREN)),
i.e. the largest resident set any run reached."""
import resource, statistics, subprocess, sys, time

runs, outfile, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
times = []
for _ in range(runs):
    with open(outfile, "w") as out:
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, stdout=out)
        times.append(time.perf_counter() - t0)
    if rc:
        sys.exit("measure: %s exited %d" % (cmd[0], rc))
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("%.3f %d" % (statistics.median(times), rss))
