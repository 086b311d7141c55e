#!/usr/bin/env python3
"""Where an audit's instructions go, stage by stage, counted by callgrind.

Runs the same library calls ``sitegate audit FLEET -f json`` makes, cut off
after each stage, under ``valgrind --tool=callgrind``, on the first N lines and
on the first N/5 lines of a fleet; the difference divided by the lines between
is a stage's instructions per host (start-up, imports and policy loading cancel
out). Instruction counts are the same on every run, unlike seconds on a shared
VM. The stages are cumulative:

1. ``read``: read the file, decode and validate each record (msgspec, the
   duplicate-key proof, positions), derive the facts the rules read;
2. ``evaluate``: 1 + run the rules, build findings and host results, count the
   totals (no output);
3. ``report``: 2 + render the JSON report and write it (what ``audit`` does).

    python benchmarks/stages.py FLEET.jsonl [--lines 2500] [--bundled]

By default the benchmark pack of compare_engines.py (``--policy-dir
engines/sitegate-checks --target 99``); ``--bundled``: the bundled packs at 8.7.3.
Needs valgrind; takes a few minutes (callgrind runs Python ~50x slower).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sitegate_engine import BUNDLED_TARGET, PACK_DIR, TARGET, child_env  # noqa: E402

STAGES = ("read", "evaluate", "report")
COLLECTED = re.compile(rb"Collected\s*:\s*([0-9,]+)")


def run_stage(stage: str, fleet: str, bundled: bool, tune_gc: bool = True) -> None:
    """One stage (and those before it) on fleet, in this process, as ``audit --jobs 1`` runs it
    (``tune_gc``: the collector set as the CLI sets it, a process-wide change)."""
    target = BUNDLED_TARGET if bundled else TARGET
    policy_dirs = () if bundled else (str(PACK_DIR),)
    if stage == "read":
        import gc

        from sitegate.engine.evaluate import as_items
        from sitegate.engine.rules import derived_needed
        from sitegate.engine.run import load_for_run, read_inputs

        policies, _, errors = load_for_run(list(policy_dirs), [])
        assert not errors, errors
        only = derived_needed(policies, target)
        if tune_gc:  # as RunOptions(tune_gc=True) does
            gc.freeze()
            gc.set_threshold(100_000, 50, 100)
        for _ in as_items(read_inputs([fleet], None, None, True, meter=[0], derive_only=only), expand_blocks=True, derive_only=only):
            pass
        return
    from sitegate.engine.render import Format, RenderOptions
    from sitegate.engine.run import RunOptions, run

    r = run([fleet], RunOptions(
        target=target, policy_dirs=policy_dirs, tune_gc=tune_gc,
        outputs=((Format.JSON, RenderOptions()),) if stage == "report" else (),
    ))
    with open(os.devnull, "wb") as out:
        for item in r:
            for part in item.parts:
                out.write(part if isinstance(part, bytes) else part.encode("utf-8"))


def count(stage: str, fleet: str, bundled: bool) -> int:
    argv = [sys.executable, str(Path(__file__).resolve()), "--run-stage", stage, fleet] + (["--bundled"] if bundled else [])
    subprocess.run(argv, check=True, env=child_env())  # fills the bytecode cache, not counted
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(child_env(), PYTHONHASHSEED="0"))
    m = COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"callgrind failed for {stage}:\n{proc.stderr[-2000:].decode('utf-8', 'replace')}")
    return int(m.group(1).replace(b",", b""))


def head(src: str, n: int, tmp: str) -> str:
    out = os.path.join(tmp, f"head-{n}.jsonl")
    with open(src, "rb") as fh, open(out, "wb") as wh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            wh.write(line)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fleet")
    ap.add_argument("--lines", type=int, default=2500)
    ap.add_argument("--bundled", action="store_true", help=f"the bundled packs at {BUNDLED_TARGET}")
    ap.add_argument("--run-stage", choices=STAGES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_stage:
        run_stage(args.run_stage, args.fleet, args.bundled)
        return 0
    small = args.lines // 5
    with tempfile.TemporaryDirectory(prefix="sitegate-stages-") as tmp:
        a, b = head(args.fleet, small, tmp), head(args.fleet, args.lines, tmp)
        per_host: dict[str, float] = {}
        for stage in STAGES:
            per_host[stage] = (count(stage, b, args.bundled) - count(stage, a, args.bundled)) / (args.lines - small)
    packs = f"bundled packs at {BUNDLED_TARGET}" if args.bundled else "the benchmark pack (compare_engines.py)"
    print(f"instructions per host, {packs}: lines {small + 1}-{args.lines} of {args.fleet}")
    prev = 0.0
    for stage in STAGES:
        print(f"  {stage:9s} {per_host[stage] - prev:10,.0f}   (cumulative {per_host[stage]:,.0f})")
        prev = per_host[stage]
    return 0


if __name__ == "__main__":
    sys.exit(main())
