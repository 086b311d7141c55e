"""The on-host collector: one conversion path, recorded raw reads, and its script.

PowerShell cannot be installed here, so ``collect.ps1`` is checked two ways:
its raw-read folders (tests/data/collector/PS02 and WS11, written in the exact
layout and encoding the script writes: UTF-8 without a BOM, Windows
PowerShell 5.1's ConvertTo-Json layout, CRLF) go through the one Python
conversion, and the script text is checked statically (test_collect_ps1_static.py).
The two recorded hosts were built by hand from the script's Save-Raw calls and
Microsoft's documented property types; they were not captured on a real host.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sitegate.facts.collect import (
    CollectError,
    NotOnWindows,
    collect_local,
    collect_with,
    collector_script,
    facts_from_raw_directory,
)
from sitegate.facts.collector import COLLECTOR_NAME
from sitegate.facts.collector.parse import build_facts, request_filtering_from_config
from sitegate.facts.importers import import_inputs
from sitegate.facts.importers._common import strip_derived
from sitegate.facts.load import HostRecord

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "facts" / "collector" / "collect.ps1"
RECORDED = ROOT / "tests" / "data" / "collector"
HOSTS = ("PS02", "WS11")


def _imported(folder: Path) -> tuple[dict[str, Any], HostRecord]:
    """Facts of one host folder through `import --from powershell` (file form: no derived, no source_file)."""
    (item,) = list(import_inputs("powershell", [str(folder)]))
    assert isinstance(item, HostRecord), [d.format() for d in item.diagnostics]  # type: ignore[union-attr]
    facts = strip_derived(item.facts)
    assert facts["provenance"].pop("source_file") == str(folder)
    return facts, item


def test_collector_output_sample_validates(data_dir: Path, facts_validator: Draft202012Validator) -> None:
    """collector-output.json is what collect.ps1 1.0.0 wrote (a facts file); it still loads unchanged."""
    raw = (data_dir / "collector-output.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    doc = json.loads(raw)
    errors = sorted(facts_validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [e.message for e in errors]
    assert doc["provenance"]["collected_by"] == {"name": COLLECTOR_NAME, "version": "1.0.0"}
    (item,) = list(import_inputs("collector", [str(data_dir / "collector-output.json")]))
    assert isinstance(item, HostRecord) and not item.warnings


@pytest.mark.parametrize("host", HOSTS)
def test_recorded_raw_reads_are_what_the_script_writes(host: str) -> None:
    script = SCRIPT.read_text("utf-8")
    for f in sorted((RECORDED / host).iterdir()):
        data = f.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\x00" not in data, f  # UTF8Encoding($false)
        assert f"'{f.name}'" in script, f"{f.name} is not a file collect.ps1 writes"
        if f.suffix == ".json":
            json.loads(data)


@pytest.mark.parametrize("host", HOSTS)
def test_raw_directory_reimport_reproduces_the_facts(host: str, facts_validator: Draft202012Validator) -> None:
    """19.5: a raw folder alone gives the whole facts file, known folders, store, site, plan and time included."""
    expected = json.loads((RECORDED / f"{host}.facts.json").read_text("utf-8"))
    assert not list(facts_validator.iter_errors(expected)), "the expected facts file must itself be valid"
    facts, _ = _imported(RECORDED / host)
    assert facts == expected


def test_reimport_keeps_what_only_the_run_knew() -> None:
    facts, _ = _imported(RECORDED / "PS02")
    assert facts["identity"]["site"] == "Hamburg"  # host.json
    assert facts["site_services"]["planned"] == ["package", "task"]  # host.json
    assert facts["package_store"] == {"path": "D:\\Packages", "in_known_folder": False, "fixed_media": True}  # collection.json + knownfolders.json
    assert facts["hardware"]["package_store_free_gb"] == 200.0  # the D: drive, not C:
    assert facts["provenance"]["collected_at"] == "2026-11-20T09:14:03Z"  # collection.json
    assert "fact_sources" not in facts["provenance"]  # the store was given, nothing assumed


class FakePowerShell:
    """Stands in for powershell.exe running collect.ps1: writes a recorded host folder where -OutDirectory says."""

    def __init__(self, host: str):
        self.host = host
        self.args: list[str] = []

    def __call__(self, args: list[str]) -> None:
        self.args = args
        script = Path(args[args.index("-File") + 1])
        assert script.read_text("utf-8") == collector_script()  # the bundled script is what runs
        out = Path(args[args.index("-OutDirectory") + 1])
        shutil.copytree(RECORDED / self.host, out / self.host)


@pytest.mark.parametrize("host", HOSTS)
def test_collector_path_and_importer_give_identical_facts(host: str) -> None:
    """13.5: the same raw reads through `sitegate collect`'s path and through `import --from powershell`."""
    collected_warnings: list[str] = []
    collected = collect_with(FakePowerShell(host), warnings=collected_warnings)
    imported, record = _imported(RECORDED / host)
    assert collected == imported
    assert collected_warnings == [d.message for d in record.warnings]


