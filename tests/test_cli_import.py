"""`sitegate import` and `sitegate collect` from the command line."""
from __future__ import annotations

import json
from pathlib import Path

from .conftest import REPO, run_sitegate

DATA = REPO / "tests" / "importers" / "data"


def test_import_csv_accounts_for_every_record(tmp_path: Path) -> None:
    out = tmp_path / "facts.jsonl"
    report = tmp_path / "import.json"
    proc = run_sitegate("import", "--from", "csv", str(DATA / "csv" / "messy.csv"), "-o", str(out), "--report", str(report))
    assert proc.returncode == 2, proc.stderr  # records were rejected: the good ones are written, the exit says so
    stats = json.loads(report.read_text())
    lines = out.read_text().splitlines()
    assert stats["read"] == stats["written"] + stats["rejected"] and stats["written"] == len(lines) and stats["rejected"] >= 1
    assert "messy.csv:" in proc.stderr and "rejected" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_import_strict_exits_2(tmp_path: Path) -> None:
    proc = run_sitegate("import", "--from", "csv", str(DATA / "csv" / "messy.csv"), "-o", str(tmp_path / "f.jsonl"), "--strict")
    assert proc.returncode == 2 and "messy.csv:" in proc.stderr


def test_import_with_a_rejected_record_exits_2_and_keeps_the_others(tmp_path: Path) -> None:
    """`import && check` must not pass a fleet from which a host was dropped."""
    src = tmp_path / "two.json"
    src.write_text('{"hosts": [{"name": "A", "agent": {"managed": "yes"}}, {"name": "B", "agent": {"managed": true}}]}', "utf-8")
    out = tmp_path / "facts.jsonl"
    proc = run_sitegate("import", "--from", "json", str(src), "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "two.json:1:47" in proc.stderr and "/hosts/0/agent/managed" in proc.stderr and "1 rejected" in proc.stderr
    assert [json.loads(line)["name"] for line in out.read_text("utf-8").splitlines()] == ["B"]


def test_import_then_check_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "ps.jsonl"
    proc = run_sitegate("import", "--from", "powershell", str(DATA / "ps" / "TS01"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    direct = run_sitegate("check", "--input-format", "powershell", str(DATA / "ps" / "TS01"), "--target", "8.7.3", "-f", "json")
    via_file = run_sitegate("check", str(out), "--target", "8.7.3", "-f", "json")
    a, b = json.loads(direct.stdout), json.loads(via_file.stdout)
    assert direct.returncode == via_file.returncode
    findings = lambda r: [(h["name"], [(f["rule_id"], f["outcome"], f["evidence"]) for f in h.get("findings", ())]) for h in r["hosts"]]  # noqa: E731
    assert findings(a) == findings(b)


def test_import_unknown_format_and_missing_input(tmp_path: Path) -> None:
    proc = run_sitegate("import", "--from", "xml", "x", "-o", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2 and "unknown input format" in proc.stderr
    proc = run_sitegate("import", "--from", "csv", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2 and "nope.csv" in proc.stderr
    assert not (tmp_path / "o.jsonl").exists(), "nothing read: no facts file is written"


def test_collect_off_windows_says_where_to_run(tmp_path: Path) -> None:
    proc = run_sitegate("collect", "-o", str(tmp_path / "f.json"))
    assert proc.returncode == 2 and "site server" in proc.stderr and "Traceback" not in proc.stderr


def test_collect_print_script() -> None:
    proc = run_sitegate("collect", "--print-script")
    assert proc.returncode == 0 and "Win32_OperatingSystem" in proc.stdout and "ConvertTo-Json" in proc.stdout
