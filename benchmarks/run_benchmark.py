#!/usr/bin/env python3
"""Benchmark ``sitegate audit`` on generated fleets of 1k, 10k, 100k and 250k hosts.

For each size: generate the fleet (benchmarks/generate_fleet.py, seed 1), run

    sitegate audit FILE --target 8.7.3 -f json -o out.json --jobs 1

in a child process, and print wall seconds, hosts/s, microseconds per host and
the child's peak RSS (resource.getrusage(RUSAGE_CHILDREN) after each run: one
fresh child per run, so ru_maxrss is that run's). Then the hand-written
baseline loop (benchmarks/baseline_loop.py) on the largest fleet, and the
largest fleet again with --jobs 2. Machine details come first.

    python benchmarks/run_benchmark.py [--sizes 1000,10000,100000,250000] [--workdir DIR] [--repeat N]
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sitegate_engine import child_env  # bytecode cached, as an installed sitegate has it

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(cmd: list[str]) -> tuple[float, int, int, str, float]:
    """Wall time, peak RSS (KiB), exit code, output tail and CPU seconds (user + system,
    workers included) of cmd, run from a fresh helper process so RUSAGE_CHILDREN is
    that one run's own."""
    helper = (
        "import resource,subprocess,sys,time\n"
        "t=time.perf_counter()\n"
        "p=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE,stderr=subprocess.PIPE)\n"
        "w=time.perf_counter()-t\n"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "sys.stdout.write(f'{w} {r.ru_maxrss} {p.returncode} {r.ru_utime+r.ru_stime}\\n')\n"
        "sys.stdout.write((p.stdout+p.stderr).decode('utf-8','replace')[-300:])\n"
    )
    proc = subprocess.run([sys.executable, "-c", helper, *cmd], stdout=subprocess.PIPE, text=True, env=child_env())
    head, _, tail = proc.stdout.partition("\n")
    wall, rss, code, cpu = head.split()
    return float(wall), int(rss), int(code), tail, float(cpu)


def sitegate_cmd(fleet: Path, out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "sitegate.cli.main", "audit", str(fleet), "--target", "8.7.3", "-f", "json", "-o", str(out), "--jobs", str(jobs), "--no-progress"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000,250000")
    ap.add_argument("--workdir", default=None, help="where fleets and reports go (default: a temporary directory)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest is reported")
    ap.add_argument("--jobs2", action=argparse.BooleanOptionalAction, default=True, help="also run the largest fleet with --jobs 2")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="sitegate-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    print(f"machine: {cpu_model()}; {os.cpu_count()} logical CPU(s); {platform.system()} {platform.release()}")
    print(f"python: {platform.python_implementation()} {platform.python_version()}")
    try:
        load = os.getloadavg()
        print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    except OSError:
        pass
    rules = subprocess.run([sys.executable, "-m", "sitegate.cli.main", "policies", "list"], stdout=subprocess.PIPE, text=True).stdout
    print("policy packs:\n" + "".join("  " + line + "\n" for line in rules.splitlines()))

    rows = []
    fleets = {}
    for n in sizes:
        fleet = work / f"fleet-{n}.jsonl"
        if not fleet.exists():
            subprocess.run([sys.executable, str(HERE / "generate_fleet.py"), "--hosts", str(n), "--seed", "1", "--out", str(fleet)], check=True, stdout=subprocess.DEVNULL)
        fleets[n] = fleet
        out = work / f"report-{n}.json"
        best = None
        for _ in range(args.repeat):
            r = measure(sitegate_cmd(fleet, out, 1))
            if best is None or r[0] < best[0]:
                best = r
        assert best is not None
        wall, rss, code, tail, cpu = best
        if code not in (0, 1, 2):
            print(f"sitegate failed on {n} hosts (exit {code}):\n{tail}", file=sys.stderr)
            return 1
        size_mb = out.stat().st_size / 1e6
        rows.append((f"{n:,}", "1", wall, n / wall, wall / n * 1e6, rss / 1024, size_mb, cpu))

    largest = max(sizes)
    if args.jobs2:
        out = work / f"report-{largest}-j2.json"
        wall, rss, code, tail, cpu = measure(sitegate_cmd(fleets[largest], out, 2))
        rows.append((f"{largest:,}", "2", wall, largest / wall, wall / largest * 1e6, rss / 1024, out.stat().st_size / 1e6, cpu))

    print(f"{'hosts':>9} {'jobs':>4} {'seconds':>8} {'hosts/s':>9} {'us/host':>8} {'CPU s':>7} {'peak RSS MB':>11} {'report MB':>9}")
    for hosts, jobs, wall, hps, us, rss_mb, size_mb, cpu in rows:
        print(f"{hosts:>9} {jobs:>4} {wall:>8.2f} {hps:>9,.0f} {us:>8.1f} {cpu:>7.2f} {rss_mb:>11.0f} {size_mb:>9.0f}")

    t = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / "baseline_loop.py"), str(fleets[largest])], stdout=subprocess.PIPE, text=True)
    base_wall = time.perf_counter() - t
    m = re.search(r"seconds:\s*([0-9.]+)", proc.stdout)
    loop_s = float(m.group(1)) if m else base_wall
    ours = next(r for r in rows if r[0] == f"{largest:,}" and r[1] == "1")[2]
    print(f"baseline loop (benchmarks/baseline_loop.py, {largest:,} hosts): {loop_s:.2f} s in the loop, {base_wall:.2f} s with interpreter start;"
          f" sitegate --jobs 1 is {ours / base_wall:.1f}x that (no evidence, messages, report or policy loading in the loop)")
    by_size = {r[0]: r for r in rows if r[1] == "1"}
    if f"{10_000:,}" in by_size and f"{largest:,}" in by_size and largest != 10_000:
        a, b = by_size[f"{10_000:,}"][4], by_size[f"{largest:,}"][4]
        print(f"per-host time at {largest:,} vs 10,000: {b / a:.2f}x")
    print(f"files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