def test_collect_passes_the_store_and_reports_bad_output(tmp_path: Path, data_dir: Path) -> None:
    fake = FakePowerShell("PS02")
    collect_with(fake, package_store_path=r"E:\Store")
    assert fake.args[fake.args.index("-PackageStorePath") + 1] == r"E:\Store"
    assert fake.args[:4] == ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"]
    with pytest.raises(CollectError, match="no raw reads"):
        collect_with(lambda args: None)
    shutil.copytree(data_dir / "ps" / "BAD01", tmp_path / "BAD01")  # a build number the schema refuses
    with pytest.raises(CollectError, match=r"could not be converted: .*BAD01.os\.json:3:21"):
        facts_from_raw_directory(str(tmp_path))


def test_collector_script_resource() -> None:
    assert collector_script() == SCRIPT.read_text("utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="checks the off-Windows refusal")
def test_collect_local_refuses_off_windows() -> None:
    with pytest.raises(NotOnWindows, match="site server"):
        collect_local()


# --- The conversion (parse.py), item by item ---------------------------------------------------


def test_site_service_markers_only_on_symantec_services() -> None:
    """19.2: 'Citrix Monitor Service' is no ITMS monitor service."""
    citrix = {"services": [{"Name": "CitrixMonitor", "DisplayName": "Citrix Monitor Service"}, {"Name": "TaskSrv", "DisplayName": "Contoso Task Server"}]}
    assert "site_services" not in build_facts(citrix).facts
    ours = {"services": [{"Name": "AltirisMon", "DisplayName": "Symantec Monitor Service"}]}
    assert build_facts(ours).facts["site_services"]["installed"] == [{"service": "monitor"}]


def test_default_store_is_marked_assumed() -> None:
    """19.2: without a store path the default is assumed, marked and warned about."""
    built = build_facts({"agent": {"InstallDir": "D:\\Altiris\\Altiris Agent"}})
    assert built.facts["package_store"]["path"] == "D:\\Altiris\\Altiris Agent\\Package Delivery"
    assert built.facts["provenance"]["fact_sources"] == {"package_store_path": "assumed-default"}
    assert [n.message for n in built.notes] == ["package store path not given: the default D:\\Altiris\\Altiris Agent\\Package Delivery is assumed (pass -PackageStorePath for a custom store)"]
    given = build_facts({"agent": {"InstallDir": "D:\\Altiris\\Altiris Agent"}, "collection": {"PackageStorePath": "E:\\Pkg"}})
    assert given.facts["package_store"]["path"] == "E:\\Pkg" and "provenance" not in given.facts and not given.notes


def test_program_files_64_bit_is_a_known_folder() -> None:
    """19.2: ProgramW6432 in knownfolders.json makes C:\\Program Files a Known Folder even for a 32-bit read."""
    raw = {"package_store_path": "C:\\Program Files\\Pkg", "known_folders": {"KnownFolders": ["C:\\Program Files (x86)", "C:\\Program Files"], "ProfilesDirectory": "C:\\Users"}}
    assert build_facts(raw).facts["package_store"]["in_known_folder"] is True
    raw["known_folders"] = {"KnownFolders": ["C:\\Program Files (x86)"]}
    assert build_facts(raw).facts["package_store"]["in_known_folder"] is False


@pytest.mark.parametrize(
    ("raw", "absent"),
    [
        ({}, "iis"),  # iis.json not written (InetStp unreadable): IIS unknown, not "not installed"
        ({"request_filtering": {"maxQueryString": None, "maxUrl": None}}, "iis"),  # $null from Get-WebConfiguration
        ({"physical_memory": [{"Capacity": 0}], "os": {}}, "hardware"),  # a DIMM without capacity is not 0 MB
        ({"physical_memory": [{"Capacity": None}], "os": {}}, "hardware"),
    ],
)
def test_unreadable_is_not_absent(raw: dict[str, Any], absent: str) -> None:
    """19.2: what could not be read is left out, never written as false or 0."""
    assert absent not in build_facts(raw).facts


def test_memory_falls_back_when_a_dimm_is_unreadable() -> None:
    raw = {"physical_memory": [{"Capacity": 8589934592}, {"Capacity": 0}], "os": {"TotalVisibleMemorySize": 16617100}}
    assert build_facts(raw).facts["hardware"]["memory_mb"] == 16228
    assert build_facts({"inetstp": {}}).facts["iis"]["installed"] is False  # read, and absent: no IIS


def test_features_from_win32_optional_feature() -> None:
    """19.3: the CIM fall-through (no DISM) gives the features too; unknown states are reported."""
    built = build_facts({"cim_optional_features": [{"Name": "IIS-WebServerRole", "InstallState": 1}, {"Name": "IIS-ASP", "InstallState": 2},
                                                   {"Name": "IIS-CGI", "InstallState": 4}, {"Name": "TelnetClient", "InstallState": 1}]})
    assert built.facts["iis"] == {"features": ["IIS-WebServerRole"], "installed": True}
    assert [p.pointer for p in built.problems] == ["/2"]



@pytest.mark.parametrize(
    ("raw", "features", "problems"),
    [
        (
            {"windows_features": [{"Name": "Web-Server", "Installed": True}, {"Name": "Web-ASP", "Installed": False},
                                  {"Name": "  "}, {"Name": "Web-CGI"}, {"Name": "RSAT", "Installed": True}]},
            ["Web-Server"],
            [("windows_features", "/2", "feature without a Name"), ("windows_features", "/3", "feature Web-CGI: install state unknown")],
        ),
        (
            {"optional_features": [{"FeatureName": "IIS-WebServer", "State": "Enabled"}, {"Name": "IIS-ASP", "State": "Disabled"},
                                   {"State": "Enabled"}, {"FeatureName": "IIS-CGI"}, {"FeatureName": "TelnetClient", "State": "Enabled"}]},
            ["IIS-WebServer"],
            [("optional_features", "/2", "optional feature without a FeatureName"), ("optional_features", "/3", "feature IIS-CGI: state unknown")],
        ),
        (
            {"cim_optional_features": [{"Name": "IIS-WebServer", "InstallState": 1}, {"Name": "IIS-ASP", "InstallState": True},
                                       {"Name": ""}, {"Name": "IIS-CGI", "InstallState": 3}]},
            ["IIS-WebServer"],
            [("cim_optional_features", "/1", "feature IIS-ASP: install state True unknown"), ("cim_optional_features", "/2", "optional feature without a Name")],
        ),
        # The first section read wins, even when it lists nothing installed.
        (
            {"windows_features": [], "optional_features": [{"FeatureName": "IIS-WebServer", "State": "Enabled"}]},
            [],
            [],
        ),
    ],
)
def test_each_feature_section_reads_names_states_and_problems(raw: dict[str, Any], features: list[str], problems: list[tuple[str, str, str]]) -> None:
    built = build_facts(raw)
    assert built.facts["iis"]["features"] == features
    assert [(p.section, p.pointer, p.message) for p in built.problems] == problems

@pytest.mark.parametrize(
    ("os_", "expected"),
    [
        ({"OperatingSystemSKU": 101, "Caption": "Microsoft Windows 11 Famille"}, "Home"),
        ({"OperatingSystemSKU": 4, "Caption": "Microsoft Windows 10 Корпоративная"}, "Enterprise"),
        ({"OperatingSystemSKU": 48, "Caption": "Microsoft Windows 10 专业版"}, "Pro"),
        ({"OperatingSystemSKU": 8, "Caption": "Microsoft Windows Server 2019 Standard"}, "Datacenter"),  # the SKU wins
        ({"OperatingSystemSKU": 9999, "Caption": "Microsoft Windows Server 2019 Standard"}, "Standard"),  # unknown SKU: caption
        ({"Caption": "Microsoft Windows 10 Entreprise"}, None),  # no SKU, French caption: unknown, not a guess
    ],
)
def test_edition_from_operating_system_sku(os_: dict[str, Any], expected: str | None) -> None:
    """19.3: edition from OperatingSystemSKU, the localised caption only as a fallback."""
    assert build_facts({"os": os_}).facts.get("os", {}).get("edition") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"processors": [{"Architecture": 9}], "os": {"OSArchitecture": "32-bit"}}, "x64"),  # the processor, not the text
        ({"processors": [{"Architecture": 9}], "collection": {"Is64BitOperatingSystem": False}}, "x86"),  # 32-bit Windows on x64
        ({"processors": [{"Architecture": 12}]}, "arm64"),
        ({"processors": [{"Architecture": 0}]}, "x86"),
        ({"os": {"OSArchitecture": "64-разрядная"}}, "x64"),  # no Architecture: localised text fallback
        ({"os": {"OSArchitecture": "64 ビット"}}, "x64"),
        ({"os": {"OSArchitecture": "32 位"}}, "x86"),
        ({"processors": [{"Architecture": 6}]}, None),  # Itanium: no fact value
    ],
)
def test_architecture_from_win32_processor(raw: dict[str, Any], expected: str | None) -> None:
    """19.3: architecture from Win32_Processor.Architecture, locale-free."""
    assert build_facts(raw).facts.get("os", {}).get("architecture") == expected


