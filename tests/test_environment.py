"""No crash from the environment (issue 16, item 4): every CLI command under each failure of
its surroundings ends with a clear one-line message and exit 2 (or does its work), never
"internal error" and never a traceback.

Conditions: a full disk (stdout on a full device of the test's own, reports under a file-size
limit), stdout closed, a console that cannot encode the text (cp1252, Latin-1), a version
argument of thousands of digits, the working directory removed.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLES

FLEET = str(EXAMPLES / "fleet.json")
DIGITS = "1" + "0" * 5000


def _commands(tmp: Path) -> dict[str, list[str]]:
    """Every command, each writing to stdout (the default) where it has output (remediate
    writes its scripts to a folder and its summary to stdout)."""
    return {
        "check": ["check", FLEET, "--target", "8.7.3", "--audit-date", "2026-11-25"],
        "audit": ["audit", FLEET, "--target", "8.7.3", "--audit-date", "2026-11-25", "--no-progress"],
        "import": ["import", "--from", "json", FLEET],
        "collect": ["collect", "--print-script"],
        "policies-list": ["policies", "list"],
        "policies-show": ["policies", "show", "itms-8.7.3"],
        "policies-validate": ["policies", "validate"],
        "explain": ["explain", "ITMS-NET-48"],
        "schema": ["schema", "facts"],
        "version": ["--version"],
        "plan": ["plan", "--to", "8.7.3", FLEET, "--audit-date", "2026-11-25"],
        "remediate": ["remediate", FLEET, "--target", "8.7.3", "--audit-date", "2026-11-25", "-o", str(tmp / "scripts")],
        "policies-test": ["policies", "test", str(EXAMPLES / "policy-repo")],
    }


def _run(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, preexec: Any = None,
         stdout: Any = subprocess.PIPE, script: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "sitegate.cli.main", *args]
    return subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, preexec_fn=preexec, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=180, encoding="utf-8", errors="backslashreplace")


def _clean(proc: subprocess.CompletedProcess[str]) -> str:
    err = proc.stderr
    assert "Traceback" not in err and "internal error" not in err, err
    assert "Exception ignored" not in err, err
    return err


def _one_line_exit_2(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    err = _clean(proc)
    assert proc.returncode == 2, (proc.returncode, err)
    lines = [line for line in err.splitlines() if line.startswith(("sitegate: ", "Error: ", "invalid: "))]  # ours, a usage error, validate
    assert lines, err
    for n in needles:
        assert any(n in line for line in lines), err


def _full_device(tmp: Path) -> Path:
    dev = tmp / "full"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    return dev


@pytest.mark.parametrize("name", list(_commands(Path("."))))
def test_stdout_on_a_full_disk(name: str, tmp_path: Path) -> None:
    dev = _full_device(tmp_path)
    with open(dev, "w") as full:
        proc = _run(_commands(tmp_path)[name], stdout=full)
    _one_line_exit_2(proc, "No space left on device")
    assert stat.S_ISCHR(os.lstat(dev).st_mode)


def _fsize_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


@pytest.mark.parametrize("args", [
    ["check", FLEET, "--target", "8.7.3", "-o", "json={out}"],
    ["check", FLEET, "--target", "8.7.3", "-o", "json={out}", "-o", "sarif={out}.sarif"],
    ["audit", FLEET, "--target", "8.7.3", "--no-progress", "-o", "junit={out}"],
    ["import", "--from", "json", FLEET, "-o", "{out}"],
], ids=["check", "check-two-outputs", "audit", "import"])
def test_a_report_file_on_a_full_disk(args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out" / "r"
    out.parent.mkdir()
    (out.parent / "r").write_text("an earlier run")
    proc = _run([a.format(out=out) for a in args], preexec=_fsize_limit)
    _one_line_exit_2(proc, "cannot write")
    # Nothing of this run, no earlier report, no temporary file.
    assert os.listdir(out.parent) == []


@pytest.mark.parametrize("name", list(_commands(Path("."))))
def test_stdout_closed(name: str, tmp_path: Path) -> None:
    proc = _run(_commands(tmp_path)[name], preexec=lambda: os.close(1), stdout=None)
    _one_line_exit_2(proc, "standard output")


def test_stdout_closed_with_every_output_in_a_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = _run(["check", FLEET, "--target", "8.7.3", "-o", f"json={out}"], preexec=lambda: os.close(1), stdout=None)
    _clean(proc)
    assert proc.returncode == 1 and json.loads(out.read_text())["summary"]["exit_code"] == 1


@pytest.fixture()
def unicode_inputs(tmp_path: Path) -> tuple[Path, Path]:
    doc = json.loads(Path(FLEET).read_text(encoding="utf-8"))
    doc["hosts"][0]["name"] = "東京-ÉTÉ-\u202e-01"
    facts = tmp_path / "fleet-東京.json"
    facts.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    packs = tmp_path / "packs"
    packs.mkdir()
    text = (Path(__file__).parent / "corpus" / "policies" / "valid.yaml").read_text(encoding="utf-8")
    (packs / "東京.yaml").write_text(text.replace("title: ", "title: 東京 ", 1), encoding="utf-8")
    return facts, packs


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "ascii"])
@pytest.mark.parametrize("name", list(_commands(Path("."))))
def test_a_console_that_cannot_encode_the_text(name: str, encoding: str, tmp_path: Path, unicode_inputs: tuple[Path, Path]) -> None:
    facts, packs = unicode_inputs
    args = [a if a != FLEET else str(facts) for a in _commands(tmp_path)[name]]
    if name in ("policies-list", "policies-show", "explain"):
        args += ["--policy-dir", str(packs)]
    if name == "policies-validate":
        args.append(str(packs))
    proc = _run(args, env={"PYTHONIOENCODING": encoding})
    _clean(proc)
    assert proc.returncode in (0, 1, 2)
    if name in ("check", "audit"):
        assert proc.returncode == 1 and "\\u6771\\u4eac" in proc.stdout  # escaped, not fatal
    if name == "import":
        # Facts are data: UTF-8 whatever the console (JSON Lines are UTF-8 by definition).
        assert proc.returncode == 0 and "東京" in proc.stdout.encode(encoding, "backslashreplace").decode("utf-8", "replace") or proc.returncode == 0


@pytest.mark.parametrize("args", [
    ["check", FLEET, "--target", DIGITS],
    ["audit", FLEET, "--target", DIGITS, "--no-progress"],
    ["check", FLEET, "--target", "8.7." + DIGITS],
    ["import", "--from", DIGITS, FLEET],
    ["policies", "show", DIGITS],
    ["explain", DIGITS],
    ["schema", DIGITS],
    ["policies", "validate", DIGITS],
    ["plan", "--to", DIGITS, FLEET],
    ["plan", "--to", "8.7.3", "--from", DIGITS, FLEET],
    ["remediate", FLEET, "--target", DIGITS, "-o", "{tmp}/scripts"],
], ids=["check", "audit", "check-patch", "import", "policies-show", "explain", "schema", "policies-validate",
        "plan-to", "plan-from", "remediate"])
def test_a_version_argument_of_thousands_of_digits(args: list[str], tmp_path: Path) -> None:
    proc = _run([a.replace("{tmp}", str(tmp_path)) for a in args])
    _one_line_exit_2(proc)
    assert len(proc.stderr) < 20_000  # the argument is not echoed back whole, line after line


CWD_GONE = (
    "import os, sys, tempfile\n"
    "d = tempfile.mkdtemp()\n"
    "os.chdir(d)\n"
    "os.rmdir(d)\n"
    "sys.argv = ['sitegate', *sys.argv[1:]]\n"
    "from sitegate.cli.main import run\n"
    "run()\n"
)


@pytest.mark.parametrize("name", list(_commands(Path("."))))
def test_the_working_directory_removed(name: str, tmp_path: Path) -> None:
    proc = _run(_commands(tmp_path)[name], script=CWD_GONE)
    _one_line_exit_2(proc, "working directory")


# ---------------------------------------------------------------- what reaches the terminal


def test_policy_commands_never_print_raw_controls(cli, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    text = (Path(__file__).parent / "corpus" / "policies" / "valid.yaml").read_text(encoding="utf-8")
    evil = '"Corpus \\e]0;pwned\\a pack \\u202egnp.exe \\e[31mred"'
    text = text.replace("title: Corpus pack", f"title: {evil}").replace("    title: One", f"    title: {evil}").replace("description: d", f"description: {evil}")
    (packs / "evil\u202e.yaml").write_text(text, encoding="utf-8")
    for args in (["policies", "list"], ["policies", "show", "corpus"], ["explain", "CORPUS-ONE"], ["policies", "validate", str(packs)]):
        extra = [] if args[1:2] == ["validate"] else ["--policy-dir", str(packs)]
        code, out, err = cli(*args, *extra)
        assert code == 0, (args, out, err)
        for stream in (out, err):
            assert "\x1b" not in stream and "\u202e" not in stream and "\x07" not in stream, (args, stream)
        if args[1:2] == ["list"]:
            assert "\\u202e" in out, out  # the file name, escaped
        elif args[1:2] != ["validate"]:
            assert "\\x1b]0;pwned" in out, (args, out)  # the title, escaped


def test_stderr_summary_counts_what_was_not_evaluated(cli, tmp_path: Path) -> None:
    d = tmp_path / "facts"
    d.mkdir()
    doc = json.loads(Path(FLEET).read_text(encoding="utf-8"))
    doc["hosts"][1]["hardware"] = {"memory_mb": "lots"}  # one rejected host
    doc["generated_by"] = "an exporter"  # an ignored top-level field
    (d / "fleet.json").write_text(json.dumps(doc), encoding="utf-8")
    os.mkfifo(d / "stuck.json")  # a skipped file
    (d / "notes.txt").write_text("not facts")  # another
    out = tmp_path / "r.json"
    code, stdout, err = cli("check", str(d), "--target", "8.7.3", "-o", f"json={out}")
    assert code == 2 and stdout == ""
    (line,) = [x for x in err.splitlines() if x.startswith("sitegate: ") and "host(s) read" in x]
    assert "4 host(s) read, 3 evaluated, 1 rejected" in line and "2 skipped" in line and "ignored" in line
    assert line.endswith("(exit code 2)")
