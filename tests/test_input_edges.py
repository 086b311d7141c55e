"""Input edges that used to cost more than the bad record: every good record is still read.

* UTF-16/UTF-32 JSON Lines with undecodable bytes (a truncated end, an unpaired
  surrogate, a byte lost mid-file): the run used to end in an internal error
  (UnicodeDecodeError out of the text stream) and every record was lost.
* JSON Lines with CR line ends (old Mac): the file used to be read as one record.
* A JSON document holding a number orjson refuses (1e400, a 400-digit integer,
  NaN, Infinity): the whole document used to be rejected, with no pointer.

Each case is read by ``check``, ``audit --jobs 1`` and ``audit --jobs 2`` (the last
two must give the same report), and by the loader directly.
"""
from __future__ import annotations

import codecs
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sitegate.base.textio import MARK_ERRORS, sniff_encoding
from sitegate.facts import load
from sitegate.facts.load import HostRecord, RawBlock, RawLine, Rejected, block_items, iter_jsonl_blocks, iter_paths, parse_raw_line

from .conftest import EXAMPLES

STAMP = re.compile(r'"(started_at|finished_at)": "[^"]*"')
HOSTS: list[dict[str, Any]] = json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))["hosts"]
LINES = [json.dumps(h) for h in HOSTS]


def _shape(item: Any) -> tuple[Any, ...]:
    if type(item) is HostRecord:
        return ("record", item.name, item.index, item.line, tuple((d.line, d.column, d.message) for d in item.warnings))
    assert type(item) is Rejected, item
    return ("rejected", item.host, item.index, tuple((d.line, d.column, d.pointer, d.message, d.code) for d in item.diagnostics))


def _items(path: Path, **kw: Any) -> list[Any]:
    return list(iter_paths([str(path)], locate=True, **kw))