def test_agent_version_falls_back_to_the_file_version() -> None:
    """19.3: registry Version first; AeXNSAgent.exe's file version otherwise, and the facts say which."""
    reg = build_facts({"agent": {"Version": "8.7.3264.0", "FileVersion": "8.7.3000.0"}})
    assert reg.facts["agent"]["version"] == "8.7.3264.0" and "provenance" not in reg.facts
    exe = build_facts({"agent": {"Version": "unknown", "FileVersion": "8.7.3264.0"}})
    assert exe.facts["agent"]["version"] == "8.7.3264.0"
    assert exe.facts["provenance"]["fact_sources"] == {"agent_version": "agent-file-version"}
    neither = build_facts({"agent": {"Version": "unknown"}})
    assert "agent" not in neither.facts and neither.problems


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"services": [{"Name": "AeXSvc", "DisplayName": "Altiris Service"}]}, True),  # the NS's own service
        ({"computer_name": "SMP01", "agent": {"Servers": ["smp01.corp.example.com"]}}, True),  # the agent reports to itself
        ({"computer_name": "TS01", "agent": {"Servers": ["smp01.corp.example.com"]}, "services": []}, False),
        ({"computer_name": "TS01", "agent": {"Servers": ["smp01.corp.example.com"]}}, None),  # services not read: unknown
        ({"computer_name": "TS01"}, None),
    ],
)
def test_is_notification_server(raw: dict[str, Any], expected: bool | None) -> None:
    """19.3: identity.is_notification_server only when the reads settle it."""
    assert build_facts(raw).facts.get("identity", {}).get("is_notification_server") == expected


