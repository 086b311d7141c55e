"""sitegate as one of compare_engines.py's engines: its pack, its run, its report.

The loop's checks are written as a sitegate policy pack in
``engines/sitegate-checks/`` (tables as data, every rule citing
baseline_loop.py with low confidence). sitegate runs the way a user runs it:
``sitegate audit FLEET --policy-dir engines/sitegate-checks --target 99 -f json
-o REPORT --jobs N``, as a child process from its own virtual environment, so
its CPU time is the child's user + system time (``os.wait4``), start-up and
policy loading included. The pack applies to ITMS ``>=99,<100``, a range no
bundled pack covers, so ``--target 99`` selects it alone.

Which (host, check) pairs failed is read back from the JSON report: rule
``BENCH-AGENT-VERSION-SUPPORTED`` is the loop's check ``agent_version_supported``
(:func:`rule_id`), a host is its record's line number.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

import baseline_loop as bl

HERE = Path(__file__).resolve().parent
PACK_DIR = HERE / "engines" / "sitegate-checks"
#: A version only the benchmark pack applies to.
TARGET = "99"
#: The loop's checks the pack does not have as rules, and why.
LEFT_OUT: dict[str, str] = {
    "product_type_known": (
        "the facts schema's enum: a product type other than workstation, server or "
        "domain_controller makes the record invalid input, rejected before any rule runs"
    ),
    "service_version_matches": (
        "not expressible: it needs 'every element of site_services.installed has version == "
        "agent.version', and sitegate's conditions have no test over each element of a list "
        "of objects (fact paths stop at objects; derived facts carry service names only)"
    ),
}


def rule_id(check: str) -> str:
    """The pack's rule id for one of the loop's checks (``memory_8g`` -> ``BENCH-MEMORY-8G``)."""
    return "BENCH-" + check.upper().replace("_", "-")


RULE_CHECK: dict[str, str] = {rule_id(c): c for c in bl.CHECKS if c not in LEFT_OUT}


@dataclass
class ReportReading:
    """What a sitegate JSON report says, in the loop's terms."""

    hosts: int = 0  # evaluated (not rejected)
    rejected: dict[int, str] = field(default_factory=dict)  # line -> diagnostic codes
    fails: list[int] = field(default_factory=lambda: [0] * bl.N)
    unknown: list[int] = field(default_factory=lambda: [0] * bl.N)
    pairs: set[tuple[int, str]] = field(default_factory=set)  # (line, check) that failed
    summary: dict[str, Any] = field(default_factory=dict)
    packs: list[str] = field(default_factory=list)


def _add_host(out: ReportReading, host: dict[str, Any], want_pairs: bool, bundled: bool = False) -> None:
    line = host["line"]
    if host.get("rejected"):
        out.rejected[line] = ",".join(sorted({d.get("code", "?") for d in host.get("diagnostics") or ()}))
        return
    out.hosts += 1
    if bundled:  # other rules than the loop's checks: hosts are counted, findings not mapped
        return
    index = bl.CHECKS.index
    for f in host.get("findings") or ():
        check = RULE_CHECK.get(f["rule_id"])
        if check is None:
            raise ValueError(f"rule {f['rule_id']} in the report is not one of the benchmark pack's")
        if f["outcome"] == "fail":
            out.fails[index(check)] += 1
            if want_pairs:
                out.pairs.add((line, check))
        elif f["outcome"] == "unknown":
            out.unknown[index(check)] += 1


def read_report(path: str, *, want_pairs: bool = True, bundled: bool = False) -> ReportReading:
    """Read a ``sitegate audit -f json`` report without holding it in memory.

    The report writes one host per line (hundreds of MB for 250,000 hosts), so
    host lines are parsed one by one and the rest (header, summary) as a JSON
    document with an empty host list. The number of hosts read must equal the
    summary's ``hosts_read``: a report laid out differently is read whole (small
    files) or is an error, never a silently short count.
    """
    out = ReportReading()
    skeleton: list[bytes] = []
    with open(path, "rb") as fh:
        for raw in fh:
            s = raw.strip()
            if s.startswith(b'{"name"'):
                _add_host(out, orjson.loads(s[:-1] if s.endswith(b",") else s), want_pairs, bundled)
            else:
                skeleton.append(raw)
    try:
        doc = json.loads(b"".join(skeleton))
        ok = not doc.get("hosts") and out.hosts + len(out.rejected) == doc["summary"]["hosts_read"]
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        if os.path.getsize(path) > 200 << 20:
            raise ValueError(f"{path}: not laid out one host per line; too large to read whole")
        out = ReportReading()
        doc = orjson.loads(Path(path).read_bytes())
        for host in doc["hosts"]:
            _add_host(out, host, want_pairs, bundled)
        if out.hosts + len(out.rejected) != doc["summary"]["hosts_read"]:
            raise ValueError(f"{path}: {out.hosts + len(out.rejected)} hosts listed, summary says "
                             f"{doc['summary']['hosts_read']}")
    out.summary = doc["summary"]
    out.packs = [p["id"] for p in doc.get("run", {}).get("packs", [])]
    return out


