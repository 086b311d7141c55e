"""CSV importer: a messy console export, Excel's UTF-16 text, and a mapped CMDB query."""
from __future__ import annotations

from pathlib import Path

import pytest

from sitegate.base.diagnostics import InputError, Level
from sitegate.facts.importers import ImportStats, import_inputs, load_mapping
from sitegate.facts.importers.csv import field_starts, sniff_delimiter
from sitegate.facts.load import HostRecord, Rejected


def _run(paths: list[Path], **kw: object) -> tuple[dict[str, HostRecord], list[Rejected], ImportStats]:
    stats = ImportStats()
    hosts: dict[str, HostRecord] = {}
    rejected: list[Rejected] = []
    for item in import_inputs("csv", [str(p) for p in paths], **kw):  # type: ignore[arg-type]
        stats.observe(item)
        if isinstance(item, HostRecord):
            hosts[item.name] = item
        else:
            rejected.append(item)
    return hosts, rejected, stats


def test_messy_console_export(data_dir: Path) -> None:
    hosts, rejected, stats = _run([data_dir / "csv" / "messy.csv"])
    ts01 = hosts["TS01"].facts
    # Windows-1252 decoded, ';' sniffed, quoted ';' inside a cell kept.
    assert ts01["identity"]["site"] == "München"
    assert ts01["iis"]["features"] == ["Web-Server", "Web-WebServer", "Web-ASP", "Web-Asp-Net45", "Web-Windows-Auth"]
    assert ts01["os"]["product_type"] == "server"
    assert ts01["hardware"]["memory_mb"] == 16384  # "16,384"
    assert ts01["hardware"]["system_drive_free_gb"] == 60.5  # "60,5" decimal comma
    assert ts01["dotnet"]["release"] == 528049  # ".NET Release" header alias
    assert ts01["site_services"]["installed"] == [{"service": "task", "version": "8.7.3264.0"}]
    assert ts01["load"]["endpoints"] == 4200  # "4.200"
    assert ts01["provenance"]["collected_at"] == "2026-11-25T15:04:05"
    assert ts01["derived"]["dotnet_version"] == "4.8"
    ps02 = hosts["PS02"].facts
    assert "fqdn" not in ps02["identity"]  # NULL = missing, never the text "NULL"
    assert ps02["os"]["build"] == 20348  # NULL build filled from the version's third part
    assert ps02["hardware"]["memory_mb"] == 16384  # "16.384"
    assert ps02["load"]["endpoints"] == 12000  # "12 000"
    assert ps02["agent"]["version"] == "8.7.3264"
    assert ps02["agent"]["asset_status"] == "in_stock"
    ws03 = hosts["WS03"].facts
    assert ws03["os"]["version"] == "10.0.19045" and ws03["os"]["build"] == 19045
    assert ws03["hardware"]["memory_mb"] == 8192  # "8 192"
    assert ws03["agent"]["local"] is False
    assert ws03["provenance"]["collected_at"] == "2026-11-25T15:04:00"
    assert "features" not in ws03["iis"]  # empty cell
    assert stats.read == 6 and stats.accepted == 4 and stats.rejected == 2


def test_messy_rejections_point_at_the_cell(data_dir: Path) -> None:
    _, rejected, stats = _run([data_dir / "csv" / "messy.csv"])
    src = str(data_dir / "csv" / "messy.csv")
    by_index = {r.index: r for r in rejected}
    big = by_index[3]
    assert big.host == "BIG04"
    d = big.diagnostics[0]
    # Row 5, the OS Build cell: after "BIG04;big04.corp.example.com;Berlin;Microsoft Windows Server 2019 Standard;10.0.17763;"
    prefix = "BIG04;big04.corp.example.com;Berlin;Microsoft Windows Server 2019 Standard;10.0.17763;"
    assert (d.source, d.line, d.column, d.pointer) == (src, 5, len(prefix) + 1, "/os/build")
    assert "999999" in d.message
    noname = by_index[4]
    assert any("name" in x.message for x in noname.diagnostics)
    assert all((x.line, x.column) == (6, 1) for x in noname.diagnostics)
    # The accounting keeps every rejection with file:line:col.
    assert any(r.startswith(f"{src}:5:{len(prefix) + 1}: error:") for r in stats.reasons())
    # The file-level warnings (unknown column) are counted, not lost.
    header_warnings = [r for r in rejected if r.index == -1]
    assert header_warnings and all(x.level is Level.WARNING for x in header_warnings[0].diagnostics)
    assert any("'Owner'" in x.message for x in header_warnings[0].diagnostics)
    assert stats.file_errors == 0


def test_unreadable_cells_are_warnings_with_positions(data_dir: Path) -> None:
    hosts, _, _ = _run([data_dir / "csv" / "messy.csv"])
    odd = hosts["ODD05"]
    msgs = {w.pointer: w for w in odd.warnings}
    assert set(msgs) >= {"/os/product_type", "/iis/installed", "/hardware/memory_mb", "/agent/version", "/agent/asset_status", "/provenance/collected_at"}
    assert msgs["/os/product_type"].line == 7
    line7 = "ODD05;odd05.corp.example.com;Berlin;Microsoft Windows Server 2016 Standard;10.0.14393;14393;"
    assert msgs["/os/product_type"].column == len(line7) + 1
    assert "product_type" not in odd.facts["os"]