def test_collector_warnings_are_kept_and_reported() -> None:
    built = build_facts({"collection": {"Warnings": ["Win32_Service could not be read: Access denied"]}})
    assert built.facts["extensions"] == {"sitegate_collector_warnings": ["Win32_Service could not be read: Access denied"]}
    assert [(n.section, n.pointer) for n in built.notes] == [("collection", "/Warnings/0")]


@pytest.mark.parametrize(
    ("raw", "path", "expected"),
    [
        ({"os": {"ProductType": 2}}, ("os", "product_type"), "domain_controller"),
        ({"os": {"Version": "10.0.17763"}}, ("os", "build"), 17763),
        ({"dotnet": 394802}, ("dotnet", "release"), 394802),
        ({"dotnet": {"Release": "461814"}}, ("dotnet", "release"), 461814),
        ({"inetstp": {}}, ("iis", "installed"), False),
        ({"computer_system": {"Name": "WG1", "Domain": "WORKGROUP", "PartOfDomain": False}}, ("name",), "WG1"),
        ({"collection": {"ComputerName": "PS02", "CollectedAt": "2026-11-20T09:14:03Z"}}, ("provenance", "collected_at"), "2026-11-20T09:14:03Z"),
    ],
)
def test_build_facts_table(raw: dict[str, Any], path: tuple[str, ...], expected: Any) -> None:
    node: Any = build_facts(raw).facts
    for p in path:
        node = node[p]
    assert node == expected


