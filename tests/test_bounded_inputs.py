"""Bounded inputs (issue 16, item 3): zips bounded by what they inflate to, only regular
files read from folders, a named device refused as soon as it shows it is binary, a CSV
header read in linear time under a column limit, a corrupt zip member costing only its host.

Every run is a real subprocess with a timeout and an address-space limit, as in the corpus:
a case that hangs or balloons fails the test instead of the machine.
"""
from __future__ import annotations

import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegate.facts.importers import powershell
from sitegate.facts.importers.csv import _columns_at, _position

from .conftest import EXAMPLES

REPO = Path(__file__).resolve().parents[1]
PS = Path(__file__).resolve().parent / "importers" / "data" / "ps"
MEMORY_LIMIT = 1 << 30  # bytes of address space: far below what the unbounded cases took
TIMEOUT = 90


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def sitegate(*args: str, timeout: int = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegate.cli.main", *args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout, preexec_fn=_limit, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def _no_crash(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert "out of memory" not in proc.stderr, proc.stderr


def _ts01_zip(path: Path, hosts: dict[str, dict[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for host, files in hosts.items():
            for name, data in files.items():
                zf.writestr(f"{host}/{name}", data)


def _ts01(host: str) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in (PS / "TS01").iterdir()}
    files["host.json"] = json.dumps({"name": host}).encode()
    return files


# ---------------------------------------------------------------- zips


def test_a_zip_member_that_inflates_past_the_limit_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """63 KB of zip, 62 MiB inside: refused before it is inflated (and counted while inflating)."""
    z = tmp_path / "bomb.zip"
    big = b'{"Caption": "' + b" " * (62 << 20) + b'"}'
    _ts01_zip(z, {"TS01": {"os.json": big}})
    assert z.stat().st_size < 200_000
    proc = sitegate("import", "--from", "powershell", str(z), "-o", str(tmp_path / "out.jsonl"))
    _no_crash(proc)
    assert proc.returncode == 2 and "member larger than 16 MiB" in proc.stderr, proc.stderr


def test_a_zip_of_many_large_members_is_bounded_per_archive(tmp_path: Path) -> None:
    """Each member under the per-file limit, together over the per-archive limit."""
    z = tmp_path / "many.zip"
    member = b'{"Caption": "' + b" " * (15 << 20) + b'"}'
    _ts01_zip(z, {f"H{i:02d}": {"os.json": member} for i in range(6)})
    proc = sitegate("import", "--from", "powershell", str(z), "-o", str(tmp_path / "out.jsonl"))
    _no_crash(proc)
    assert proc.returncode == 2 and f"inflates to more than {powershell.MAX_ZIP_BYTES >> 20} MiB" in proc.stderr, proc.stderr


def test_zips_are_bounded_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(powershell, "MAX_RUN_ZIP_BYTES", 40_000)
    for i in range(3):
        _ts01_zip(tmp_path / f"z{i}.zip", {f"H{i}": _ts01(f"H{i}")})
    items = list(powershell.iter_powershell([str(tmp_path / f"z{i}.zip") for i in range(3)]))
    messages = [d.message for it in items if hasattr(it, "diagnostics") for d in it.diagnostics]
    assert any("zips of this import inflate to more than" in m for m in messages), messages


def _corrupt_member(z: Path, member: str) -> None:
    """Overwrite the middle of one member's compressed data."""
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo(member)
    data = bytearray(z.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + 8, start + min(info.compress_size - 4, 64)):
        data[i] ^= 0x5A
    z.write_bytes(bytes(data))


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2])
def test_a_corrupt_member_costs_only_its_host(tmp_path: Path, method: int) -> None:
    z = tmp_path / "two.zip"
    _ts01_zip(z, {"GOOD01": _ts01("GOOD01"), "BAD02": _ts01("BAD02")}, method)
    _corrupt_member(z, "BAD02/features.json")
    out = tmp_path / "out.jsonl"
    proc = sitegate("import", "--from", "powershell", str(z), "-o", str(out))
    _no_crash(proc)
    assert proc.returncode == 2, proc.stderr
    assert "BAD02/features.json" in proc.stderr and "host 'BAD02' of this archive is not imported" in proc.stderr
    names = [json.loads(line)["name"] for line in out.read_text().splitlines()]
    assert names == ["GOOD01"]


# ---------------------------------------------------------------- folders and devices


@pytest.fixture()
def facts_dir(tmp_path: Path) -> Path:
    d = tmp_path / "facts"
    d.mkdir()
    shutil.copy(EXAMPLES / "fleet.json", d / "fleet.json")
    os.mkfifo(d / "stuck.json")
    return d


def test_a_fifo_in_a_facts_folder_is_skipped_not_waited_for(facts_dir: Path) -> None:
    proc = sitegate("check", str(facts_dir), "--target", "8.7.3", "-f", "json", "-o", str(facts_dir.parent / "r.json"))
    _no_crash(proc)
    report = json.loads((facts_dir.parent / "r.json").read_text())
    assert report["summary"]["hosts_evaluated"] == 4
    messages = [d["message"] for d in report["summary"]["diagnostics"]]
    assert any("a FIFO, not a regular file: skipped" in m for m in messages), messages


def test_a_fifo_in_a_powershell_export_folder_is_skipped(tmp_path: Path) -> None:
    d = tmp_path / "exports"
    shutil.copytree(PS / "TS01", d / "TS01")
    os.mkfifo(d / "TS01" / "services.json")
    os.mkfifo(d / "stuck.zip")
    out = tmp_path / "out.jsonl"
    proc = sitegate("import", "--from", "powershell", str(d), "-o", str(out), "--report", str(tmp_path / "report.json"))
    _no_crash(proc)
    # The two FIFOs, plus TS01's assumed default package store (the export names no store path).
    assert "3 warning(s)" in proc.stderr, proc.stderr
    assert json.dumps(json.loads((tmp_path / "report.json").read_text())).count("not a regular file") == 2
    assert [json.loads(line)["name"] for line in out.read_text().splitlines()] == ["TS01"]


def test_a_fifo_pack_in_a_policy_folder_is_an_error_not_a_hang(tmp_path: Path) -> None:
    d = tmp_path / "packs"
    d.mkdir()
    os.mkfifo(d / "pack.yaml")
    proc = sitegate("policies", "validate", str(d))
    _no_crash(proc)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    proc = sitegate("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--policy-dir", str(d))
    _no_crash(proc)
    assert proc.returncode == 2


def test_a_named_device_is_refused_as_soon_as_it_shows_binary() -> None:
    """/dev/zero is read, not written: refused on its first chunk, not after 1 GiB."""
    proc = sitegate("check", "/dev/zero", "--target", "8.7.3")
    _no_crash(proc)
    assert proc.returncode == 2 and "contains a NUL character" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_a_named_fifo_is_still_read(tmp_path: Path) -> None:
    """Process substitution (check <(cmd)) hands sitegate a pipe: that keeps working."""
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat {EXAMPLES / 'fleet.json'} > {fifo}"])
    proc = sitegate("check", str(fifo), "--target", "8.7.3")
    writer.wait(30)
    _no_crash(proc)
    assert proc.returncode == 1 and "PS-PAR-02" in proc.stdout


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_json_lines_from_an_endless_device_is_refused_at_once(device: str) -> None:
    """A device read as JSON Lines never ends: its binary head refuses it, exit 2, at once."""
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    proc = sitegate("check", "--input-format", "jsonl", device, "--target", "8.7.3", timeout=60)
    _no_crash(proc)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "a device that gives binary data" in out and "not JSON Lines text" in out, out


class _EndlessFifo:
    """A FIFO fed valid JSON Lines records for as long as anyone reads it."""

    def __init__(self, path: Path):
        import threading

        os.mkfifo(path)
        self.path = path
        self.written = 0
        host = json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))["hosts"][0]
        self.line = (json.dumps(host) + "\n").encode()
        threading.Thread(target=self._feed, daemon=True).start()

    def _feed(self) -> None:
        try:
            with open(self.path, "wb") as fh:
                while True:
                    fh.write(self.line)
                    self.written += 1
        except (BrokenPipeError, OSError, ValueError):
            pass  # the reader stopped: what the test wants


