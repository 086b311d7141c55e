"""The bad-input corpus: every file through every command.

``tests/corpus/manifest.yaml`` names each file with the exit code of
``sitegate check`` (or ``policies validate`` for packs), where the error is
(``file:line:col``) and a piece of its message. Each file is run through
``check``, ``audit`` and ``import`` (when this build has them) and, for packs,
``policies validate`` and ``check --policy-dir``. No run may print a traceback.
Big and binary cases (a 100 MB line, a 10,000-host fleet, random bytes) are
generated in a temporary directory, never committed.

Most runs go through the console entry point in this process
(``conftest.run_in_process``: the same ``run()``, argv and exit-code mapping
as the installed command, bounded in time by an alarm), which costs
milliseconds instead of half a second of interpreter start per run. The cases
whose point is a bounded memory (``SUBPROCESS``: the 100 MB lines and the
10,000-host fleets) run as real subprocesses under RLIMIT_AS, and
``WITNESSES`` run both ways, to show the two give the same exit code and the
same messages (encodings, a policy error, CSV).

Expected exit codes: 2 for bad input, on every command; for files that load
(UTF-16, BOM, CRLF...) ``check`` gives 0 or 1 (the manifest says which) and
the other commands give 0 or 1, never 2.
"""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .conftest import InProcessTimeout, run_in_process

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))
MEMORY_LIMIT = 2 << 30  # bytes of address space per sitegate process
TIMEOUT = 90  # seconds per sitegate process
TARGET = "8.7.3"


# Cases whose point is bounded memory on a big input: real subprocesses under RLIMIT_AS.
SUBPROCESS = frozenset({
    "facts/100mb-line.jsonl",
    "facts/100mb-string.json",
    "csv/100mb-line.csv",
    "facts/fleet-10000-one-corrupt.jsonl",
    "facts/fleet-10000-one-corrupt.json",
})
# (case, command) runs made a second time as a real subprocess, to compare with the
# in-process run: the encodings, a syntax error, a bad CSV, a policy error.
WITNESSES = (
    ("facts/utf16le-bom.json", "check"),
    ("facts/utf16le-bom.jsonl", "import"),
    ("facts/windows-1252.json", "check"),
    ("facts/truncated.json", "audit"),
    ("csv/unterminated-quote.csv", "check"),
    ("policies/python-object-tag.yaml", "validate"),
    ("policies/utf16le-bom.yaml", "check"),
)


def _limit_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@dataclass
class Run:
    """One sitegate invocation and what it did."""

    command: str
    args: list[str]
    subprocess: bool = False
    code: int = -1
    out: str = ""
    err: str = ""
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.out + self.err

    @cached_property
    def report(self) -> dict[str, Any]:
        """stdout parsed as the JSON report (parsed once: a 10,000-host one is big)."""
        return json.loads(self.out)  # type: ignore[no-any-return]

    def describe(self) -> str:
        return f"sitegate {' '.join(self.args)} -> {self.code}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}"