def test_workgroup_has_no_domain() -> None:
    facts = build_facts({"computer_system": {"Name": "WG1", "Domain": "WORKGROUP", "PartOfDomain": False}}).facts
    assert "identity" not in facts


def test_no_service_finding_leaves_installed_unknown() -> None:
    facts = build_facts({"services": [{"Name": "W3SVC", "DisplayName": "World Wide Web Publishing Service"}]}).facts
    assert "site_services" not in facts


def test_request_filtering_config_rules() -> None:
    text = """<configuration>
      <system.webServer><security><requestFiltering>
        <verbs><add verb="PUT" allowed="false"/><add verb="HEAD" allowed="true"/></verbs>
      </requestFiltering></security></system.webServer>
      <location path="Other Site"><system.webServer><security><requestFiltering><requestLimits maxUrl="1"/></requestFiltering></security></system.webServer></location>
      <location path="Default Web Site"><system.webServer><security><requestFiltering>
        <verbs><remove verb="PUT"/></verbs>
      </requestFiltering></security></system.webServer></location>
    </configuration>"""
    rf = request_filtering_from_config(text)
    assert rf is not None
    assert rf["maxUrl"] == 4096  # "Other Site" does not apply
    assert rf["verbs"] == [{"verb": "HEAD", "allowed": True}]
    assert request_filtering_from_config("<other/>") is None
    with pytest.raises(ValueError, match="DTD"):
        request_filtering_from_config('<!DOCTYPE x [<!ENTITY a "b">]><configuration/>')
    with pytest.raises(ValueError, match="well-formed"):
        request_filtering_from_config("<configuration>")


KNOWN = [r"C:\Windows\system32\config\systemprofile\Desktop", r"C:\Users\Public\Documents", r"C:\Program Files",
         r"C:\ProgramData", r"C:\Windows", "", "C:\\"]
AGENT = {"InstallDir": r"C:\Program Files\Altiris\Altiris Agent"}


