"""JUnit XML: goldens, junit-10.xsd validity, counts, classnames, hostile names.

Regenerate the goldens after a policy change (and review the diff):
``python -m pytest tests/test_junit.py --snapshot-update``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sitegate.engine.baseline import load_baseline
from sitegate.engine.render import Format
from sitegate.engine.render.junit import rule_family
from sitegate.engine.waivers import load_waivers

from .formats_support import (
    AUDIT_DATE,
    DATA,
    JUNIT_XSD_SHA256,
    VENDOR,
    XmlSnapshot,
    assert_valid_junit,
    fleet_items,
    options,
    render_one,
    sha256,
)


@pytest.fixture()
def golden(snapshot):
    return snapshot.use_extension(XmlSnapshot)


def _waivers():
    return load_waivers(str(DATA / "fleet-waivers.yaml"), today=AUDIT_DATE, display="tests/data/fleet-waivers.yaml")


def _baseline():
    return load_baseline(str(DATA / "fleet-baseline.json"), display="tests/data/fleet-baseline.json")


CASES = {
    "default": lambda: options(),
    "waivers": lambda: options(waivers=_waivers()),
    "baseline": lambda: options(baseline=_baseline()),
    "fail_on_warning_allow_unknown": lambda: options(fail_on=__import__("sitegate.engine.model", fromlist=["FailOn"]).FailOn.WARNING, allow_unknown=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_junit(case: str, policies, golden) -> None:
    text = render_one(Format.JUNIT, policies, CASES[case]())
    assert_valid_junit(text)
    assert text == golden


def test_vendored_xsd_is_the_xunit_file() -> None:
    assert sha256(VENDOR / "junit-10.xsd") == JUNIT_XSD_SHA256


def test_junit_10_xsd_allows_system_out_in_a_testcase_and_properties_only_in_a_testsuite() -> None:
    """Why a non-gating finding's case carries system-out but not properties (junit-10.xsd, lines 85-98 and 107-115)."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    root = ET.parse(VENDOR / "junit-10.xsd").getroot()
    elements = {e.get("name"): e for e in root.findall(f"{xs}element")}

    def children(name: str) -> set[str]:
        return {e.get("ref") for e in elements[name].iter(f"{xs}element") if e.get("ref")}

    assert {"system-out", "failure", "error", "skipped"} <= children("testcase") and "properties" not in children("testcase")
    assert {"properties", "testcase", "system-out"} <= children("testsuite")


def test_a_non_gating_case_with_system_out_is_valid_and_fail_on_never_has_no_failure(policies) -> None:
    from sitegate.engine.model import FailOn

    text = render_one(Format.JUNIT, policies, options(fail_on=FailOn.NEVER))
    assert_valid_junit(text)
    assert "<failure" not in text and "<error" not in text
    cases = [tc for s in _suites(text)[:-1] for tc in s.findall("testcase")]
    carried = [tc for tc in cases if tc.find("system-out") is not None]
    # Every finding of the fleet (4 fail, 13 unknown) is a passing case carrying it.
    assert len(carried) == 17 and all(_kind(tc) == "pass" for tc in carried)


def _suites(text: str) -> list[ET.Element]:
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites" and not root.attrib  # strict profile: no attributes on <testsuites>
    return root.findall("testsuite")


def _kind(tc: ET.Element) -> str:
    kids = [c.tag for c in tc]
    assert len(kids) <= 1, kids
    return kids[0] if kids and kids[0] != "system-out" else "pass"


def test_one_suite_per_host_one_case_per_rule_counts_from_children(policies) -> None:
    from sitegate.engine.header import build_header

    n_rules = len(build_header(policies, options(), "x").rules)
    suites = _suites(render_one(Format.JUNIT, policies))
    assert [s.get("name") for s in suites] == ["TS-LON-01", "PS-PAR-02", "WKS-LYON-07", "TS-NYC-03", "sitegate"]
    for i, s in enumerate(suites):
        cases = s.findall("testcase")
        kinds = [_kind(tc) for tc in cases]
        assert s.get("tests") == str(len(cases))
        assert s.get("failures") == str(kinds.count("failure"))
        assert s.get("errors") == str(kinds.count("error"))
        assert s.get("skipped") == str(kinds.count("skipped"))
        assert s.get("id") == str(i) and s.get("timestamp") == "2026-11-20T09:30:00"
        assert s.get("time") == "0.000" or s.get("name") == "sitegate"
        if s.get("name") != "sitegate":
            assert len(cases) == n_rules
            assert s.get("hostname") == s.get("name")
            props = {p.get("name"): p.get("value") for p in s.find("properties")}
            assert {"host.os", "host.roles", "target", "policy.packs"} <= set(props)
            for tc in cases:
                rid = tc.get("name").split(" ", 1)[0]
                assert tc.get("classname") == f"{s.get('name')}.{rule_family(rid)}"
                assert tc.get("time") == "0.000"