def sitegate(*args: str, cwd: Path = REPO, timeout: int = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sitegate.cli.main`` with the memory limit and a timeout."""
    return subprocess.run(
        [sys.executable, "-m", "sitegate.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=timeout,
        preexec_fn=_limit_memory,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"},
    )


@lru_cache(maxsize=None)
def command_help(*words: str) -> str | None:
    """The --help text of a subcommand, or None when this build does not have it."""
    proc = run_in_process(*words, "--help", timeout=60)
    return proc.stdout if proc.returncode == 0 else None


# ---------------------------------------------------------------- generated cases

def _host(name: str, **kw: object) -> dict[str, object]:
    h: dict[str, object] = {
        "name": name,
        "os": {"caption": "Microsoft Windows Server 2019 Standard", "build": 17763, "product_type": "server", "architecture": "x64"},
        "dotnet": {"release": 528449},
        "hardware": {"memory_mb": 16384, "logical_processors": 8},
        "platform": {"itms_version": TARGET},
        "site_services": {"installed": [{"service": "task", "version": "8.7.3264.0"}]},
    }
    h.update(kw)
    return h


def _gen_100mb_line_jsonl(path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(_host("TS-A-01")) + "\n")
        fh.write('{"name": "TS-LONG", "os": {"caption": "')
        chunk = "A" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write('"}}\n')
        fh.write(json.dumps(_host("TS-C-03")) + "\n")


def _gen_100mb_string_json(path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[" + json.dumps(_host("TS-A-01")) + ', {"name": "TS-LONG", "os": {"caption": "')
        chunk = "A" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write('"}}, ' + json.dumps(_host("TS-C-03")) + "]")


def _gen_100mb_line_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("name,os_caption,os_build,itms_version\nTS-A-01,Windows Server 2019,17763,8.7.3\nTS-LONG,")
        chunk = "A" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write(",17763,8.7.3\nTS-C-03,Windows Server 2019,17763,8.7.3\n")


def _fleet(n: int, bad: int) -> list[str]:
    lines = [json.dumps(_host(f"TS-{i:05d}")) for i in range(n)]
    lines[bad] = lines[bad].replace('"memory_mb": 16384', '"memory_mb": "16 GB"')
    return lines


def _gen_fleet_jsonl(path: Path) -> None:
    path.write_text("\n".join(_fleet(10_000, 5_000)) + "\n", encoding="utf-8")


def _gen_fleet_json(path: Path) -> None:
    path.write_text('{"hosts": [\n' + ",\n".join(_fleet(10_000, 5_000)) + "\n]}\n", encoding="utf-8")


def _gen_binary(path: Path) -> None:
    rnd = random.Random(7)  # fixed: the same garbage every run
    path.write_bytes(bytes(rnd.randrange(256) for _ in range(64 * 1024)))


def _gen_binary_after_good_line(path: Path) -> None:
    rnd = random.Random(11)
    garbage = bytes(rnd.randrange(256) for _ in range(4096)).replace(b"\n", b"")
    path.write_bytes((json.dumps(_host("TS-A-01")) + "\n").encode() + garbage + b"\n" + (json.dumps(_host("TS-C-03")) + "\n").encode())


def _gen_too_large_policy(path: Path) -> None:
    header = (CORPUS / "policies" / "valid.yaml").read_text(encoding="utf-8")
    path.write_text(header + "# padding\n" + ("#" + "x" * 1023 + "\n") * 3 * 1024, encoding="utf-8")


def _gen_deep_block_policy(path: Path) -> None:
    header = (CORPUS / "policies" / "valid.yaml").read_text(encoding="utf-8").split("rules:")[0]
    path.write_text(header + "extra:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 700)) + "  " * 700 + "v: 1\n", encoding="utf-8")


GENERATORS = {
    "100mb-line.jsonl": _gen_100mb_line_jsonl,
    "100mb-string.json": _gen_100mb_string_json,
    "100mb-line.csv": _gen_100mb_line_csv,
    "fleet-10000-one-corrupt.jsonl": _gen_fleet_jsonl,
    "fleet-10000-one-corrupt.json": _gen_fleet_json,
    "binary-garbage.json": _gen_binary,
    "binary-garbage.jsonl": _gen_binary_after_good_line,
    "binary-garbage.yaml": _gen_binary,
    "binary-garbage.csv": _gen_binary,
    "too-large.yaml": _gen_too_large_policy,
    "deep-block-nesting.yaml": _gen_deep_block_policy,
}


# ---------------------------------------------------------------- the runs

@dataclass
class Case:
    """One corpus file and every run of it."""

    key: str  # manifest key, e.g. facts/nan.json
    spec: dict[str, object]
    path: Path = field(default_factory=Path)
    runs: list[Run] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.key.split("/", 1)[0]


def _plan(case: Case, work: Path) -> list[Run]:
    """The invocations for one corpus file, according to its kind."""
    p = str(case.path)
    runs: list[Run] = []
    audit = command_help("audit")
    importer = command_help("import")
    out = work / (case.path.name + ".out.jsonl")

    def audit_args(*extra: str) -> list[str]:
        args = ["audit", *extra]
        if audit and "--target" in audit:
            args += ["--target", TARGET]
        return args

    only = case.spec.get("commands")  # big generated cases: fewer commands, to stay fast

    def wanted(command: str) -> bool:
        return only is None or command in only  # type: ignore[operator]

    if case.kind == "facts":
        runs.append(Run("check", ["check", p, "--target", TARGET, "-f", "json"]))
        if audit is not None and wanted("audit"):
            runs.append(Run("audit", audit_args(p)))
        if importer is not None and wanted("import"):
            fmt = "jsonl" if case.path.suffix == ".jsonl" else "json"
            runs.append(Run("import", ["import", "--from", fmt, p, "-o", str(out)]))
    elif case.kind == "csv":
        runs.append(Run("check", ["check", "--input-format", "csv", p, "--target", TARGET, "-f", "json"]))
        if audit is not None and "--input-format" in audit and wanted("audit"):
            runs.append(Run("audit", audit_args("--input-format", "csv", p)))
        if importer is not None and wanted("import"):
            runs.append(Run("import", ["import", "--from", "csv", p, "-o", str(out)]))
    else:  # policies: each pack alone in its own --policy-dir
        d = str(case.path.parent)
        runs.append(Run("validate", ["policies", "validate", d]))
        # check/audit load packs exactly as validate does (load_policies): a few are enough.
        if case.spec.get("check"):
            runs.append(Run("check", ["check", "examples/fleet.json", "--target", TARGET, "--policy-dir", d, "-f", "json"]))
        if audit is not None and "--policy-dir" in audit and case.spec.get("check"):
            runs.append(Run("audit", audit_args("examples/fleet.json", "--policy-dir", d)))
    return runs


def _execute(run: Run) -> Run:
    started = time.monotonic()
    try:
        proc = sitegate(*run.args) if run.subprocess else run_in_process(*run.args, timeout=TIMEOUT)
        run.code, run.out, run.err = proc.returncode, proc.stdout, proc.stderr
        if run.command == "check" and run.out.lstrip().startswith("{"):
            # Warnings only reach the JSON report: add them as the table would print them.
            try:
                report = run.report
            except ValueError:
                report = {}
            ds = list(report.get("summary", {}).get("diagnostics", []))
            ds += [d for h in report.get("hosts", []) for d in h.get("diagnostics", [])]
            run.err += "".join(f"\n{d['source']}:{d['line']}:{d['column']}: {d['level']}: {d['message']}" for d in ds)
    except InProcessTimeout:
        run.timed_out = True
    except subprocess.TimeoutExpired as exc:
        run.timed_out = True
        run.out = (exc.stdout or b"").decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    run.seconds = time.monotonic() - started
    return run


@pytest.fixture(scope="session")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Run every case once, two at a time (the suite has 2 cores), and keep the results."""
    work = tmp_path_factory.mktemp("corpus")
    cases: dict[str, Case] = {}
    for key, spec in MANIFEST.items():
        case = Case(key, spec)
        kind, name = key.split("/", 1)
        if spec.get("generated"):
            src = work / "generated" / kind / name
            src.parent.mkdir(parents=True, exist_ok=True)
            GENERATORS[Path(name).name](src)
        else:
            src = CORPUS / key
        if kind == "policies":
            # A pack directory of its own, so each file is judged alone.
            d = work / "packs" / Path(name).stem
            d.mkdir(parents=True)
            shutil.copyfile(src, d / Path(name).name)
            src = d / Path(name).name
        case.path = src
        case.runs = _plan(case, work)
        for run in case.runs:
            run.subprocess = key in SUBPROCESS
        cases[key] = case
    every = [r for c in cases.values() for r in c.runs]
    # The few subprocesses run in the background while this thread runs the rest
    # in-process, one at a time (the in-process runner swaps sys.stdout).
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(_execute, r) for r in every if r.subprocess]
        for r in every:
            if not r.subprocess:
                _execute(r)
        for f in pending:
            f.result()
    return cases


