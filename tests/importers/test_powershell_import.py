"""PowerShell-export importer: what Windows PowerShell 5.1 really writes."""
from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

from sitegate.base.diagnostics import Level
from sitegate.facts.importers import ImportStats, import_inputs
from sitegate.facts.importers.powershell import detect
from sitegate.facts.load import HostRecord, Rejected


def _items(*paths: Path, strict: bool = False) -> list[HostRecord | Rejected]:
    return list(import_inputs("powershell", [str(p) for p in paths], strict=strict))


def test_recorded_files_are_utf16_with_bom(data_dir: Path) -> None:
    # The recordings must stay what 5.1 writes; a re-save as UTF-8 would hollow the test.
    raw = (data_dir / "ps" / "TS01" / "os.json").read_bytes()
    assert raw.startswith(codecs.BOM_UTF16_LE) and b"\x00" in raw


def test_server_export_folder(data_dir: Path) -> None:
    items = _items(data_dir / "ps" / "TS01")
    (ts01,) = items
    assert isinstance(ts01, HostRecord), [d.format() for d in ts01.diagnostics]  # type: ignore[union-attr]
    f = ts01.facts
    assert f["name"] == "TS01"
    assert f["os"] == {
        "caption": "Microsoft Windows Server 2019 Datacenter",
        "edition": "Datacenter",
        "version": "10.0.17763",
        "build": 17763,
        "product_type": "server",  # ProductType 3, an integer
        "architecture": "x64",
    }
    assert f["hardware"]["memory_mb"] == 16384  # TotalVisibleMemorySize, kilobytes
    assert f["hardware"]["logical_processors"] == 8  # a single Win32_Processor object, not an array
    assert f["hardware"]["system_drive_free_gb"] == 60.0
    assert f["hardware"]["virtual"] is True
    assert f["dotnet"]["release"] == 528049  # PS* registry noise ignored
    # InstallState 1 = Installed; 0 = Available; non-Web features ignored.
    assert f["iis"]["features"] == ["Web-ASP", "Web-Asp-Net45", "Web-Metabase", "Web-Server", "Web-Static-Content", "Web-WebServer", "Web-Windows-Auth"]
    assert f["iis"]["installed"] is True and f["iis"]["version"] == "10.0"
    assert f["iis"]["request_filtering"] == {
        "max_query_string": 1024,  # the Default Web Site's location overrides 2048
        "max_url": 4096,  # IIS default: not set in the file
        "allow_unlisted_verbs": False,
        "allowed_verbs": ["GET", "POST"],
        "denied_verbs": ["TRACE"],
    }
    # smaregistry.json is recognised by its keys, not its name.
    assert f["agent"]["version"] == "8.7.3264.0"
    assert f["identity"]["notification_server"] == "smp01.corp.example.com"
    assert f["identity"]["resource_guid"] == "59067291-0e3d-44de-85fd-bde4b5632648"
    assert f["identity"]["fqdn"] == "ts01.corp.example.com"
    assert f["site_services"]["installed"] == [{"service": "package"}]
    # host.json adds what no host read can tell.
    assert f["identity"]["site"] == "Berlin"
    assert f["site_services"]["planned"] == ["task", "package"]
    assert f["agent"]["managed"] is True and f["agent"]["asset_status"] == "active"
    # /Date(ms)/ of Win32_OperatingSystem.LocalDateTime dates the export.
    assert f["provenance"]["collected_at"] == "2025-11-25T15:04:05Z"
    assert f["package_store"]["path"].endswith("\\Package Delivery")
    assert f["package_store"]["fixed_media"] is True
    assert f["derived"]["os_name"] == "Windows Server 2019"
    # No store path in the export: the default is assumed, marked and warned about, never passed off as read.
    assert f["provenance"]["fact_sources"] == {"package_store_path": "assumed-default"}
    (assumed,) = ts01.warnings
    assert "package store path not given" in assumed.message and assumed.source.endswith("smaregistry.json")


