"""Outputs that never lie (issue 16, item 2): all of a run's outputs or none, devices and
FIFOs written in place, symlinks kept, one file never two outputs, no temporary file left
by SIGTERM or SIGHUP.

No test here writes to the machine's /dev/null or /dev/stdout: device cases use a FIFO
or a character device made in the test's own directory (mknod, when permitted).
"""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sitegate.cli.output import OutputError, OutputSpec, check_not_inputs, open_sinks, parse_outputs, publish, write_all
from sitegate.engine.render import Format, RenderOptions, make_renderer

from .conftest import EXAMPLES

FLEET = str(EXAMPLES / "fleet.json")


def _chardev(path: Path, major: int, minor: int) -> Path:
    """A character device of our own (1,3 is null, 1,7 is full), or skip the test."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    return path


class _FifoReader:
    """Reads a FIFO in a thread, as a consumer of the report would."""

    def __init__(self, path: Path):
        os.mkfifo(path)
        self.path = path
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as fh:
            self.data = fh.read()

    def result(self) -> bytes:
        self.thread.join(60)
        return self.data


def _renderer(fmt: Format = Format.JSON):
    return make_renderer(fmt, RenderOptions())


def test_a_device_output_is_written_in_place_never_replaced(cli, tmp_path: Path) -> None:
    null = _chardev(tmp_path / "null", 1, 3)
    code, _, err = cli("check", FLEET, "--target", "8.7.3", "-o", f"json={null}")
    assert code == 1, err
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    assert sorted(os.listdir(tmp_path)) == ["null"]  # no temporary file beside it


def test_a_fifo_and_a_link_to_a_fifo_are_written_in_place(cli, tmp_path: Path) -> None:
    reader = _FifoReader(tmp_path / "pipe")
    link = tmp_path / "stdout-like"
    link.symlink_to(tmp_path / "pipe")
    code, _, err = cli("check", FLEET, "--target", "8.7.3", "-o", f"sarif={link}")
    assert code == 1, err
    sarif = json.loads(reader.result())
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 1
    assert os.path.islink(link) and stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)


def test_a_symlink_to_a_regular_file_stays_a_symlink(cli, tmp_path: Path) -> None:
    real = tmp_path / "reports" / "r.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "r.json"
    link.symlink_to(real)
    code, _, _ = cli("check", FLEET, "--target", "8.7.3", "-o", f"json={link}")
    assert code == 1
    assert os.path.islink(link) and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["summary"]["exit_code"] == 1
    assert sorted(os.listdir(real.parent)) == ["r.json"]


def test_a_dangling_path_under_dev_is_never_created(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="no such device"):
        parse_outputs(["json=/dev/sitegate-no-such-device"], Format.JSON)
    assert not os.path.exists("/dev/sitegate-no-such-device")


def test_two_outputs_that_are_one_file_are_a_usage_error(cli, tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    a.write_text("keep")
    os.link(a, tmp_path / "b.sarif")
    code, _, err = cli("check", FLEET, "--target", "8.7.3", "-o", f"json={a}", "-o", f"sarif={tmp_path / 'b.sarif'}")
    assert code == 2 and "two outputs name the same file" in err
    assert a.read_text() == "keep"
    # Through a symlinked directory: the same resolved path.
    (tmp_path / "alias").symlink_to(tmp_path)
    code, _, err = cli("check", FLEET, "--target", "8.7.3", "-o", f"json={a}", "-o", f"junit={tmp_path / 'alias' / 'a.json'}")
    assert code == 2 and "same file" in err


def test_import_output_and_report_on_one_file_is_a_usage_error(cli, tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_text("previous facts\n")
    code, _, err = cli("import", "--from", "json", FLEET, "-o", str(facts), "--report", str(facts))
    assert code == 2 and "same file" in err
    assert facts.read_text() == "previous facts\n"
    os.link(facts, tmp_path / "report.json")
    code, _, err = cli("import", "--from", "json", FLEET, "-o", str(facts), "--report", str(tmp_path / "report.json"))
    assert code == 2 and "same file" in err
    assert facts.read_text() == "previous facts\n"


def test_an_output_hard_linked_to_an_input_is_refused(cli, tmp_path: Path) -> None:
    facts = tmp_path / "fleet.json"
    facts.write_bytes(Path(FLEET).read_bytes())
    os.link(facts, tmp_path / "report.json")
    code, _, err = cli("check", str(facts), "--target", "8.7.3", "-o", f"json={tmp_path / 'report.json'}")
    assert code == 2 and "would overwrite an input" in err
    assert facts.read_bytes() == Path(FLEET).read_bytes()


def test_stdout_and_dev_stdout_are_the_same_output(tmp_path: Path) -> None:
    """'-' and a path that is the file stdout writes to are one output (compared by inode)."""
    out = tmp_path / "captured.txt"
    with out.open("wb") as fh:
        proc = subprocess.run(
            [sys.executable, "-c",
             "import sys\nfrom sitegate.cli.output import parse_outputs\nfrom sitegate.engine.render import Format\n"
             f"parse_outputs(['json=-', 'sarif={out}'], Format.JSON)\n"],
            stdout=fh, stderr=subprocess.PIPE, text=True, timeout=60,
        )
    assert proc.returncode != 0 and "two outputs name the same file" in proc.stderr


def test_publish_is_all_or_none_when_one_output_fails(tmp_path: Path) -> None:
    """The second output cannot be written (a full device): the first never appears, and an
    earlier run's file at its path is removed, not left to be read as this run's verdict."""
    first = tmp_path / "first.json"
    first.write_text('{"verdict": "earlier run"}')
    full = _chardev(tmp_path / "full", 1, 7)
    specs = parse_outputs([f"json={first}", f"sarif={full}"], Format.JSON)
    sinks = open_sinks(specs, [_renderer(Format.JSON), _renderer(Format.SARIF)])
    for sink in sinks:
        sink.write('{"verdict": "compliant"}' * 1000)
    with pytest.raises(OutputError, match="No space left"):
        publish(sinks)
    assert sorted(os.listdir(tmp_path)) == ["full"]  # no first.json, no temporary file
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_publish_all_or_none_when_a_file_cannot_be_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.sarif"
    b.write_text("earlier run")
    sinks = open_sinks(parse_outputs([f"json={a}", f"sarif={b}"], Format.JSON), [_renderer(), _renderer(Format.SARIF)])
    for sink in sinks:
        sink.write("x")
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OutputError, match=r"b\.sarif: cannot write: No space left"):
        publish(sinks)
    assert os.listdir(tmp_path) == []


def test_write_all_is_all_or_none(tmp_path: Path) -> None:
    out, report = tmp_path / "facts.jsonl", tmp_path / "report.json"
    out.write_text("earlier facts\n")
    with pytest.raises(OutputError, match="too long"):
        write_all([(str(out), b"new facts\n"), (str(tmp_path / ("r" * 300)), b"{}")])
    assert os.listdir(tmp_path) == []
    write_all([(str(out), b"new facts\n"), (str(report), b"{}\n")])
    assert out.read_text() == "new facts\n" and report.read_text() == "{}\n"


def test_an_output_name_too_long_is_refused_before_anything_is_written(cli, tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    code, _, err = cli("check", FLEET, "--target", "8.7.3", "-o", f"json={ok}", "-o", f"sarif={tmp_path / ('x' * 300)}")
    assert code == 2 and "File name too long" in err
    assert not ok.exists()


def test_check_not_inputs_compares_outputs_with_each_other(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    with pytest.raises(OutputError, match="same file"):
        check_not_inputs([OutputSpec(Format.JSON, str(p)), OutputSpec(Format.JSON, str(tmp_path / "." / "x.json"))], [])


def _big_fleet(path: Path, n: int) -> None:
    host = json.loads(Path(FLEET).read_text())["hosts"][0]
    with path.open("w") as fh:
        for i in range(n):
            host["name"] = f"TS-{i:06d}"
            fh.write(json.dumps(host) + "\n")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_remove_temporary_files(tmp_path: Path, sig: int, code: int) -> None:
    facts = tmp_path / "in" / "fleet.jsonl"
    facts.parent.mkdir()
    _big_fleet(facts, 40_000)
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.json").write_text("earlier run")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegate.cli.main", "audit", str(facts), "--target", "8.7.3", "--no-progress",
         "-o", f"json={out / 'r.json'}", "-o", f"sarif={out / 'r.sarif'}", "-o", f"junit={out / 'r.xml'}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not any(n.startswith(".sitegate-") for n in os.listdir(out)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no temporary file appeared"
        time.sleep(0.02)
    time.sleep(0.3)  # well into the run
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and ("terminated" in err or "hung up" in err)
    assert sorted(os.listdir(out)) == ["r.json"]  # no .sitegate-*.tmp, no partial output


def test_an_in_process_run_restores_the_signal_handlers() -> None:
    """run() takes SIGTERM and SIGHUP for a one-shot process; the in-process test runner
    gives them back, so no later test (or pytest itself) inherits the CLI's handlers."""
    from sitegate.cli import output as cli_output

    from .conftest import run_in_process

    sigs = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    saved = {s: signal.getsignal(s) for s in sigs}
    saved_pid = cli_output._HANDLERS_PID
    try:
        for s in sigs:
            signal.signal(s, signal.SIG_DFL)
        cli_output._HANDLERS_PID = None
        proc = run_in_process("check", FLEET, "--target", "8.7.3", "-f", "json")
        assert proc.returncode == 1, proc.stderr
        assert {s: signal.getsignal(s) for s in sigs} == {s: signal.SIG_DFL for s in sigs}
        assert cli_output._HANDLERS_PID is None
    finally:
        for s, h in saved.items():
            signal.signal(s, signal.SIG_DFL if h is None else h)
        cli_output._HANDLERS_PID = saved_pid