@pytest.fixture(scope="session")
def witness_runs(corpus_runs: dict[str, Case]) -> list[tuple[Run, Run]]:
    """(in-process run, the same run as a real subprocess) for each witness case."""
    pairs = []
    for key, command in WITNESSES:
        run = next(r for r in corpus_runs[key].runs if r.command == command)
        pairs.append((run, Run(run.command, list(run.args), subprocess=True)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(_execute, [t for _, t in pairs]))
    return pairs


def _as_list(v: object) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


@pytest.mark.parametrize("key", sorted(MANIFEST))
def test_corpus_file(key: str, corpus_runs: dict[str, Case]) -> None:
    case = corpus_runs[key]
    spec = case.spec
    expected = int(spec["exit"])  # type: ignore[arg-type]
    for run in case.runs:
        assert not run.timed_out, f"{key}: {run.command} did not finish in {TIMEOUT} s\n{run.describe()}"
        assert "Traceback" not in run.text, f"{key}: {run.command} printed a traceback\n{run.describe()}"
        assert "internal error" not in run.text, f"{key}: {run.command}\n{run.describe()}"
        if expected == 2:
            # `import` too: it writes the good records, but a rejection is bad input.
            assert run.code == 2, f"{key}: {run.command} should exit 2\n{run.describe()}"
            for where in _as_list(spec.get("where")):
                assert where in run.text, f"{key}: {run.command} does not name {where!r}\n{run.describe()}"
            for msg in _as_list(spec.get("message")):
                assert msg in run.text, f"{key}: {run.command} does not say {msg!r}\n{run.describe()}"
        else:
            primary = run.command in ("check", "validate") and (case.kind != "policies" or run.command == "validate")
            if primary:
                assert run.code == expected, f"{key}: {run.command} should exit {expected}\n{run.describe()}"
                for msg in _as_list(spec.get("message")):
                    assert msg in run.text, f"{key}: {run.command} does not say {msg!r}\n{run.describe()}"
            else:
                assert run.code in (0, 1), f"{key}: {run.command} loads this input: exit 0 or 1, not {run.code}\n{run.describe()}"
        if run.command == "check" and (case.kind != "policies" or run.code != 2):
            report = run.report
            if len(report["hosts"]) <= 50:  # jsonschema on a 10,000-host report costs half a minute
                jsonschema.Draft202012Validator(_report_schema()).validate(report)
            assert report["summary"]["exit_code"] == run.code
            hosts = spec.get("hosts")
            if hosts is not None and case.kind != "policies":
                s = report["summary"]
                got = [s["hosts_read"], s["hosts_evaluated"], s["hosts_rejected"]]
                assert got == hosts, f"{key}: hosts read/evaluated/rejected {got}, expected {hosts}"


@lru_cache(maxsize=None)
def _report_schema() -> dict[str, object]:
    return json.loads((REPO / "schemas" / "report.v2.schema.json").read_text(encoding="utf-8"))


def test_in_process_runs_match_real_subprocesses(witness_runs: list[tuple[Run, Run]]) -> None:
    """The in-process runner is only a faster way to run the same command: for the
    witness cases a real subprocess gives the same exit code, the same report and
    the same messages on stderr."""
    assert len(witness_runs) == len(WITNESSES)
    for inproc, real in witness_runs:
        assert not inproc.subprocess and real.subprocess
        assert real.code == inproc.code, f"in-process {inproc.describe()}\nsubprocess {real.describe()}"
        assert "Traceback" not in real.text, real.describe()
        if inproc.out.lstrip().startswith("{"):
            a, b = json.loads(inproc.out), json.loads(real.out)
            for report in (a, b):  # the clock is the one thing two runs may not share
                report["summary"].pop("finished_at")
            assert a["summary"] == b["summary"], real.describe()
            assert a["hosts"] == b["hosts"], real.describe()
        else:
            assert inproc.out == real.out, f"in-process {inproc.describe()}\nsubprocess {real.describe()}"
        assert inproc.err.splitlines() == real.err.splitlines(), f"in-process {inproc.describe()}\nsubprocess {real.describe()}"


def test_memory_bounded_cases_run_as_subprocesses(corpus_runs: dict[str, Case]) -> None:
    """The big inputs are held to RLIMIT_AS, which only a separate process can have."""
    for key in SUBPROCESS:
        assert key in MANIFEST, key
        assert corpus_runs[key].runs and all(r.subprocess for r in corpus_runs[key].runs), key
    assert sum(1 for c in corpus_runs.values() for r in c.runs if not r.subprocess) > 200


def test_manifest_covers_the_corpus() -> None:
    """Every committed corpus file has an expectation, and every expectation a file or generator."""
    committed = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file() and p.name != "manifest.yaml"}
    listed = {k for k, v in MANIFEST.items() if not v.get("generated")}
    assert committed == listed, f"unlisted: {sorted(committed - listed)}; missing: {sorted(listed - committed)}"
    for k, v in MANIFEST.items():
        assert v["exit"] in (0, 1, 2), k
        if v.get("generated"):
            assert Path(k).name in GENERATORS, k
        if v["exit"] == 2:
            assert v.get("where") and v.get("message"), f"{k}: a bad input names where and what"


def test_one_corrupt_host_in_10000_costs_only_itself(corpus_runs: dict[str, Case]) -> None:
    """The corrupt host is named with file:line (JSONL) or pointer (JSON); 9,999 hosts are evaluated."""
    for key in ("facts/fleet-10000-one-corrupt.jsonl", "facts/fleet-10000-one-corrupt.json"):
        run = next(r for r in corpus_runs[key].runs if r.command == "check")
        report = run.report
        s = report["summary"]
        assert (s["hosts_read"], s["hosts_evaluated"], s["hosts_rejected"]) == (10_000, 9_999, 1)
        (bad,) = [h for h in report["hosts"] if h.get("rejected")]
        d = bad["diagnostics"][0]
        assert bad["name"] == "TS-05000" and d["host"] == "TS-05000" and d["pointer"].endswith("/5000/hardware/memory_mb")
        assert d["line"] == (5001 if key.endswith(".jsonl") else 5002) and d["column"] > 1
        assert run.code == 2