def test_desktop_export_zip(data_dir: Path) -> None:
    (ws,) = _items(data_dir / "ps" / "WS10.zip")
    assert isinstance(ws, HostRecord)
    f = ws.facts
    assert f["name"] == "WS10"
    assert f["os"]["product_type"] == "workstation"
    # State 4 (DISM Installed) and "Enabled" count; 0 and "Disabled" do not; non-IIS features ignored.
    assert f["iis"]["features"] == ["IIS-ASP", "IIS-Metabase", "IIS-WebServer", "IIS-WebServerRole"]
    assert f["iis"]["installed"] is True
    assert f["derived"]["iis_features"] == ["Web-ASP", "Web-Metabase", "Web-Server", "Web-WebServer"]
    assert f["dotnet"]["release"] == 533320  # a UTF-8 member beside UTF-16 ones
    assert f["provenance"]["collected_at"] == "2025-11-25T15:04:05Z"
    assert f["provenance"]["source_file"].endswith("WS10.zip!WS10")


def test_rejection_points_into_the_source_file(data_dir: Path) -> None:
    (bad,) = _items(data_dir / "ps" / "BAD01")
    assert isinstance(bad, Rejected)
    assert bad.host == "BAD01"
    err = next(d for d in bad.diagnostics if d.level is Level.ERROR)
    assert err.source.endswith("BAD01/os.json")
    assert (err.line, err.column, err.pointer) == (3, 21, "/os/build")
    warn = next(d for d in bad.diagnostics if d.level is Level.WARNING)
    assert (warn.line, warn.column) == (4, 21) and "product type 7" in warn.message


def test_folder_of_hosts_and_accounting(data_dir: Path) -> None:
    stats = ImportStats()
    items = [stats.observe(i) for i in _items(data_dir / "ps")]
    names = [i.name if isinstance(i, HostRecord) else i.host for i in items]
    assert names == ["BAD01", "TS01", "WS10"]
    assert (stats.read, stats.accepted, stats.rejected) == (3, 2, 1)
    assert any(":3:21: error:" in r for r in stats.reasons())


def test_strict_and_bad_files(tmp_path: Path) -> None:
    host = tmp_path / "H1"
    host.mkdir()
    (host / "os.json").write_text('{"BuildNumber": "17763", "ProductType": 3, "OSArchitecture": "sparc"}', "utf-8")
    (host / "features.json").write_text('[{"Name": "Web-Server", "InstallState": 1},', "utf-8")  # truncated
    (host / "notes.json").write_text('{"hello": "world"}', "utf-8")
    items = _items(host)
    broken = [i for i in items if isinstance(i, Rejected) and i.index == -1]
    assert broken and broken[0].diagnostics[0].code == "json-syntax" and broken[0].diagnostics[0].line == 1
    rec = next(i for i in items if isinstance(i, HostRecord))
    assert rec.name == "H1"  # folder name when no file names the host
    assert {w.code for w in rec.warnings} == {"ps-value", "ps-file"}
    strict = [i for i in _items(host, strict=True) if not (isinstance(i, Rejected) and i.index == -1)]
    assert isinstance(strict[0], Rejected)


def test_not_a_folder(tmp_path: Path) -> None:
    (item,) = _items(tmp_path / "nope")
    assert isinstance(item, Rejected) and item.index == -1
    z = tmp_path / "empty.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    (item,) = _items(z)
    assert isinstance(item, Rejected) and "no .json" in item.diagnostics[0].message


def test_detect_by_keys() -> None:
    assert detect({"FeatureName": "IIS-ASP", "State": 2}) == "optional_features"
    assert detect([{"Name": "Web-ASP", "InstallState": 1}]) == "windows_features"
    assert detect({"BuildNumber": "17763"}) == "os"
    assert detect({"Release": 528040}) == "dotnet"
    assert detect(528040) == "dotnet"
    assert detect({"MajorVersion": 10, "MinorVersion": 0}) == "inetstp"
    assert detect({"DeviceID": "C:", "FreeSpace": 1}) == "disks"
    assert detect({"name": "TS01", "site": "Berlin"}) == "host"
    assert detect({"x": 1}) is None
