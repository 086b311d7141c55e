"""Outcomes and the gate's exit codes, through the library API and the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegate.engine.evaluate import evaluate
from sitegate.engine.model import FailOn, decide_exit_code
from sitegate.engine.options import Options

from .conftest import EXAMPLES

TASK_OK = {
    "name": "ts-ok",
    "identity": {"is_notification_server": False},
    "os": {"build": 17763, "product_type": "server", "architecture": "x64"},
    "dotnet": {"release": 528040},
    "iis": {
        "installed": True,
        "features": ["Web-Asp-Net45", "Web-Windows-Auth", "Web-Metabase", "Web-Static-Content", "Web-ISAPI-Ext", "Web-Net-Ext45"],
        "request_filtering": {"max_query_string": 2048, "allowed_verbs": ["GET", "POST", "HEAD"]},
    },
    "hardware": {"logical_processors": 4, "memory_mb": 8192},
    "agent": {"version": "8.7.3264.0", "managed": True, "local": True, "asset_status": "active", "cem_mode": False},
    "site_services": {"installed": [{"service": "task"}], "planned": []},
    "load": {"endpoints": 1000},
    "network": {"ns_url": "https://ns01.corp.example.com/Altiris/", "ns_https_reachable": True, "ns_certificate_chain_valid": True},
}


def outcomes(report, host: str) -> dict[str, str]:
    h = next(x for x in report.hosts if x.name == host)
    return {f.rule_id: f.outcome.value for f in h.findings}


def test_compliant_host_exit_0(policies) -> None:
    r = evaluate([TASK_OK], policies, Options(target="8.7.3"))
    assert r.exit_code == 0 and r.hosts[0].findings == ()
    assert r.summary.outcomes["pass"] > 0 and r.summary.outcomes["not_applicable"] > 0


def test_each_outcome_kind(policies) -> None:
    fail = {**TASK_OK, "name": "fail", "dotnet": {"release": 461814}}
    unknown = {k: v for k, v in TASK_OK.items() if k != "dotnet"} | {"name": "unknown"}
    error = {**TASK_OK, "name": "error", "agent": {**TASK_OK["agent"], "version": "8.7.3264.0"}}
    r = evaluate([fail, unknown, error], policies, Options(target="8.7.3"))
    assert outcomes(r, "fail") == {"ITMS-NET-48": "fail"}
    assert outcomes(r, "unknown") == {"ITMS-NET-48": "unknown", "ITMS-NET-MS-SUPPORTED": "unknown"}
    f = r.hosts[0].findings[0]
    assert f.evidence[0].pointer == "/dotnet/release" and f.evidence[0].observed == 461814
    assert "4.7.2 (461814)" in f.message and ">= 528040" in f.message


def test_error_outcome_from_uncomparable_value(policies, tmp_path: Path) -> None:
    # Facts pass the schema; a custom rule compares a caption as a version.
    pol = tmp_path / "pol"
    pol.mkdir()
    (pol / "e.yaml").write_text(
        """schema: sitegate/policy/v1
id: err-pack
version: "1.0.0"
title: t
applies_to: ">=8.5"
sources: [{id: s, title: S, url: "https://example.com", confidence: low}]
rules:
  - id: ERR-ONE
    title: caption as version
    description: d
    severity: warning
    confidence: low
    source: https://example.com
    assert: {fact: os.caption, op: version_ge, value: "10.0"}
    message: "{host}: {observed}"
    remediation: r
    examples:
      pass: [{facts: {os: {caption: "10.1"}}}]
      fail: [{facts: {os: {caption: "9.0"}}}]
