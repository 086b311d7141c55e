"""sitegate remediate: PowerShell scripts built from templates, inert against hostile names and values."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from sitegate.engine.evaluate import Options, evaluate
from sitegate.engine.model import HostResult
from sitegate.engine.packs import load_policies
from sitegate.engine.policy import Table
from sitegate.engine.remediate import (
    RemediateDirError,
    build_host_script,
    check_output_dir,
    comment_text,
    ps_quote,
    script_file_names,
    write_scripts,
)

from .ps_lexer import tokenize

_PS, _ = load_policies()


def _rules(target: str, pack: Any = None) -> dict[str, Any]:
    e = pack or _PS.select(target)[0]
    return {r.id: (r, e) for r in e.rules}


def _host(facts: dict[str, Any], target: str = "8.7.3") -> HostResult:
    report = evaluate([facts], _PS, Options(target=target, keep_facts=True))
    assert not report.hosts[0].rejected, report.hosts[0].diagnostics
    return report.hosts[0]


def _script(facts: dict[str, Any], target: str = "8.7.3", pack: Any = None, source: str | None = None) -> str:
    host = _host(facts, target)
    if source is not None:
        host = host._replace(source=source)
    out = build_host_script(host, _rules(target, pack), target=target, tool_version="9.9.9", facts_digest="0" * 64)
    assert out.script is not None, out
    return out.script


def _task_2019(name: str = "TS-01", caption: str = "Microsoft Windows Server 2019 Standard") -> dict[str, Any]:
    return {"name": name, "os": {"build": 17763, "product_type": "server", "caption": caption, "architecture": "x64"},
            "dotnet": {"release": 461814}, "site_services": {"planned": ["task"]}}


def _package(name: str, build: int, product_type: str, features: list[str]) -> dict[str, Any]:
    return {"name": name, "os": {"build": build, "product_type": product_type, "architecture": "x64"},
            "dotnet": {"release": 528040}, "iis": {"installed": True, "features": features,
            "request_filtering": {"max_query_string": 1024, "allowed_verbs": ["GET"], "allow_unlisted_verbs": False}},
            "site_services": {"planned": ["package"]}}


def _code(script: str) -> list[tuple[str, str]]:
    """The script with comments and verbatim strings blanked: what PowerShell would run, and its expandable strings."""
    return [(t.kind, t.text if t.kind in ("code", "dq") else "") for t in tokenize(script)]


HOSTILE = [
    "X'; Remove-Item -Recurse C:\\; '",
    "$(Stop-Computer -Force)",
    "`$(Stop-Computer)` and `n",
    "TS-01\nStop-Computer -Force",
    "TS-01\r\nStop-Computer\r# ",
    "#> Stop-Computer <#",
    "x\u2019; Stop-Computer; \u2018",
    "x\u201b\u201a'' $(Stop-Computer)",
    "TS\u2028Stop-Computer\u0085Stop-Computer",
    "\"; Stop-Computer; \"",
]


@pytest.mark.parametrize("evil", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_values_and_paths_cannot_run(evil: str) -> None:
    """Host name, OS caption (a fact value) and facts path carry the payload: the code the script runs is unchanged."""
    benign = _script(_task_2019(), source="facts.json")
    script = _script(_task_2019(name=evil, caption=evil), source=evil)
    assert _code(script) == _code(benign)
    # The name reaches PowerShell only as the value of one verbatim string, exactly as written.
    values = [t.text for t in tokenize(script) if t.kind == "sq"]
    assert evil in values
    for t in tokenize(script):
        if t.kind == "comment":
            assert "\n" not in t.text and "\r" not in t.text


def test_ps_quote_doubles_every_single_quote_character() -> None:
    for q in "'\u2018\u2019\u201a\u201b":
        lit = ps_quote(f"a{q}b")
        assert lit == f"'a{q}{q}b'"
        assert [t for t in tokenize(lit)] == [("sq", f"a{q}b")]


def test_comment_text_removes_line_breaks_and_controls() -> None:
    assert comment_text("a\r\nb\u2028c\u0085d\x0be") == "a b c d e"


def test_a_lone_surrogate_is_written_escaped_so_the_script_can_be_written(tmp_path: Path, cli) -> None:
    """A facts file named with a non-UTF-8 byte (Python reads U+DCFF) used to stop remediate:
    the script header could not be written as UTF-8. It is shown as its escape."""
    assert comment_text("f\udcffx.json") == "f\\udcffx.json"
    assert ps_quote("WKS-\ud800-07") == "'WKS-\\ud800-07'"
    fleet = Path(__file__).resolve().parents[1] / "examples" / "fleet.json"
    facts = os.path.join(os.fsdecode(bytes(tmp_path)), os.fsdecode(b"fleet-\xff.json"))
    with open(facts, "wb") as fh:
        fh.write(fleet.read_bytes())
    out = tmp_path / "scripts"
    code, _, err = cli("remediate", facts, "--target", "8.7.3", "--audit-date", "2026-11-25", "-o", str(out))
    assert code == 1, err
    scripts = sorted(out.glob("*.ps1"))
    assert scripts
    for script in scripts:
        text = script.read_bytes().decode("utf-8-sig")  # strict: no surrogate could be in it
        assert "fleet-\\udcff.json" in text


def test_script_skeleton_and_header() -> None:
    text = _script(_task_2019(), source="fleet.json")
    lines = text.split("\r\n")
    assert lines[0] == "#Requires -RunAsAdministrator"
    code = [ln for ln in lines if ln and not ln.startswith("#")]
    assert code[0] == "[CmdletBinding(SupportsShouldProcess)]"
    assert "Set-StrictMode -Version Latest" in lines and "$ErrorActionPreference = 'Stop'" in lines
    assert "# Host:          TS-01" in lines and "# Target:        ITMS 8.7.3" in lines
    assert "# Generated by:  sitegate 9.9.9" in lines and f"# Facts sha256:  {'0' * 64}" in lines
    assert any(ln.startswith("# Facts file:    fleet.json") for ln in lines)
    assert any(ln.startswith("#   ITMS-NET-48 (error, gates):") for ln in lines)
    assert "if ($env:COMPUTERNAME -ne $ExpectedName) {" in lines
    # Every change goes through ShouldProcess, so -WhatIf shows it and makes none.
    for verb in ("Install-WindowsFeature -Name", "Start-Process", "Set-WebConfigurationProperty", "Add-WebConfigurationProperty", "Enable-WindowsOptionalFeature -Online"):
        for i, ln in enumerate(lines):
            if verb in ln and "ShouldProcess" not in ln and not ln.lstrip().startswith("#"):
                assert any("$PSCmdlet.ShouldProcess" in prev for prev in lines[max(0, i - 3):i]), ln


def test_server_gets_install_windowsfeature_with_exactly_the_missing_role_services() -> None:
    text = _script(_package("PS-01", 20348, "server", ["Web-Server", "Web-ASP", "Web-Windows-Auth", "Web-WMI"]))
    assert "$Features = @('Web-Metabase', 'Web-Lgcy-Scripting', 'Web-Lgcy-Mgmt-Console')" in text
    assert "Enable-WindowsOptionalFeature" not in text


def test_client_gets_enable_windowsoptionalfeature_with_desktop_names() -> None:
    text = _script(_package("WKS-01", 19045, "workstation", ["IIS-WebServerRole", "IIS-ASP", "IIS-Metabase"]))
    assert "$Features = @('IIS-WindowsAuthentication', 'IIS-WMICompatibility', 'IIS-LegacyScripts', 'IIS-LegacySnapIn')" in text
    assert "Enable-WindowsOptionalFeature -Online -FeatureName $Features -All -NoRestart" in text
    assert "Install-WindowsFeature" not in text


def test_request_filtering_values_come_from_the_rule() -> None:
    text = _script(_package("PS-01", 20348, "server", ["Web-ASP"]))
    assert "if ($Current -lt 2048) {" in text
    assert "foreach ($Verb in @('GET', 'POST', 'HEAD')) {" in text


@pytest.mark.parametrize("build,product_type,can_481", [
    (20348, "server", True),    # Windows Server 2022
    (17763, "server", False),   # Windows Server 2019 tops out at 4.8
    (14393, "server", False),   # Windows Server 2016
    (19042, "workstation", True),  # Windows 10 20H2
    (19045, "workstation", True),  # Windows 10 22H2
    (22631, "workstation", True),  # Windows 11 23H2
    (18363, "workstation", False),  # Windows 10 1909
])
def test_dotnet_481_is_offered_only_where_the_os_takes_it(build: int, product_type: str, can_481: bool) -> None:
    facts = {"name": "H", "os": {"build": build, "product_type": product_type, "architecture": "x64"},
             "dotnet": {"release": 461814}, "site_services": {"planned": ["task"]}}
    text = _script(facts)
    assert "[string]$DotNetInstallerPath = ''" in text
    assert ("ndp481-x86-x64-allos-enu.exe" in text) is can_481
    assert ("-like 'ndp481*') { throw" in text) is (not can_481)
    assert "if ($Release -ge 528040) {" in text


def test_feature_names_outside_the_pack_table_are_never_emitted() -> None:
    """A pack table row with a name that is not a feature name is dropped; the feature becomes a manual step."""
    e = _PS.select("8.7.3")[0]
    table = e.tables["iis_feature_names"]
    rows = tuple({**r, "desktop": "IIS-Metabase'; Stop-Computer; '"} if r["server"] == "Web-Metabase" else r for r in table.rows)
    pack = dataclasses.replace(e, tables={**e.tables, "iis_feature_names": Table(**{**table.model_dump(by_alias=True), "rows": rows})})
    host = _host(_package("WKS-01", 19045, "workstation", ["IIS-ASP", "IIS-WindowsAuthentication"]))
    out = build_host_script(host, _rules("8.7.3", pack), target="8.7.3", tool_version="9.9.9", facts_digest="")
    assert out.script is not None and "Stop-Computer" not in out.script
    assert "IIS-Metabase" not in out.script.split("# Manual steps")[0]
    assert any("Web-Metabase" in m.remediation for m in out.manual)


def test_only_unfixable_findings_give_no_script_but_manual_steps() -> None:
    facts = {"name": "WKS-02", "os": {"build": 19045, "product_type": "workstation", "edition": "Enterprise", "architecture": "x64"},
             "dotnet": {"release": 528372}, "load": {"endpoints": 450}, "site_services": {"planned": ["package"]},
             "iis": {"installed": True, "features": ["IIS-ASP", "IIS-WindowsAuthentication", "IIS-Metabase", "IIS-WMICompatibility", "IIS-LegacyScripts", "IIS-LegacySnapIn"],
                     "request_filtering": {"max_query_string": 2048, "allowed_verbs": ["GET", "POST", "HEAD"]}}}
    out = build_host_script(_host(facts), _rules("8.7.3"), target="8.7.3", tool_version="9.9.9", facts_digest="")
    assert out.script is None
    assert "ITMS-CAP-DESKTOP-SITE" in [m.rule_id for m in out.manual]


def test_file_names_are_sanitised_and_collision_safe() -> None:
    names = script_file_names(["TS-01", "ts-01", "../../etc/passwd", "a/b\\c", "CON", "", "..", "ТС-01", "TS-01"])
    assert names[0] == "TS-01.ps1" and names[1] == "ts-01-2.ps1" and names[-1] == "TS-01-3.ps1"
    assert names[4] == "_CON.ps1"
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert os.path.basename(n) == n and "/" not in n and "\\" not in n and not n.startswith(".")


def test_output_dir_checks(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(RemediateDirError, match="is a file"):
        check_output_dir(str(f), [])
    inputs = tmp_path / "facts"
    inputs.mkdir()
    with pytest.raises(RemediateDirError, match="inside the input folder"):
        check_output_dir(str(inputs / "out"), [str(inputs)])
    check_output_dir(str(tmp_path / "out"), [str(inputs)])


def test_write_scripts_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    calls = []
    real = os.fdopen

    def failing_fdopen(fd: int, *a: Any, **k: Any) -> Any:
        calls.append(fd)
        if len(calls) == 2:
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real(fd, *a, **k)

    monkeypatch.setattr(os, "fdopen", failing_fdopen)
    with pytest.raises(OSError):
        write_scripts(str(out), [("a.ps1", "one"), ("b.ps1", "two")])
    assert list(out.iterdir()) == []
    monkeypatch.setattr(os, "fdopen", real)
    written = write_scripts(str(out), [("a.ps1", "one"), ("b.ps1", "two")])
    assert sorted(os.listdir(out)) == ["a.ps1", "b.ps1"] and len(written) == 2
    assert (out / "a.ps1").read_bytes() == b"\xef\xbb\xbfone"  # BOM: Windows PowerShell 5.1 reads it as UTF-8


def test_write_scripts_refuses_a_path_as_file_name(tmp_path: Path) -> None:
    with pytest.raises(RemediateDirError):
        write_scripts(str(tmp_path), [("../x.ps1", "x")])
    assert not (tmp_path.parent / "x.ps1").exists()


def test_pack_feature_table_agrees_with_the_facts_layer_mapping() -> None:
    """Facts map desktop names to server names in code (facts cannot read packs); the pack table must say the same."""
    from sitegate.facts.normalize import DESKTOP_FEATURES

    rows = _PS.select("8.7.3")[0].tables["iis_feature_names"].rows
    assert {r["desktop"]: r["server"] for r in rows} == DESKTOP_FEATURES
