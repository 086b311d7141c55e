"""Bad facts never crash and never lose data: located errors, exit 2, others still evaluated."""
from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from sitegate.facts.load import HostRecord, Rejected, iter_paths

from .conftest import run_sitegate

GOOD = {"name": "h1", "os": {"build": 17763, "product_type": "server", "architecture": "x64"}, "platform": {"itms_version": "8.7.3"}}


def items(path: Path) -> list:
    return list(iter_paths([str(path)], locate=True))


def test_utf16_le_with_bom_as_powershell_writes(tmp_path: Path) -> None:
    p = tmp_path / "ps.json"
    p.write_bytes(codecs.BOM_UTF16_LE + json.dumps([GOOD]).encode("utf-16-le"))
    got = items(p)
    assert [type(i) for i in got] == [HostRecord] and got[0].name == "h1"


@pytest.mark.parametrize("bom,enc", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_other_boms(tmp_path: Path, bom: bytes, enc: str) -> None:
    p = tmp_path / "f.json"
    p.write_bytes(bom + json.dumps(GOOD).encode(enc))
    (got,) = items(p)
    assert isinstance(got, HostRecord) and got.warnings == []
    # the BOM is gone and every value read as written
    assert got.name == "h1" and got.line == 1
    assert got.facts["os"] == {"build": 17763, "product_type": "server", "architecture": "x64"}
    assert got.facts["platform"] == {"itms_version": "8.7.3"}


def test_utf16_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_bytes(codecs.BOM_UTF16_LE + (json.dumps(GOOD) + "\r\n" + json.dumps({**GOOD, "name": "h2"}) + "\r\n").encode("utf-16-le"))
    got = items(p)
    assert [g.name for g in got] == ["h1", "h2"]
    assert [g.line for g in got] == [1, 2]


def test_malformed_json_is_located(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('[\n  {"name": "a",\n   "os": {"build": 1,}\n  }\n]\n')
    (r,) = items(p)
    assert isinstance(r, Rejected)
    d = r.diagnostics[0]
    assert (d.line, d.column) == (3, 22) and "invalid JSON" in d.message


def test_duplicate_keys_are_reported_with_position(tmp_path: Path) -> None:
    p = tmp_path / "dup.json"
    p.write_text('{"hosts": [\n {"name": "a", "os": {"build": 17763,\n  "build": 7601}}\n]}')
    (r,) = items(p)
    assert isinstance(r, Rejected) and r.host == "a"
    d = r.diagnostics[0]
    assert d.code == "duplicate-key" and d.pointer == "/hosts/0/os/build" and d.line == 3


def test_duplicate_key_in_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "dup.jsonl"
    p.write_text(json.dumps(GOOD) + "\n" + '{"name": "b", "name": "c"}\n')
    a, b = items(p)
    assert isinstance(a, HostRecord) and isinstance(b, Rejected)
    assert b.diagnostics[0].line == 2 and b.diagnostics[0].code == "duplicate-key"


def test_colon_in_strings_is_not_a_false_duplicate(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    host = {**GOOD, "iis": {"features": ["a:b", "c::d"]}, "provenance": {"collected_at": "2026-11-20T09:12:00Z", "source_file": "C:\\x"}}
    p.write_text(json.dumps(host) + "\n")
    (got,) = items(p)
    assert isinstance(got, HostRecord), got
    assert got.warnings == [] and got.name == "h1"
    assert got.facts["iis"]["features"] == ["a:b", "c::d"]
    assert got.facts["provenance"]["collected_at"] == "2026-11-20T09:12:00Z"
    assert got.facts["provenance"]["source_file"] == "C:\\x"


def test_wrong_types_reject_only_that_host(tmp_path: Path) -> None:
    p = tmp_path / "mixed.json"
    p.write_text(json.dumps([GOOD, {"name": "bad", "hardware": {"memory_mb": "lots"}}, {**GOOD, "name": "h3"}], indent=1))
    got = items(p)
    assert [type(g).__name__ for g in got] == ["HostRecord", "Rejected", "HostRecord"]
    d = got[1].diagnostics[0]
    assert d.pointer == "/1/hardware/memory_mb" and d.host == "bad" and d.line > 1 and "expected integer" in d.message


def test_unknown_fields_are_warnings(tmp_path: Path) -> None:
    p = tmp_path / "u.json"
    p.write_text(json.dumps({**GOOD, "os": {**GOOD["os"], "buidl": 1}}))
    (r,) = items(p)
    assert isinstance(r, HostRecord)
    assert r.warnings[0].level.value == "warning" and "did you mean 'build'" in r.warnings[0].message


@pytest.mark.parametrize(
    "content,code",
    [(b"", "empty"), (b"   \n", "empty"), (b"42", "facts-shape"), (b'"x"', "facts-shape"), (b"[1]", "facts-shape"), (b"\x00\x01binary", "binary")],
)
def test_degenerate_documents(tmp_path: Path, content: bytes, code: str) -> None:
    p = tmp_path / "d.json"
    p.write_bytes(content)
    got = items(p)
    (rejected,) = got
    assert isinstance(rejected, Rejected)
    (d,) = rejected.diagnostics
    assert d.code == code and d.level.value == "error" and d.source.endswith("d.json")


def test_nan_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "n.json"
    p.write_text('{"name": "a", "hardware": {"memory_mb": NaN}}')
    (r,) = items(p)
    assert isinstance(r, Rejected) and "NaN" in r.diagnostics[0].message


def test_missing_path_and_directory(tmp_path: Path) -> None:
    (r,) = items(tmp_path / "nope.json")
    assert isinstance(r, Rejected) and r.diagnostics[0].message == "no such file"
    (tmp_path / "empty").mkdir()
    (r2,) = items(tmp_path / "empty")
    assert "no .json" in r2.diagnostics[0].message


def test_host_without_name(tmp_path: Path) -> None:
    p = tmp_path / "n.json"
    p.write_text(json.dumps([{"os": {"build": 1}}]))
    (r,) = items(p)
    assert isinstance(r, Rejected) and "name" in r.diagnostics[0].message


@pytest.mark.parametrize(
    "name,content",
    [
        ("malformed.json", b"{\"name\": "),
        ("utf16.json", codecs.BOM_UTF16_LE + b"{\x00"),
        ("dups.json", b'{"name": "a", "name": "b"}'),
        ("types.json", b'{"name": 5}'),
        ("empty.json", b""),
    ],
)
def test_cli_bad_facts_exit_2_without_traceback(tmp_path: Path, name: str, content: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    proc = run_sitegate("check", str(p), "--target", "8.7.3")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert f"{p.name}:" in proc.stdout + proc.stderr


def test_cli_one_bad_host_others_still_evaluated(tmp_path: Path, cli) -> None:
    p = tmp_path / "fleet.jsonl"
    lines = [json.dumps({**GOOD, "name": f"h{i}"}) for i in range(5)]
    lines[2] = '{"name": "h2", "dotnet": {"release": "x"}}'
    p.write_text("\n".join(lines) + "\n")
    code, out, err = cli("check", str(p), "--target", "8.7.3", "-f", "json")
    report = json.loads(out)
    assert code == 2
    assert report["summary"]["hosts_evaluated"] == 4 and report["summary"]["hosts_rejected"] == 1
    rejected = [h for h in report["hosts"] if h.get("rejected")]
    assert rejected[0]["name"] == "h2" and rejected[0]["diagnostics"][0]["line"] == 3
    assert f"{p.name}:3:" in err


def test_files_a_facts_directory_passes_over_are_named(cli, tmp_path) -> None:
    import shutil

    from .conftest import EXAMPLES

    d = tmp_path / "facts"
    d.mkdir()
    shutil.copy(EXAMPLES / "fleet.json", d / "fleet.json")
    (d / "more-hosts.csv").write_text("name\nX\n", "utf-8")
    (d / "fleet.json.bak").write_text("{}", "utf-8")
    code, out, _ = cli("check", str(d), "--target", "8.7.3", "-f", "json")
    assert code == 1
    import json

    diags = json.loads(out)["summary"]["diagnostics"]
    texts = {d_["source"].rsplit("/", 1)[-1]: d_["message"] for d_ in diags if d_["code"] == "skipped"}
    assert set(texts) == {"more-hosts.csv", "fleet.json.bak"}
    assert "--input-format csv" in texts["more-hosts.csv"]