"""
    )
    from sitegate.engine.packs import load_policies

    ps, _ = load_policies([str(pol)], include_bundled=False)
    r = evaluate([{"name": "x", "os": {"caption": "Windows"}}], ps, Options(target="8.7.3"))
    (f,) = r.hosts[0].findings
    assert f.outcome.value == "error" and "not a version" in f.message
    assert r.exit_code == 1  # an error outcome fails closed


def test_not_applicable_by_role(policies) -> None:
    monitor_only = {**TASK_OK, "name": "mon", "iis": {"installed": False}, "site_services": {"installed": [{"service": "monitor"}]}}
    r = evaluate([monitor_only], policies, Options(target="8.7.3", full_outcomes=True))
    h = r.hosts[0]
    by_rule = dict(zip(h.rule_ids, h.outcomes))
    assert by_rule["ITMS-PREREQ-HTTP-SERVER"] == 4  # not applicable: package only
    assert by_rule["ITMS-NET-48"] == 0


@pytest.mark.parametrize(
    "fail_on,expected",
    [(FailOn.ERROR, 0), (FailOn.WARNING, 1), (FailOn.NOTE, 1), (FailOn.NEVER, 0)],
)
def test_fail_on_thresholds_with_a_warning(policies, fail_on: FailOn, expected: int) -> None:
    desktop = {**TASK_OK, "name": "desk", "os": {"build": 19045, "product_type": "workstation", "architecture": "x64", "edition": "Enterprise"}, "load": {"endpoints": 500, "concurrent_connections": 10}}
    # Audit date before Windows 10's end of support (2025-10-14): only the endpoints warning.
    r = evaluate([desktop], policies, Options(target="8.7.3", fail_on=fail_on, audit_date="2025-06-01"))
    assert {f.rule_id for f in r.hosts[0].findings} == {"ITMS-CAP-DESKTOP-SITE"}
    assert r.exit_code == expected


def test_unknown_fails_unless_allowed(policies) -> None:
    unknown = {k: v for k, v in TASK_OK.items() if k != "dotnet"}
    assert evaluate([unknown], policies, Options(target="8.7.3")).exit_code == 1
    assert evaluate([unknown], policies, Options(target="8.7.3", allow_unknown=True)).exit_code == 0


def test_zero_hosts_is_never_green(policies) -> None:
    r = evaluate([], policies, Options(target="8.7.3"))
    assert r.exit_code == 2 and r.summary.notices


def test_no_target_uses_the_hosts_version(policies) -> None:
    old = {**TASK_OK, "name": "old", "dotnet": {"release": 461814}, "platform": {"itms_version": "8.6"}}
    new = {**old, "name": "new", "platform": {"itms_version": "8.7.1"}}
    r = evaluate([old, new], policies, Options())
    assert outcomes(r, "old") == {} and outcomes(r, "new") == {"ITMS-NET-48": "fail"}


def test_host_without_any_version_is_rejected(policies) -> None:
    r = evaluate([{"name": "x"}], policies, Options())
    assert r.exit_code == 2 and r.hosts[0].rejected and "no target version" in r.hosts[0].diagnostics[0].message


def test_decide_exit_code_table() -> None:
    assert decide_exit_code(input_errors=0, hosts_evaluated=3, gating_findings=0) == 0
    assert decide_exit_code(input_errors=0, hosts_evaluated=3, gating_findings=2) == 1
    assert decide_exit_code(input_errors=1, hosts_evaluated=3, gating_findings=0) == 2
    assert decide_exit_code(input_errors=0, hosts_evaluated=0, gating_findings=0) == 2
    assert decide_exit_code(input_errors=0, hosts_evaluated=3, gating_findings=0, expired_waivers=1) == 1


def test_example_fleet_findings(cli) -> None:
    code, out, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", "json")
    assert code == 1
    report = json.loads(out)
    found = {h["name"]: {f["rule_id"]: f["outcome"] for f in h.get("findings", ())} for h in report["hosts"]}
    assert found["TS-LON-01"] == {}
    assert found["PS-PAR-02"] == {"ITMS-IIS-PACKAGE-FEATURES": "fail"}
    # A Windows 10 22H2 Enterprise package server: over the desktop limits, and out of
    # Microsoft support since 2025-10-14 (the audit date defaults to today).
    assert found["WKS-LYON-07"] == {"ITMS-CAP-DESKTOP-SITE": "fail", "ITMS-CAP-DESKTOP-CONNECTIONS": "fail", "ITMS-OS-LIFECYCLE": "fail"}
    assert set(found["TS-NYC-03"].values()) == {"unknown"} and "ITMS-NET-48" in found["TS-NYC-03"]
    pkg = next(h for h in report["hosts"] if h["name"] == "PS-PAR-02")["findings"][0]
    assert pkg["line"] == 31 and pkg["evidence"][0]["detail"].startswith("missing: ")
    assert report["summary"]["exit_code"] == 1


def test_exit_code_same_in_every_format(cli, tmp_path: Path) -> None:
    codes = set()
    for fmt in ("table", "json"):
        code, out, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", fmt)
        codes.add(code)
        assert "exit code 1" in out or '"exit_code": 1' in out
    assert codes == {1}


def test_usage_errors_exit_2(cli) -> None:
    assert cli("check", str(EXAMPLES / "fleet.json"), "--target", "7.5")[0] == 2
    assert cli("check", str(EXAMPLES / "fleet.json"), "--target", "not-a-version")[0] == 2
    assert cli("check", str(EXAMPLES / "fleet.json"), "--fail-on", "critical")[0] == 2
    assert cli("check")[0] == 2
