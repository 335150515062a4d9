#!/usr/bin/env python3
"""Times the lived-in demo's first start, as BENCHMARKS.md reports it.

Usage: scripts/demo-start.py [BINARY] [RUNS]   (default target/release/querywarden, 3 runs)

Each run starts `BINARY demo --data <fresh empty dir> --listen 127.0.0.1:0` and measures the
wall time from the process start to the banner's history line (`示範歷史`, which prints the
history's own time), the server's CPU (user and system of all its threads, from
/proc/<pid>/stat at that line) and the load average before and after, since wall time alone
is unfair on a shared machine. The server is then stopped and `audit verify` run on its data
directory. Linux only (/proc).
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/querywarden"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
tick = os.sysconf("SC_CLK_TCK")


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


for i in range(runs):
    data = os.path.join(tempfile.mkdtemp(prefix="qw-demo-start-"), "data")
    before = load()
    t0 = time.monotonic()
    server = subprocess.Popen(
        [binary, "demo", "--data", data, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    history = None
    for line in server.stdout:
        if "示範歷史" in line:
            history = line.strip()
            break
    wall = time.monotonic() - t0
    stat = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
    user, system = int(stat[11]) / tick, int(stat[12]) / tick
    after = load()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    verify = subprocess.run(
        ["/usr/bin/time", "-f", "verify: wall %e s, user %U s, sys %S s", binary,
         "audit", "verify", "--data", data],
        capture_output=True,
        text=True,
    )
    print(f"run {i + 1}: wall {wall:.2f} s, CPU user {user:.2f} s + sys {system:.2f} s, "
          f"load {before} -> {after}")
    print(f"  {history}")
    print(f"  audit verify exit {verify.returncode}: {verify.stdout.strip()}")
    print(f"  {verify.stderr.strip()}")