def test_outcome_elements(policies) -> None:
    suites = {s.get("name"): s for s in _suites(render_one(Format.JUNIT, policies))}
    par = {tc.get("name").split(" ", 1)[0]: tc for tc in suites["PS-PAR-02"].findall("testcase")}
    failure = par["ITMS-IIS-PACKAGE-FEATURES"].find("failure")
    assert failure.get("type") == "error" and "(expected contains all of" in failure.get("message")
    assert failure.text.startswith("examples/fleet.json:31\n") and "remediation: Install-WindowsFeature" in failure.text
    nyc = {tc.get("name").split(" ", 1)[0]: tc for tc in suites["TS-NYC-03"].findall("testcase")}
    err = nyc["ITMS-NET-48"].find("error")
    assert err.get("type") == "Unknown" and "dotnet.release" in err.get("message")
    # An unknown's remedy is the missing fact and how to collect it, never the failure's fix.
    assert "to decide it: collect dotnet.release" in err.text and "CSV column dotnet_release" in err.text and "remediation:" not in err.text
    # A warning below --fail-on is a passing case carrying the finding in its own system-out,
    # and a finding.<RULE> property of its suite (junit-10.xsd has properties in a testsuite only).
    lyon_suite = suites["WKS-LYON-07"]
    lyon = {tc.get("name").split(" ", 1)[0]: tc for tc in lyon_suite.findall("testcase")}
    assert [c.tag for c in lyon["ITMS-CAP-DESKTOP-SITE"]] == ["system-out"]
    out = lyon["ITMS-CAP-DESKTOP-SITE"].find("system-out").text
    assert out.startswith("FAIL (warning, does not gate: below --fail-on error)\nexamples/fleet.json:57\n")
    assert "observed: 450" in out and "remediation: Move the site service to Windows Server" in out
    lyon_props = {p.get("name"): p.get("value") for p in lyon_suite.find("properties")}
    assert lyon_props["finding.ITMS-CAP-DESKTOP-SITE"] == "fail (warning, does not gate)" and lyon_props["host.state"] == "READY WITH WARNINGS"
    assert "ITMS-CAP-DESKTOP-SITE" not in (lyon_suite.find("system-out").text or "")  # in its case, not the suite's
    lon = {tc.get("name").split(" ", 1)[0]: tc for tc in suites["TS-LON-01"].findall("testcase")}
    assert lon["ITMS-IIS-PACKAGE-FEATURES"].find("skipped").get("message").startswith("not applicable: applies to package")
    gate = suites["sitegate"]
    props = {p.get("name"): p.get("value") for p in gate.find("properties")}
    assert props["exit_code"] == "1" and props["verdict"] == "NOT READY"
    assert [tc.get("name") for tc in gate.findall("testcase")] == ["inventory loaded"]


def test_waived_and_expired_waivers(policies) -> None:
    suites = {s.get("name"): s for s in _suites(render_one(Format.JUNIT, policies, options(waivers=_waivers())))}
    lyon = {tc.get("name").split(" ", 1)[0]: tc for tc in suites["WKS-LYON-07"].findall("testcase")}
    sk = lyon["ITMS-CAP-DESKTOP-SITE"].find("skipped")
    assert sk.get("message").startswith("waived: Lyon's package service") and "emea-infra@example.com" in sk.get("message") and "2027-03-31" in sk.get("message")
    gate = {tc.get("name"): tc for tc in suites["sitegate"].findall("testcase")}
    assert gate["waiver CHG-1002 is current"].find("failure").get("type") == "ExpiredWaiver"


def test_baseline_unchanged_is_skipped_new_still_fails(policies) -> None:
    suites = {s.get("name"): s for s in _suites(render_one(Format.JUNIT, policies, options(baseline=_baseline())))}
    par = {tc.get("name").split(" ", 1)[0]: tc for tc in suites["PS-PAR-02"].findall("testcase")}
    assert par["ITMS-IIS-PACKAGE-FEATURES"].find("skipped").get("message").startswith("baseline: known finding")
    gate = {p.get("name"): p.get("value") for p in suites["sitegate"].find("properties")}
    assert gate["findings.fixed"] == "1"
    assert "fixed since the baseline: TS-LON-01 ITMS-NET-48" in suites["sitegate"].find("system-out").text


