"""The on-host collector: its Python conversion, its script and its output shape."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sitegate.facts.collect import NotOnWindows, collect_local, collector_script, facts_from_raw, gather_raw
from sitegate.facts.collector import COLLECTOR_NAME, COLLECTOR_VERSION
from sitegate.facts.collector.parse import build_facts, request_filtering_from_config
from sitegate.facts.importers import import_inputs
from sitegate.facts.load import HostRecord

SCRIPT = Path(__file__).resolve().parents[2] / "facts" / "collector" / "collect.ps1"


def test_collector_output_sample_validates(data_dir: Path, facts_validator: Draft202012Validator) -> None:
    """collector-output.json is what collect.ps1 writes (5.1's ConvertTo-Json layout)."""
    raw = (data_dir / "collector-output.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF8Encoding($false): no BOM
    doc = json.loads(raw)
    errors = sorted(facts_validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [e.message for e in errors]
    assert doc["provenance"]["collected_by"] == {"name": COLLECTOR_NAME, "version": COLLECTOR_VERSION}
    # And sitegate's own loader accepts it as a host, with no unknown-field warnings.
    (item,) = list(import_inputs("collector", [str(data_dir / "collector-output.json")]))
    assert isinstance(item, HostRecord) and not item.warnings


def test_script_writes_the_keys_of_the_model() -> None:
    """Every facts key the script writes is a property of the facts schema."""
    text = SCRIPT.read_text("utf-8")
    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "facts.v1.schema.json").read_text("utf-8"))
    props: set[str] = set()
    for d in schema["$defs"].values():
        props.update(d.get("properties", {}))
    written = set(re.findall(r"\$\w+\['([a-z_]+)'\]\s*=", text)) | set(re.findall(r"^\s+([a-z_]+)\s+=\s", text, re.M))
    written -= {"n", "e"}  # calculated-property keys of Select-Object
    unknown = written - props - {"sitegate_collector_warnings"}
    assert not unknown, unknown
    for key in ("memory_mb", "product_type", "release", "max_query_string", "collected_by"):
        assert key in written


def test_script_is_read_only_and_portable() -> None:
    text = SCRIPT.read_text("utf-8")
    assert text.isascii()  # 5.1 reads a BOM-less script as ANSI
    code = re.sub(r"#[^\n]*", "", re.sub(r"<#.*?#>", "", text, flags=re.S))
    # Nothing that changes the host: no Set-/Remove-/New-Item on the registry, no installs.
    for verb in ("Set-ItemProperty", "Remove-Item", "New-ItemProperty", "Install-WindowsFeature", "Enable-WindowsOptionalFeature", "Set-Content", "Out-File", "Restart-", "Stop-Service"):
        assert verb not in code, verb
    # Registry keys opened read-only.
    assert "OpenSubKey($Path, $false)" in text
    # PowerShell 7-only syntax would break 5.1.
    assert "??" not in text and "?." not in text.replace("'?.'", "")
    assert "ConvertTo-Json -InputObject $facts -Depth 6" in text
    assert "UTF8Encoding($false)" in text and "[System.IO.File]::WriteAllText" in text
    assert "Select-Object" in text
    # Balanced braces and parentheses outside strings and comments (a cheap parse check).
    stripped = re.sub(r"<#.*?#>", "", text, flags=re.S)
    stripped = re.sub(r"#[^\n]*", "", stripped)
    stripped = re.sub(r"'[^'\n]*'", "''", stripped)
    stripped = re.sub(r'"(?:[^"`\n]|`.)*"', '""', stripped)
    for o, c in ("{}", "()", "[]"):
        assert stripped.count(o) == stripped.count(c), (o, c)


def test_powershell_parses_the_script() -> None:
    pwsh = shutil.which("pwsh") or shutil.which("powershell")
    if pwsh is None:
        pytest.skip(
            "PowerShell is not installed here (no Debian package, no PyPI/npm package that ships it, "
            "and downloads from GitHub are not reachable); the static checks above stand in for it"
        )
    cmd = (
        "$e=$null;$t=$null;[void][System.Management.Automation.Language.Parser]::ParseFile("
        f"'{SCRIPT}',[ref]$t,[ref]$e);if($e){{$e|ForEach-Object{{$_.ToString()}};exit 1}}"
    )
    proc = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-Command", cmd], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_collector_script_resource() -> None:
    assert collector_script() == SCRIPT.read_text("utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="checks the off-Windows refusal")
def test_collect_local_refuses_off_windows() -> None:
    with pytest.raises(NotOnWindows, match="site server"):
        collect_local()


class FakeRegistry:
    """HKLM as a dict, for gather_raw off Windows."""

    def __init__(self, keys: dict[str, dict[str, Any]]):
        self.keys = keys

    def values(self, path: str) -> dict[str, Any] | None:
        v = self.keys.get(path)
        return dict(v) if v is not None else None


def test_gather_raw_with_fakes(facts_validator: Draft202012Validator) -> None:
    ps_out = {
        "os": {"Caption": "Microsoft Windows Server 2022 Standard", "Version": "10.0.20348", "BuildNumber": "20348", "ProductType": 3,
               "OSArchitecture": "64-bit", "TotalVisibleMemorySize": 8388608, "SystemDrive": "C:", "CSName": "PS02"},
        "computer_system": {"Name": "PS02", "DNSHostName": "ps02", "Domain": "corp.example.com", "PartOfDomain": True, "Manufacturer": "Dell Inc.", "Model": "PowerEdge R650"},
        "processors": [{"NumberOfCores": 8, "NumberOfLogicalProcessors": 16}, {"NumberOfCores": 8, "NumberOfLogicalProcessors": 16}],
        "physical_memory": [{"Capacity": 8589934592}, {"Capacity": 8589934592}],
        "disks": [{"DeviceID": "C:", "DriveType": 3, "FreeSpace": 107374182400}],
        "windows_features": [{"Name": "Web-Server", "Installed": True, "InstallState": "Installed"}, {"Name": "Web-ASP", "Installed": False, "InstallState": "Available"}],
        "services": [{"Name": "PXE", "DisplayName": "Symantec Network Boot Service (PXE and BSDP)", "Status": "Running"}],
        "errors": ["physical_memory : access denied"],
    }
    reg = FakeRegistry({
        r"SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full": {"Release": 528449, "SubKeys": []},
        r"SOFTWARE\Microsoft\InetStp": {"MajorVersion": 10, "MinorVersion": 0, "SubKeys": ["Components"]},
        r"SOFTWARE\Altiris\Altiris Agent": {"Version": "8.7.3264.0", "InstallDir": r"C:\Program Files\Altiris\Altiris Agent", "SubKeys": ["Servers"]},
        r"SOFTWARE\Altiris\Altiris Agent\Servers": {"": "smp01.corp.example.com", "SubKeys": []},
    })
    config = '<configuration><system.webServer><security><requestFiltering><requestLimits maxUrl="8192"/></requestFiltering></security></system.webServer></configuration>'
    raw = gather_raw(reg, lambda script: dict(ps_out), read_text=lambda p: config)
    warnings: list[str] = []
    facts = facts_from_raw(raw, warnings)
    assert facts["hardware"]["memory_mb"] == 16384  # DIMMs, not visible memory
    assert facts["hardware"]["logical_processors"] == 32 and facts["hardware"]["virtual"] is False
    assert facts["iis"] == {"features": ["Web-Server"], "installed": True, "version": "10.0",
                            "request_filtering": {"max_query_string": 2048, "max_url": 8192, "allow_unlisted_verbs": True, "allowed_verbs": [], "denied_verbs": []}}
    assert facts["identity"]["notification_server"] == "smp01.corp.example.com"
    assert facts["site_services"]["installed"] == [{"service": "network_boot"}]
    # The default store counts as outside the Known Folders (KB 416632), though under Program Files.
    assert facts["package_store"] == {"path": r"C:\Program Files\Altiris\Altiris Agent\Package Delivery", "in_known_folder": False, "fixed_media": True}
    assert facts["provenance"]["collected_by"]["name"] == "sitegate.facts.collect"
    assert warnings == ["physical_memory : access denied"]
    assert not list(facts_validator.iter_errors(facts))


@pytest.mark.parametrize(
    ("raw", "path", "expected"),
    [
        ({"os": {"ProductType": 2}}, ("os", "product_type"), "domain_controller"),
        ({"os": {"Version": "10.0.17763"}}, ("os", "build"), 17763),
        ({"dotnet": 394802}, ("dotnet", "release"), 394802),
        ({"dotnet": {"Release": "461814"}}, ("dotnet", "release"), 461814),
        ({"inetstp": {}}, ("iis", "installed"), False),
        ({"computer_system": {"Name": "WG1", "Domain": "WORKGROUP", "PartOfDomain": False}}, ("name",), "WG1"),
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


def test_scripts_read_the_known_folders() -> None:
    """Both collectors read what in_known_folder needs: the special folders and the profiles root."""
    from sitegate.facts.collect import _PS_READS

    for text in (_PS_READS, collector_script()):
        assert "[Environment+SpecialFolder]" in text and "ProfilesDirectory" in text