@pytest.mark.parametrize(
    ("store", "known", "profiles", "expected"),
    [
        (None, None, None, False),  # the default store, even with no Known Folders read
        (r"c:/program files/altiris/altiris agent/package delivery/", None, None, False),  # the default, spelt otherwise
        (r"D:\Packages", KNOWN, r"C:\Users", False),
        (r"C:\Packages", KNOWN, r"C:\Users", False),  # "C:\" is read as a folder: a drive root is none
        (r"C:\Users\Public\Documents", KNOWN, r"C:\Users", True),  # a Known Folder itself
        (r"C:\ProgramData\Packages", KNOWN, None, True),  # inside one
        (r"c:\programdata2\Packages", KNOWN, None, False),  # a longer name is not inside
        (r"C:\Users\alice\Downloads\pkg", KNOWN, r"C:\Users", True),  # another user's folders: under the profiles root
        (r"C:\Program Files\Other\Packages", KNOWN, None, True),
        (r"\\filer\packages", KNOWN, None, False),
        (r"D:\Packages", None, r"C:\Users", None),  # not read: unknown, not a pass
    ],
)
def test_package_store_in_known_folder(store: Any, known: Any, profiles: Any, expected: Any) -> None:
    raw: dict[str, Any] = {"agent": AGENT}
    if store is not None:
        raw["package_store_path"] = store
    if known is not None:
        raw["known_folders"] = known
    if profiles is not None:
        raw["profiles_directory"] = profiles
    facts = build_facts(raw).facts
    assert facts["package_store"].get("in_known_folder") == expected
    if expected is None:
        assert "in_known_folder" not in facts["package_store"]


NETWORK_OK = {"NsUrl": "http://smp01.corp.example.com/Altiris", "NsHost": "smp01.corp.example.com", "Port": 443, "Attempted": True,
              "Connected": True, "TlsEstablished": True, "StatusLine": "HTTP/1.1 401 Unauthorized", "ChainBuilt": False,
              "ChainStatus": ["UntrustedRoot"], "SslPolicyErrors": "RemoteCertificateChainErrors"}


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        (NETWORK_OK, {"ns_url": "http://smp01.corp.example.com/Altiris", "ns_https_reachable": True, "ns_certificate_chain_valid": False}),
        ({"Attempted": True, "Connected": False, "TlsEstablished": False, "Error": "No connection could be made", "ErrorType": "System.Net.Sockets.SocketException"},
         {"ns_https_reachable": False}),
        ({"Attempted": True, "Connected": True, "TlsEstablished": False, "Error": "handshake failed", "ErrorType": "System.Security.Authentication.AuthenticationException"},
         {"ns_https_reachable": False}),
        # The probe failing for its own reasons says nothing about the network: unknown, not false.
        ({"Attempted": True, "Connected": True, "Error": "Cannot find an overload", "ErrorType": "System.Management.Automation.MethodException"}, None),
        ({"Attempted": False, "NsUrl": "http://smp01/Altiris"}, {"ns_url": "http://smp01/Altiris"}),  # -SkipNetworkProbe
        ({"Attempted": False}, None),
        ({**NETWORK_OK, "ChainBuilt": True, "SslPolicyErrors": "None"}, {"ns_url": "http://smp01.corp.example.com/Altiris", "ns_https_reachable": True, "ns_certificate_chain_valid": True}),
        # A trusted chain for the wrong name is no valid certificate for this NS.
        ({**NETWORK_OK, "ChainBuilt": True, "SslPolicyErrors": "RemoteCertificateNameMismatch"},
         {"ns_url": "http://smp01.corp.example.com/Altiris", "ns_https_reachable": True, "ns_certificate_chain_valid": False}),
    ],
)
def test_network_facts_from_the_https_probe(network: dict[str, Any], expected: dict[str, Any] | None, facts_validator: Draft202012Validator) -> None:
    """Issue 15's facts: reachability and trust told apart; only the network's own answers give false."""
    built = build_facts({"computer_name": "TS01", "network": network})
    assert built.facts.get("network") == expected
    assert not list(facts_validator.iter_errors(built.facts))