#: The target of a run with the bundled packs instead of the benchmark pack (``bundled``).
BUNDLED_TARGET = "8.7.3"


def command(sitegate: str, fleet: str, report: str, jobs: int, *, bundled: bool = False) -> list[str]:
    """The audit as a user types it (progress off: stderr is not a terminal anyway);
    ``bundled``: the bundled ITMS packs at BUNDLED_TARGET instead of the benchmark pack."""
    packs = ["--target", BUNDLED_TARGET] if bundled else ["--policy-dir", str(PACK_DIR), "--target", TARGET]
    return [sitegate, "audit", fleet, *packs, "-f", "json", "-o", report, "--jobs", str(jobs), "--no-progress"]


@dataclass
class ChildRun:
    """One sitegate run: the child's CPU (user + system, its workers included), wall time
    and peak RSS, and what its report says."""

    cpu: float
    wall: float
    max_rss_mb: float
    exit_code: int
    reading: ReportReading


def child_env() -> dict[str, str]:
    """The environment sitegate runs in here: bytecode cached, as an installed sitegate has it.

    pip compiles a wheel's modules when it installs them. An editable install in
    an environment that sets ``PYTHONDONTWRITEBYTECODE`` (this container does)
    compiles every sitegate module from source at each start instead: about
    0.1 s of CPU that no installed user pays. So the child may write bytecode,
    into a cache of its own outside the checkout; the first run fills it (the
    benchmarks take the lowest or the median of several runs).
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "sitegate-bench-pycache"))
    return env


def run_audit(sitegate: str, fleet: str, jobs: int = 1, *, want_pairs: bool = False,
              nice: int = 0, bundled: bool = False) -> ChildRun:
    """Run ``sitegate audit`` on fleet as a child process and read its report.

    Raises RuntimeError when the run did not evaluate the pack (policy or usage
    errors, no report): exit code 2 alone is expected, since a generated fleet has
    deliberately broken records, which sitegate rejects and reports.
    """
    fd, report = tempfile.mkstemp(prefix="sitegate-report-", suffix=".json")
    os.close(fd)
    err = tempfile.TemporaryFile()
    try:
        argv = command(sitegate, fleet, report, jobs, bundled=bundled)
        if nice:
            argv = ["nice", "-n", str(nice), *argv]
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=child_env())
        # wait4, not Popen.wait: the rusage of this child alone (its reaped workers included)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        if proc.returncode not in (0, 1, 2) or os.path.getsize(report) == 0:
            raise RuntimeError(f"sitegate exited {proc.returncode} without a report:\n{stderr[-2000:]}")
        reading = read_report(report, want_pairs=want_pairs and not bundled, bundled=bundled)
        wrong_packs = (not reading.packs or "bench-baseline-checks" in reading.packs) if bundled else reading.packs != ["bench-baseline-checks"]
        if wrong_packs or not reading.hosts:
            raise RuntimeError(f"sitegate did not evaluate the benchmark pack (packs {reading.packs}, "
                               f"{reading.hosts} hosts evaluated):\n{stderr[-2000:]}")
        return ChildRun(ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss / 1024, proc.returncode, reading)
    finally:
        err.close()
        os.unlink(report)


def interpreter(sitegate: str) -> list[str]:
    """argv prefix that runs the sitegate console script under an ELF interpreter
    (valgrind needs one): the script's ``#!`` line, then the script."""
    with open(sitegate, "rb") as fh:
        first = fh.readline().decode("utf-8", "replace").strip()
    if first.startswith("#!"):
        return [*first[2:].split(), sitegate]
    return [sitegate]