def _runs(cli: Any, path: Path, tmp_path: Path, *extra: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(check's JSON report, audit's JSON report, exit code): audit --jobs 1 and --jobs 2 must agree
    byte for byte, and check must agree with them on the counts and every rejection."""
    code, out, err = cli("check", str(path), *extra, "--target", "8.7.3", "-f", "json")
    assert "internal error" not in err and "Traceback" not in err, err
    check = json.loads(out)
    audits = []
    for jobs in ("1", "2"):
        o = tmp_path / f"audit-{path.name}-{jobs}.json"
        acode, _, aerr = cli("audit", str(path), *extra, "--target", "8.7.3", "-f", "json", "-o", str(o), "--jobs", jobs, "--audit-date", "2026-11-25", "--no-progress")
        assert "internal error" not in aerr and "Traceback" not in aerr, aerr
        assert acode == code, (jobs, aerr)
        audits.append(STAMP.sub(r'"\1": "T"', o.read_text(encoding="utf-8")))
    assert audits[0] == audits[1], "audit --jobs 2 differs from --jobs 1"
    audit = json.loads(audits[0])
    assert audit["summary"]["hosts_read"] == check["summary"]["hosts_read"]
    assert audit["summary"]["hosts_rejected"] == check["summary"]["hosts_rejected"]
    assert _rejections(audit) == _rejections(check)
    return check, audit, code


def _rejections(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(d["line"], d["column"], d["pointer"], d["message"]) for h in report["hosts"] if h.get("rejected") for d in h["diagnostics"]]


def _counts(report: dict[str, Any]) -> list[int]:
    s = report["summary"]
    return [s["hosts_read"], s["hosts_evaluated"], s["hosts_rejected"]]


# ------------------------------------------------------------------ 1. undecodable UTF-16/32 JSON Lines

# (how the file is written, the encoding named in the message, bytes per code unit)
TEXT_ENCODINGS = [
    ("utf-16", "UTF-16-LE", 2),       # BOM, as PowerShell's Out-File writes
    ("utf-16-be-bom", "UTF-16-BE", 2),
    ("utf-16-le", "UTF-16-LE", 2),    # no BOM
    ("utf-32", "UTF-32-LE", 4),
    ("utf-32-be", "UTF-32-BE", 4),    # no BOM
]


def _encode(text: str, how: str) -> bytes:
    if how == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(how)


def test_the_reported_case_a_utf16_jsonl_missing_its_last_byte(tmp_path: Path, cli) -> None:
    """examples/fleet.json as UTF-16 JSON Lines, the last byte cut: every host evaluated, the cut end named."""
    path = tmp_path / "t16.jsonl"
    path.write_bytes(("\n".join(LINES) + "\n").encode("utf-16")[:-1])
    check, audit, code = _runs(cli, path, tmp_path)
    assert code == 2
    assert _counts(check) == [len(HOSTS), len(HOSTS), 1]
    assert [h["name"] for h in check["hosts"] if not h.get("rejected")] == [h["name"] for h in HOSTS]
    assert _rejections(check) == [(len(HOSTS), len(LINES[-1]) + 1, "", "not valid UTF-16-LE text: byte 0x0a cannot be decoded (truncated data); save the file as UTF-8")]


@pytest.mark.parametrize("how,name,unit", TEXT_ENCODINGS)
@pytest.mark.parametrize("final_newline", [True, False])
def test_a_truncated_text_jsonl_keeps_every_complete_record(tmp_path: Path, how: str, name: str, unit: int, final_newline: bool) -> None:
    data = _encode("\n".join(LINES) + ("\n" if final_newline else ""), how)
    for cut in range(1, unit):
        path = tmp_path / f"cut{cut}.jsonl"
        path.write_bytes(data[:-cut])
        got = _items(path)
        records = [g for g in got if type(g) is HostRecord]
        rejected = [g for g in got if type(g) is Rejected]
        # With a final newline only the newline was cut: every record is complete.
        complete = len(HOSTS) if final_newline else len(HOSTS) - 1
        assert [(r.name, r.index, r.line) for r in records] == [(h["name"], i, i + 1) for i, h in enumerate(HOSTS[:complete])]
        tail = [r for r in rejected if r.index == -1]
        assert len(tail) == 1, [_shape(r) for r in rejected]
        (d,) = tail[0].diagnostics
        assert d.code == "encoding" and d.message.startswith(f"not valid {name} text: ") and "(truncated data)" in d.message
        assert d.line == len(HOSTS)
        if final_newline:
            assert d.column == len(LINES[-1]) + 1 and len(rejected) == 1
        else:  # the last record lost its closing brace: it is rejected as the JSON it is
            assert [r.index for r in rejected] == [len(HOSTS) - 1, -1]
        # --jobs N: the same items from blocks of whole lines, whatever the block size
        for size in (1, 100, 1 << 20):
            assert [_shape(i) for i in _by_blocks(path, size)] == [_shape(g) for g in got]
        assert [_shape(i) for i in _items(path, raw_blocks=True) if type(i) is not RawBlock] == []


def _by_blocks(path: Path, block_size: int) -> list[Any]:
    """The blocks --jobs N sends to workers (iter_file's text layer, cut at block_size), parsed."""
    data = path.read_bytes()
    encoding, bom = sniff_encoding(data[:4])
    text = io.TextIOWrapper(io.BufferedReader(io.BytesIO(data)), encoding=encoding.replace("-le", "").replace("-be", "") if bom else encoding, errors=MARK_ERRORS)  # type: ignore[arg-type]
    out: list[Any] = []
    for b in iter_jsonl_blocks(text, str(path), block_size=block_size):
        assert type(b) is RawBlock
        out.extend(block_items(b, locate=True))
    return out


def test_raw_lines_of_a_truncated_file_give_the_same_items(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(("\n".join(LINES) + "\n").encode("utf-16")[:-1])
    direct = [_shape(i) for i in _items(path)]
    raw = [parse_raw_line(i, locate=True) if type(i) is RawLine else i for i in _items(path, raw_lines=True)]
    assert [_shape(i) for i in raw] == direct


@pytest.mark.parametrize(
    "how,bad,reason",
    [
        ("utf-16-le", b"\x3d\xd8", "illegal UTF-16 surrogate"),   # a high surrogate with no low one after it
        ("utf-16-le", b"\x00\xdc", "illegal encoding"),            # a low surrogate alone
        ("utf-16-be", b"\xd8\x3d", "illegal UTF-16 surrogate"),
        ("utf-32-le", b"\x00\x00\x11\x00", "code point not in range(0x110000)"),
        ("utf-32-le", b"\x00\xd8\x00\x00", "code point in surrogate code point range(0xd800, 0xe000)"),
    ],
)
def test_bad_code_unit_mid_file_costs_only_its_record(tmp_path: Path, how: str, bad: bytes, reason: str) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE}[how]
    lines = list(LINES)
    lines[1] = lines[1].replace('"name": "', '"name": "@@', 1)
    data = bom + ("\r\n".join(lines) + "\r\n").encode(how)
    marker = "@@".encode(how)
    data = data.replace(marker, bad, 1)
    path = tmp_path / "bad.jsonl"
    path.write_bytes(data)
    got = _items(path)
    assert [type(g).__name__ for g in got] == ["HostRecord", "Rejected"] + ["HostRecord"] * (len(HOSTS) - 2)
    assert [g.line for g in got if type(g) is HostRecord] == [1] + list(range(3, len(HOSTS) + 1))
    (d,) = got[1].diagnostics
    enc = how.upper()
    shown = " ".join(f"0x{b:02x}" for b in bad)
    assert d.message == f"not valid {enc} text: bytes {shown} cannot be decoded ({reason}); save the file as UTF-8"
    assert (d.line, d.column, d.pointer, d.code) == (2, len('{"name": "') + 1, "/1", "encoding")
    assert [_shape(i) for i in _by_blocks(path, 64)] == [_shape(g) for g in got]


def test_bad_code_unit_in_a_utf16_inventory_through_the_cli(tmp_path: Path, cli) -> None:
    lines = list(LINES)
    lines[2] = lines[2].replace('"name": "', '"name": "@@', 1)
    data = ("\r\n".join(lines) + "\r\n").encode("utf-16").replace("@@".encode("utf-16-le"), b"\x00\xdc", 1)
    path = tmp_path / "ps.jsonl"
    path.write_bytes(data)
    check, _, code = _runs(cli, path, tmp_path)
    assert code == 2 and _counts(check) == [len(HOSTS), len(HOSTS) - 1, 1]
    assert _rejections(check) == [(3, 11, "/2", "not valid UTF-16-LE text: bytes 0x00 0xdc cannot be decoded (illegal encoding); save the file as UTF-8")]


def test_a_byte_lost_mid_file_is_named_where_the_text_goes_out_of_step(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + ("\n".join(LINES) + "\n").encode("utf-16-le")
    start = len(codecs.BOM_UTF16_LE) + 2 * (len(LINES[0]) + 1)  # the second line
    col = LINES[1].index('"os"') + 2
    cut = start + 2 * (col - 1)  # the low byte of its "o": every code unit after it is out of step
    path = tmp_path / "lost.jsonl"
    path.write_bytes(data[:cut] + data[cut + 1 :])
    got = _items(path)
    assert type(got[0]) is HostRecord and got[0].line == 1
    bad = got[1]
    assert type(bad) is Rejected and bad.index == 1
    (d,) = bad.diagnostics
    assert d.line == 2 and "out of step" in d.message and d.code == "encoding"
    assert d.column == col
    assert all(type(g) is Rejected for g in got[1:])  # nothing after the lost byte is taken as a host


@pytest.mark.parametrize("how", ["utf-32-le", "utf-32-be"])
def test_utf32_without_bom_is_read(tmp_path: Path, how: str) -> None:
    doc = tmp_path / "d.json"
    doc.write_bytes(json.dumps({"hosts": HOSTS}, indent=1).encode(how))
    lines = tmp_path / "l.jsonl"
    lines.write_bytes(("\n".join(LINES) + "\n").encode(how))
    for p in (doc, lines):
        got = _items(p)
        assert [g.name for g in got if type(g) is HostRecord] == [h["name"] for h in HOSTS], [_shape(g) for g in got]


# ------------------------------------------------------------------ 2. CR line ends

@pytest.fixture(scope="module")
def fleet_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    from .test_audit import generate

    path = generate(tmp_path_factory.mktemp("cr") / "fleet.jsonl", 200, seed=3)
    return path.read_bytes().splitlines()


def _write(tmp_path: Path, name: str, lines: list[bytes], end: bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    data = end.join(lines) + end
    path.write_bytes(data if encoding == "utf-8" else (codecs.BOM_UTF8 + data if encoding == "utf-8-sig" else data.decode("utf-8").encode(encoding)))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be"])
def test_cr_lf_and_crlf_give_the_same_records(tmp_path: Path, fleet_lines: list[bytes], encoding: str) -> None:
    lines = fleet_lines + [b"", b"   "] + fleet_lines[:5]  # blank lines are counted, not records
    shapes = {}
    for end, name in ((b"\n", "lf"), (b"\r\n", "crlf"), (b"\r", "cr")):
        path = _write(tmp_path, f"{name}.jsonl", lines, end, encoding)
        shapes[end] = [_shape(i) for i in _items(path)]
    assert shapes[b"\r"] == shapes[b"\n"] == shapes[b"\r\n"]
    recs = [s for s in shapes[b"\n"] if s[0] == "record"]
    assert len(shapes[b"\n"]) == len(fleet_lines) + 5 and recs[-1][3] == len(lines)


def test_the_reported_case_a_cr_only_jsonl_through_the_cli(tmp_path: Path, fleet_lines: list[bytes], cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "BLOCK_BYTES", 20_000)  # many blocks for --jobs 2
    lf = _write(tmp_path, "lf.jsonl", fleet_lines, b"\n")
    cr = _write(tmp_path, "cr.jsonl", fleet_lines, b"\r")
    lf_check, lf_audit, lf_code = _runs(cli, lf, tmp_path)
    cr_check, cr_audit, cr_code = _runs(cli, cr, tmp_path)
    assert cr_code == lf_code
    assert _counts(cr_check) == _counts(lf_check) and _counts(cr_check)[0] == len(fleet_lines)
    assert _rejections(cr_check) == _rejections(lf_check)
    assert [(h["name"].replace("cr.jsonl", ""), h["line"]) for h in cr_audit["hosts"]] == [(h["name"].replace("lf.jsonl", ""), h["line"]) for h in lf_audit["hosts"]]


def test_import_reads_cr_only_jsonl(tmp_path: Path, fleet_lines: list[bytes], cli) -> None:
    lf = _write(tmp_path, "lf.jsonl", fleet_lines, b"\n")
    cr = _write(tmp_path, "cr.jsonl", fleet_lines, b"\r")
    outs = []
    for p in (lf, cr):
        out = tmp_path / (p.stem + ".out.jsonl")
        cli("import", "--from", "jsonl", str(p), "-o", str(out))
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") > len(fleet_lines) * 0.9


def test_mixed_line_ends_after_a_cr_first_line(tmp_path: Path) -> None:
    data = (LINES[0] + "\r" + LINES[1] + "\n" + LINES[2] + "\r\n\r" + LINES[3] + "\r").encode()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(data)
    assert [(g.name, g.line) for g in _items(path)] == [(HOSTS[0]["name"], 1), (HOSTS[1]["name"], 2), (HOSTS[2]["name"], 3), (HOSTS[3]["name"], 5)]


@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
@pytest.mark.parametrize("shift", [-2, -1, 0, 1, 2])
def test_a_line_end_across_a_read_boundary(tmp_path: Path, line_end: str, shift: int) -> None:
    """The CR layer reads 1 MiB at a time: a CRLF cut between two reads still ends one line."""
    first = LINES[0] + "\r"  # a bare CR ends the first line: the file is read with CR line ends
    empty = '{"name": "PAD", "provenance": {"source_file": ""}}'
    pad = (1 << 20) - 1 + shift - len(first) - len(empty)  # the line end's CR at byte 1 MiB - 1 + shift
    second = empty.replace('""', '"' + "y" * pad + '"')
    data = (first + second + line_end + LINES[1] + "\r" + LINES[2]).encode()
    assert data[(1 << 20) - 1 + shift] == ord("\r")
    path = tmp_path / "b.jsonl"
    path.write_bytes(data)
    got = _items(path)
    assert [s[2] for s in map(_shape, got)] == [0, 1, 2, 3]
    assert [(g.name, g.line) for g in got if type(g) is HostRecord and g.name != "PAD"] == [(HOSTS[0]["name"], 1), (HOSTS[1]["name"], 3), (HOSTS[2]["name"], 4)]


def test_lf_and_crlf_files_never_take_the_cr_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("an LF/CRLF file went through the CR layer")

    monkeypatch.setattr(load, "_CRLinesAsLF", refuse)
    for end in ("\n", "\r\n"):
        path = tmp_path / "f.jsonl"
        # a stray CR inside a later line stays JSON whitespace there, as it always has
        path.write_bytes((end.join([LINES[0], LINES[1].replace(", ", ",\r", 1), LINES[2]]) + end).encode())
        assert [g.line for g in _items(path)] == [1, 2, 3]


def test_cr_only_json_lines_in_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text("\r".join(LINES) + "\r", encoding="utf-8", newline="")
    assert [(g.name, g.line) for g in _items(path)] == [(h["name"], i + 1) for i, h in enumerate(HOSTS)]


# ------------------------------------------------------------------ 3. numbers orjson refuses, in a JSON document

def _doc(tmp_path: Path, literal: str, *, shape: str = "hosts", where: str = "memory_mb") -> tuple[Path, str]:
    hosts = [dict(h) for h in HOSTS[:2]]
    if shape == "hosts":
        text = json.dumps({"hosts": hosts}, indent=2)
    elif shape == "array":
        text = json.dumps(hosts, indent=2)
    else:
        text = json.dumps(hosts[0], indent=2)
    text = text.replace(f'"{where}": ', f'"{where}": {literal}, "x_was": ', 1)
    path = tmp_path / "doc.json"
    path.write_text(text, encoding="utf-8")
    return path, text


LITERALS = ["1e400", "-1.5E+999", "9" * 400, "-" + "9" * 5000, "NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("literal", LITERALS, ids=lambda s: s[:12])
@pytest.mark.parametrize("shape,base", [("hosts", "/hosts/0"), ("array", "/0"), ("single", "")])
def test_a_refused_number_costs_only_its_host(tmp_path: Path, literal: str, shape: str, base: str) -> None:
    path, text = _doc(tmp_path, literal, shape=shape)
    got = _items(path)
    bad = got[0]
    assert type(bad) is Rejected and bad.index == 0 and bad.host == HOSTS[0]["name"]
    (d,) = bad.diagnostics
    off = text.index(literal)
    line = text.count("\n", 0, off) + 1
    assert (d.line, d.column, d.pointer) == (line, off - text.rfind("\n", 0, off), f"{base}/hardware/memory_mb")
    assert d.host == HOSTS[0]["name"]
    if literal.endswith(("NaN", "Infinity")):
        assert d.message == f"invalid JSON: {literal} is not a JSON number"
    else:
        assert d.message.startswith("number ") and d.message.endswith("is out of range: infinity when parsed as double")
        assert len(d.message) < 120
    if shape != "single":
        assert len(got) == 2 and type(got[1]) is HostRecord and got[1].name == HOSTS[1]["name"]
        assert got[1].facts["hardware"]["memory_mb"] == HOSTS[1]["hardware"]["memory_mb"]
        assert got[1].line == text.count("\n", 0, text.index(f'"name": "{HOSTS[1]["name"]}"')) + 1 - 1  # the line of its "{"


def test_the_reported_case_through_the_cli(tmp_path: Path, cli) -> None:
    path, text = _doc(tmp_path, "1e400")
    check, _, code = _runs(cli, path, tmp_path)
    assert code == 2 and _counts(check) == [2, 1, 1]
    off = text.index("1e400")
    ((line, col, pointer, message),) = _rejections(check)
    assert (line, col, pointer) == (text.count("\n", 0, off) + 1, off - text.rfind("\n", 0, off), "/hosts/0/hardware/memory_mb")
    assert message == "number 1e400 is out of range: infinity when parsed as double"


def test_every_refused_number_is_named_and_strings_are_left_alone(tmp_path: Path) -> None:
    hosts = [json.loads(json.dumps(h)) for h in HOSTS]
    hosts[0]["hardware"]["memory_mb"] = "@NAN@"
    hosts[1]["os"]["caption"] = 'NaN 1e400 \\" Infinity " 2e308 -Infinity'
    hosts[3]["hardware"] = {**hosts[3].get("hardware", {}), "memory_mb": "@BIG@"}
    hosts[3]["extensions"] = {"n": "@NINF@"}
    text = json.dumps({"hosts": hosts}, indent=1)
    text = text.replace('"@NAN@"', "NaN").replace('"@BIG@"', "2e308").replace('"@NINF@"', "-Infinity")
    path = tmp_path / "many.json"
    path.write_text(text, encoding="utf-8")
    got = _items(path)
    assert [type(g).__name__ for g in got] == ["Rejected", "HostRecord", "HostRecord", "Rejected"]
    assert got[1].facts["os"]["caption"] == hosts[1]["os"]["caption"]
    assert [d.message for d in got[0].diagnostics] == ["invalid JSON: NaN is not a JSON number"]
    assert {(d.pointer, d.message) for d in got[3].diagnostics} == {
        ("/hosts/3/hardware/memory_mb", "number 2e308 is out of range: infinity when parsed as double"),
        ("/hosts/3/extensions/n", "invalid JSON: -Infinity is not a JSON number"),
    }


@pytest.mark.parametrize(
    "text",
    [
        '{"hosts": [%s], "extra": NaN}',      # a refused number in no host
        '{"hosts": 1e400, "x": [%s]}',
        '[%s, {"name": "x", "v": NaN]',        # and a syntax error as well
        '[%s, {"name": "x", "v": NaN, "s": "\\ud800"}]',  # and a lone surrogate escape orjson refuses
    ],
)
def test_otherwise_the_whole_document_is_refused_as_before(tmp_path: Path, text: str) -> None:
    path = tmp_path / "d.json"
    path.write_text(text % LINES[0], encoding="utf-8")
    got = _items(path)
    rejected = [g for g in got if type(g) is Rejected]
    assert rejected and all(r.index == -1 for r in rejected) and not [g for g in got if type(g) is HostRecord]
    assert rejected[-1].diagnostics[0].line == 1 and rejected[-1].diagnostics[0].column > 1


def test_valid_documents_never_take_the_number_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("orjson read this document: no second parse")

    monkeypatch.setattr(load, "_bad_numbers", refuse)
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({"hosts": HOSTS}, indent=2), encoding="utf-8")
    assert [g.name for g in _items(path)] == [h["name"] for h in HOSTS]


@pytest.mark.parametrize("literal", ["1e400", "9" * 5000])
def test_a_refused_number_in_json_lines_is_named_with_its_pointer(tmp_path: Path, literal: str) -> None:
    """5000 digits used to end the run: the exact parser's int() refuses over 4300 digits."""
    path = tmp_path / "n.jsonl"
    lines = list(LINES)
    lines[1] = lines[1].replace('"memory_mb": ', f'"memory_mb": {literal}, "x_": ', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = _items(path)
    assert [type(g).__name__ for g in got] == ["HostRecord", "Rejected"] + ["HostRecord"] * (len(HOSTS) - 2)
    (d,) = got[1].diagnostics
    assert (d.line, d.column, d.pointer) == (2, lines[1].index(literal) + 1, "/1/hardware/memory_mb")
    assert "is out of range: infinity when parsed as double" in d.message