def test_a_file_name_with_an_undecodable_byte_is_shown_escaped_in_every_format(cli, tmp_path: Path) -> None:
    """A facts file named with a byte that is not UTF-8 (Python reads it as a lone surrogate,
    U+DCFF) used to end the JSON report in "internal error" and left raw surrogates in the
    table, Markdown and HTML. Every format shows it escaped (``\\udcff``), exit code 1."""
    import xml.etree.ElementTree as ET

    facts = os.path.join(os.fsdecode(bytes(tmp_path)), os.fsdecode(b"fleet-\xff.json"))
    assert "\udcff" in facts
    with open(facts, "wb") as fh:
        fh.write((EXAMPLES / "fleet.json").read_bytes())
    shown = facts.replace("\udcff", "\\udcff")
    out = {f: tmp_path / f"r.{f}" for f in ("json", "sarif", "junit", "markdown", "html")}
    code, table, err = cli("check", facts, "--target", "8.7.3", "--audit-date", "2026-11-25",
                           *[a for f, p in out.items() for a in ("-o", f"{f}={p}")], "-o", "table=-")
    assert code == 1, err
    assert "internal error" not in err and "Traceback" not in err
    texts = {f: p.read_bytes().decode("utf-8") for f, p in out.items()}  # strict UTF-8, every one
    report = json.loads(texts["json"])
    assert report["summary"]["exit_code"] == 1 and report["run"]["inputs"] == [shown]
    # v2: a host's source is left out when it is the run's one input file (run.source).
    assert report["run"]["source"] == shown and not any("source" in h for h in report["hosts"])
    sarif = json.loads(texts["sarif"])
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 1
    assert sarif["runs"][0]["properties"]["sitegate"]["inputs"] == [shown]
    # The artifact URI names the file as it is on disk: its byte 0xFF, percent-encoded.
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"] for loc in r["locations"]}
    assert uris and all(u.startswith("file://") and u.endswith("/fleet-%FF.json") for u in uris), uris
    ET.fromstring(texts["junit"].encode("utf-8"))
    assert shown in texts["junit"]
    for fmt in ("markdown", "html"):
        assert "\udcff" not in texts[fmt] and "\\udcff" in texts[fmt] and "exit code 1" in texts[fmt].lower(), fmt
    assert "\udcff" not in table and "fleet-\\udcff.json" in table