def test_a_json_lines_fifo_fed_forever_is_refused_past_the_limit_keeping_the_hosts_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sitegate.facts import load

    from .conftest import run_in_process

    monkeypatch.setattr(load, "MAX_STREAM_BYTES", 256 * 1024)  # the same check as at 1 GiB, in a second
    feed = _EndlessFifo(tmp_path / "feed.jsonl")
    report = tmp_path / "r.json"
    proc = run_in_process("check", str(feed.path), "--target", "8.7.3", "-o", f"json={report}", timeout=60)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert "a pipe that gave more than 256 KiB, the limit of any input" in proc.stderr and "the rest is not read" in proc.stderr
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    # Every record that ends within the limit is evaluated; nothing past it is read.
    assert summary["hosts_evaluated"] == summary["hosts_read"] == (256 * 1024) // len(feed.line)
    assert summary["exit_code"] == 2  # the unread rest counts as one rejected part


def test_json_lines_blocks_from_a_pipe_stop_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`audit --jobs N` reads a pipe as blocks: bounded the same way."""
    from sitegate.facts import load

    monkeypatch.setattr(load, "MAX_STREAM_BYTES", 3 << 20)
    feed = _EndlessFifo(tmp_path / "feed.jsonl")
    items = list(load.iter_paths([str(feed.path)], raw_blocks=True))
    blocks = [i for i in items if isinstance(i, load.RawBlock)]
    assert blocks and isinstance(items[-1], load.Rejected)
    assert "the limit of any input" in items[-1].diagnostics[0].message
    assert (2 << 20) <= sum(len(b.data) for b in blocks) <= 3 << 20


def test_a_finite_pipe_of_json_lines_is_read_whole(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    lines = "".join(json.dumps(h) + "\n" for h in json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))["hosts"])
    writer = subprocess.Popen(["sh", "-c", f"cat > {fifo}"], stdin=subprocess.PIPE, text=True)
    proc_in = writer.stdin
    assert proc_in is not None
    import threading

    threading.Thread(target=lambda: (proc_in.write(lines), proc_in.close()), daemon=True).start()
    proc = sitegate("check", str(fifo), "--target", "8.7.3")
    writer.wait(30)
    _no_crash(proc)
    assert proc.returncode == 1 and "PS-PAR-02" in proc.stdout, proc.stdout + proc.stderr


# ---------------------------------------------------------------- CSV


def test_a_csv_header_of_100000_columns_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "wide.csv"
    p.write_text("name," + ",".join(f"c{i}" for i in range(100_000)) + "\nTS-01," + ",".join("x" for _ in range(100_000)) + "\n")
    proc = sitegate("check", "--input-format", "csv", str(p), "--target", "8.7.3")
    _no_crash(proc)
    assert proc.returncode == 2 and "the header has 100,001 columns: more than 2,000" in proc.stdout, proc.stdout


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab,\r\n\"", max_size=60))
def test_header_columns_are_those_of_position(raw: str) -> None:
    from sitegate.facts.importers.csv import field_starts

    starts = field_starts(raw, ",")
    assert _columns_at(raw, starts) == [_position(raw, 1, o)[1] for o in starts]


def test_header_columns_of_a_wide_header_are_right() -> None:
    rnd = random.Random(3)
    header = ",".join("".join(rnd.choice("abc") for _ in range(rnd.randrange(1, 5))) for _ in range(5000))
    from sitegate.facts.importers.csv import field_starts

    starts = field_starts(header, ",")
    cols = _columns_at(header, starts)
    assert cols[0] == 1 and cols == [s + 1 for s in starts]
    assert len(io.StringIO(header).read()) == len(header)