def test_rejected_records_and_zero_hosts(policies, tmp_path: Path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_text('{"name": "bad.example.com", "os": {"build": "x"}}\nnot json\n')
    text = render_one(Format.JUNIT, policies, items=fleet_items(p, "inv/f.jsonl"))
    assert_valid_junit(text)
    suites = _suites(text)
    bad = suites[0]
    (tc,) = bad.findall("testcase")
    assert tc.get("name") == "facts valid" and tc.get("classname") == "bad_example_com.facts"
    assert tc.find("error").get("type") == "InvalidFacts"
    gate = suites[-1]
    assert gate.get("name") == "sitegate"
    assert {p.get("name"): p.get("value") for p in gate.find("properties")}["exit_code"] == "2"
    err = gate.find("testcase").find("error")
    assert err.get("type") == "InputError" and "record(s) rejected" in err.get("message")
    # No host at all: still a valid report with one test case (Jenkins fails on an empty report),
    # and that case is an error: exit code 2 never shows as a green test view.
    empty = render_one(Format.JUNIT, policies, items=[])
    assert_valid_junit(empty)
    (only,) = _suites(empty)
    assert only.get("tests") == "1" and only.get("errors") == "1" and only.get("failures") == "0"
    (case,) = only.findall("testcase")
    assert case.get("name") == "inventory loaded"
    err = case.find("error")
    assert err is not None and err.get("type") == "InputError" and err.get("message") == "no host was evaluated"
    assert {p.get("name"): p.get("value") for p in only.find("properties")}["exit_code"] == "2"
    assert "(exit code 2)" in only.find("system-out").text


def test_inventory_loaded_is_green_only_when_every_record_was_read(policies) -> None:
    suites = _suites(render_one(Format.JUNIT, policies))
    gate = suites[-1]
    (case,) = [tc for tc in gate.findall("testcase") if tc.get("name") == "inventory loaded"]
    assert list(case) == [] and gate.get("errors") == "0"


def test_hostile_host_names_give_valid_junit(policies) -> None:
    names = ["web-01.corp.example.com", "Serveur Zürich Ω 1", "ctl\x01\x1b[31mred\x07<&>\"'", "tab\there\nnewline", "web-01.corp.example.com"]
    hosts = [{"name": n, "dotnet": {"release": 1}, "site_services": {"planned": ["task"]}} for n in names]
    text = render_one(Format.JUNIT, policies, items=hosts)
    assert_valid_junit(text)
    suites = _suites(text)
    got = [s.get("name") for s in suites[:-1]]
    assert got[0] == "web-01.corp.example.com" and got[1] == "Serveur Zürich Ω 1"
    assert got[2] == "ctl\\x01\\x1b[31mred\\x07<&>\"'"  # control characters shown escaped, markup intact
    assert got[4] == "web-01.corp.example.com (2)"  # duplicate host names stay distinct suites
    for s in suites[:-1]:
        for tc in s.findall("testcase"):
            host_part = tc.get("classname").rsplit(".", 1)[0]
            assert "." not in host_part  # Jenkins splits the classname at its last dot


def test_library_use_without_full_outcomes_still_valid(policies) -> None:
    text = render_one(Format.JUNIT, policies, options(full_outcomes=False))
    assert_valid_junit(text)
    suites = {s.get("name"): s for s in _suites(text)}
    names = [tc.get("name") for tc in suites["TS-LON-01"].findall("testcase")]
    # Issue 15 added five rules: on this task server x64 and the NS HTTPS check pass, the
    # package-on-NS, managed-by-NS (network boot, monitor) and hierarchy rules do not apply.
    assert names == ["other rules (17 passed, 15 not applicable)"]
    par = [tc.get("name") for tc in suites["PS-PAR-02"].findall("testcase")]
    assert par == ["ITMS-IIS-PACKAGE-FEATURES IIS role services for the package service", "other rules (18 passed, 13 not applicable)"]
    # the same counts as the full report's cases: 17 empty (passed) and 15 skipped (not applicable)
    full = {s.get("name"): s for s in _suites(render_one(Format.JUNIT, policies, options(full_outcomes=True)))}
    kinds = [tuple(child.tag for child in tc) for tc in full["TS-LON-01"].findall("testcase")]
    assert kinds.count(()) == 17 and kinds.count(("skipped",)) == 15 and len(kinds) == 32


def test_rule_family() -> None:
    assert rule_family("ITMS-NET-48") == "net"
    assert rule_family("ITMS-PREREQ-AGENT-VERSION") == "prereq"
    assert rule_family("X1") == "rules"


def test_a_junit_report_too_big_for_gitlab_is_warned_about(cli, tmp_path, monkeypatch) -> None:
    from sitegate.engine.render.junit import JunitRenderer

    from .conftest import EXAMPLES

    out = tmp_path / "TEST-x.xml"
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"junit={out}")
    assert code == 1 and "GitLab" not in err
    monkeypatch.setattr(JunitRenderer, "gitlab_limit", out.stat().st_size - 1)
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"junit={out}")
    assert code == 1 and "GitLab ignores JUnit reports over 30 MB" in err and str(out) in err


def test_the_junit_renderer_declares_gitlabs_size_limit_not_the_cli() -> None:
    """GitLab's 30 MB limit is the JUnit renderer's knowledge (issue 13): declared with the
    renderer, read through the registry; the CLI names no format's limit."""
    from sitegate.engine.render import Format, size_warnings

    from .conftest import REPO

    assert size_warnings(Format.JUNIT, "r.xml", 30_000_000) == []
    (warning,) = size_warnings(Format.JUNIT, "r.xml", 30_000_001)
    assert warning.startswith("r.xml is 30 MB; GitLab ignores JUnit reports over 30 MB")
    for fmt in Format:
        if fmt is not Format.JUNIT:
            assert size_warnings(fmt, "r", 10**12) == [], fmt
    cli_source = (REPO / "cli" / "main.py").read_text(encoding="utf-8")
    assert "GitLab" not in cli_source and "30 * 1000 * 1000" not in cli_source