def test_strict_rejects_records_with_warnings(data_dir: Path) -> None:
    hosts, rejected, stats = _run([data_dir / "csv" / "messy.csv"], strict=True)
    assert "ODD05" not in hosts
    odd = next(r for r in rejected if r.host == "ODD05")
    assert all(d.level is Level.ERROR and d.message.endswith("(--strict)") for d in odd.diagnostics)
    assert stats.rejected == 3


def test_excel_unicode_text(data_dir: Path) -> None:
    hosts, rejected, _ = _run([data_dir / "csv" / "excel-unicode.txt"])
    assert not rejected
    assert hosts["TS11"].facts["site_services"]["planned"] == ["task", "package"]
    assert hosts["TS11"].facts["os"]["product_type"] == "server"
    assert hosts["TS10"].facts["dotnet"]["release"] == 528449


def test_mapped_cmdb_query(data_dir: Path) -> None:
    hosts, rejected, _ = _run([data_dir / "csv" / "custom.csv"], mapping=str(data_dir / "csv" / "mapping.yaml"))
    assert not rejected, [d.format() for r in rejected for d in r.diagnostics]
    ts20 = hosts["TS20"].facts
    assert ts20["hardware"]["memory_mb"] == 16384  # 16,777,216 KB
    assert ts20["hardware"]["system_drive_free_gb"] == 60.0  # 61,440 MB
    assert ts20["agent"]["asset_status"] == "active"  # value map
    assert ts20["identity"]["site"] == "Frankfurt"  # constant
    assert ts20["os"]["product_type"] == "server"
    assert ts20["provenance"]["collected_at"] == "2026-11-25T15:04:00"
    assert hosts["TS21"].facts["agent"]["asset_status"] == "retired"
    # The quoted multi-line comment did not shift the next record's line.
    assert hosts["TS21"].line == 4


def test_mapping_errors_carry_positions(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('columns:\n  "A": nme\n  "B": {column: memory_mb, unit: parsecs}\nfoo: 1\n', "utf-8")
    with pytest.raises(InputError) as exc:
        load_mapping(str(bad))
    diags = {(d.line, d.column): d.message for d in exc.value.diagnostics}
    assert any("did you mean 'name'" in m for m in diags.values())
    assert any("parsecs" in m for m in diags.values())
    assert any(m.startswith("unknown key 'foo'") for m in diags.values())
    assert (2, 8) in diags  # the 'nme' value
    # Through import_inputs, a bad mapping is one file-level rejection, not a traceback.
    items = list(import_inputs("csv", [str(tmp_path / "x.csv")], mapping=str(bad)))
    assert len(items) == 1 and isinstance(items[0], Rejected) and items[0].index == -1


def test_file_level_problems(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    noname = tmp_path / "noname.csv"
    noname.write_text("os_build,site\n17763,Berlin\n", "utf-8")
    items = list(import_inputs("csv", [str(empty), str(noname), str(tmp_path / "missing.csv")]))
    assert [type(i) for i in items] == [Rejected, Rejected, Rejected]
    assert "empty" in items[0].diagnostics[0].message
    assert "no 'name' column" in items[1].diagnostics[0].message
    assert "cannot read" in items[2].diagnostics[0].message
    stats = ImportStats()
    for i in items:
        stats.observe(i)
    assert stats.file_errors == 3 and not stats.ok


def test_extra_fields_and_blank_lines(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("name,os_build\n\nTS01,17763,surplus\n\n", "utf-8")
    (item,) = list(import_inputs("csv", [str(f)]))
    assert isinstance(item, HostRecord)
    assert item.line == 3
    assert any("extra fields" in w.message and (w.line, w.column) == (3, 12) for w in item.warnings)


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("name,site,os_build", ","), ("name;site;os_build", ";"), ("name\tsite\tos_build", "\t"), ("name|site", "|"), ('"a,b";c;d', ";"), ("name", ",")],
)
def test_sniff_delimiter(header: str, delimiter: str) -> None:
    assert sniff_delimiter(header) == delimiter


def test_field_starts_respects_quotes() -> None:
    assert field_starts('a;"b;""c""";d\r\n', ";") == [0, 2, 12]


def test_locator_points_at_cells(data_dir: Path) -> None:
    items = [i for i in import_inputs("csv", [str(data_dir / "csv" / "messy.csv")], locate=True) if isinstance(i, HostRecord)]
    ts01 = items[0]
    assert ts01.locate("/os/build")[0] == 2
    assert ts01.locate("/os/build")[1] == len("TS01;ts01.corp.example.com;München;Microsoft Windows Server 2019 Datacenter;10.0.17763;") + 1
    assert ts01.locate("/nowhere") == (2, 1)
