"""The JUnit renderer's semantics on hand-built reports, every expected value written out by hand.

``tests/test_junit.py`` checks the goldens of the example fleet; these tests build the
report model directly (header, host results, summary) so that each rule of the layout
is pinned at its edges: which element a finding becomes (a failure or error only for a
gating finding; a non-gating one is a passing case carrying a system-out), the
attributes and their order, the counts, the properties, escaping, and the limits
(message and text clipping, 50 diagnostics, 50 fixed findings). They are the
targeted tests of ``tools/mutation.sh engine/render/junit.py`` with test_junit.py.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from sitegate.base.diagnostics import Diagnostic, Level
from sitegate.engine.model import (
    ERROR,
    FAIL,
    MISSING,
    NOT_APPLICABLE,
    PASS,
    UNKNOWN,
    Evidence,
    Finding,
    HostResult,
    Location,
    Outcome,
    OverlayInfo,
    PackInfo,
    ReportHeader,
    RuleInfo,
    Summary,
    Waived,
)
from sitegate.engine.render import Needs, RenderOptions
from sitegate.engine.render.junit import JunitRenderer, rule_family

from .formats_support import assert_valid_junit

SRC = "https://example.com/kb/1"


def _rule(rid: str, title: str = "A title", *, roles: tuple[str, ...] | None = None, tags: tuple[str, ...] = ("tagfam",),
          remediation: str = "Fix it.") -> RuleInfo:
    return RuleInfo(id=rid, name=rid.lower(), title=title, description="d", rationale="", severity="error", confidence="high",
                    source=SRC, references=(), remediation=remediation, tags=tags, roles=roles, pack="p", pack_version="1.0")


def _header(rules: tuple[RuleInfo, ...] = (), *, fail_on: str = "error", allow_unknown: bool = False, target: str | None = "8.7.3",
            started: str = "2026-11-20T09:30:00Z", extra_inputs: tuple[tuple[str, str], ...] = (),
            overlays: tuple[OverlayInfo, ...] = (), packs: tuple[PackInfo, ...] = ()) -> ReportHeader:
    return ReportHeader(tool_version="9.9.9", started_at=started, target=target, fail_on=fail_on, allow_unknown=allow_unknown,
                        inputs=("in/a.json", "in/b.csv"), packs=packs, rules=rules, category="check",
                        extra_inputs=extra_inputs, overlays=overlays)


def _ev(observed: Any = "4.7.2", expected: str = ">= 4.8", *, outcome: str = "fail", detail: str = "") -> Evidence:
    return Evidence("dotnet.version", "/dotnet/version", observed, expected, "version_ge", outcome, detail)


def _finding(rid: str, outcome: Outcome, *, severity: str = "error", gating: bool = True, evidence: tuple[Evidence, ...] | None = None,
             message: str = "msg", setting: str = "dotnet.version", line: int = 7, pointer: str = "/dotnet/version",
             waived: Waived | None = None, baseline: str | None = None) -> Finding:
    ev = (_ev(),) if evidence is None else evidence
    return Finding(rid, outcome, severity, "high", message, ev, Location("in/a.json", line, 1, pointer), setting, gating, waived, baseline)


def _host(name: str = "web-01.example.com", findings: tuple[Finding, ...] = (), *, rule_ids: tuple[str, ...] = (),
          outcomes: tuple[int, ...] = (), counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0),
          roles: tuple[str, ...] | None = ("task",), rejected: bool = False, diagnostics: tuple[Diagnostic, ...] = (),
          line: int = 3, index: int = 0, os: str | None = "Windows Server 2019", site: str | None = "LON",
          ns: str | None = "ns1.example.com", target: str | None = "8.7.3") -> HostResult:
    return HostResult(name, "in/a.json", line, index, target, ("itms-core@1.0", "local@2"), os, roles, site, ns, counts, findings,
                      rule_ids, outcomes, rejected, diagnostics)


def _summary(*, exit_code: int = 0, hosts_read: int = 1, hosts_evaluated: int = 1, hosts_rejected: int = 0,
             diagnostics: tuple[Diagnostic, ...] = (), notices: tuple[str, ...] = (), fixed: tuple[dict[str, Any], ...] = (),
             waivers: tuple[dict[str, Any], ...] = (), finished: str = "2026-11-20T09:30:02.500Z",
             states: dict[str, int] | None = None, gating: int = 0, waived: int = 0) -> Summary:
    return Summary(finished_at=finished, hosts_read=hosts_read, hosts_evaluated=hosts_evaluated, hosts_rejected=hosts_rejected,
                   hosts_compliant=0, outcomes={"pass": 3, "fail": 1}, failing_by_severity={}, findings_by_rule={},
                   gating_findings=gating, waived_findings=waived, diagnostics=diagnostics, diagnostics_total=len(diagnostics) + 5,
                   notices=notices, exit_code=exit_code, waivers=waivers, fixed=fixed,
                   states={"READY": 1, "NOT READY": 2} if states is None else states)


def _render(header: ReportHeader, hosts: list[HostResult], summary: Summary) -> str:
    r = JunitRenderer(RenderOptions())
    text = r.start(header) + "".join(r.host(h) for h in hosts) + r.finish(summary)
    assert_valid_junit(text)
    return text


def _suites(text: str) -> list[ET.Element]:
    return ET.fromstring(text.encode("utf-8")).findall("testsuite")


def _props(suite: ET.Element) -> list[tuple[str | None, str | None]]:
    return [(p.get("name"), p.get("value")) for p in suite.find("properties") or []]


def _cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {(tc.get("name") or "").split(" ", 1)[0]: tc for tc in suite.findall("testcase")}


def _one_host(findings: tuple[Finding, ...], *, rules: tuple[RuleInfo, ...] = (), outcomes: tuple[int, ...] | None = None,
              **hkw: Any) -> tuple[ET.Element, str]:
    """Render one host whose rules are ``rules`` (outcomes: FAIL/UNKNOWN/ERROR as the findings say, else PASS)."""
    hdr_kw = {k: hkw.pop(k) for k in ("fail_on", "allow_unknown") if k in hkw}
    by = {f.rule_id: f.outcome for f in findings}
    codes = {Outcome.FAIL: FAIL, Outcome.UNKNOWN: UNKNOWN, Outcome.ERROR: ERROR}
    ids = tuple(r.id for r in rules)
    outs = outcomes if outcomes is not None else tuple(codes[by[i]] if i in by else PASS for i in ids)
    text = _render(_header(rules, **hdr_kw), [_host(findings=findings, rule_ids=ids, outcomes=outs, **hkw)], _summary())
    return _suites(text)[0], text


# -- which element each outcome becomes -------------------------------------------------------


def test_a_gating_failure_is_a_failure_element_with_the_evidence() -> None:
    rules = (_rule("ITMS-NET-48", ".NET Framework 4.8", remediation="Install .NET 4.8."),)
    f = _finding("ITMS-NET-48", Outcome.FAIL, message=".NET is too old")
    suite, text = _one_host((f,), rules=rules)
    (tc,) = suite.findall("testcase")
    assert tc.get("name") == "ITMS-NET-48 .NET Framework 4.8" and tc.get("classname") == "web-01_example_com.net" and tc.get("time") == "0.000"
    (el,) = list(tc)
    assert el.tag == "failure" and el.attrib == {"type": "error", "message": "4.7.2 (expected >= 4.8)"}
    assert el.text == (
        "in/a.json:7\nhost: web-01.example.com\nsetting: dotnet.version (/dotnet/version)\nobserved: 4.7.2\nexpected: >= 4.8\n"
        ".NET is too old\nremediation: Install .NET 4.8.\nsource: https://example.com/kb/1 (confidence high)"
    )
    # The attributes in the strict profile's order: type, then message.
    assert '<failure type="error" message="4.7.2 (expected &gt;= 4.8)">' in text
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "0", "0")
    assert ("finding.ITMS-NET-48", "fail (error, does not gate)") not in _props(suite)


def test_a_finding_of_an_unknown_rule_names_the_rule_and_has_no_remediation() -> None:
    """A finding whose rule is not in the header (library use): the id as title, no remediation or source line."""
    f = _finding("ITMS-NET-48", Outcome.FAIL, line=0, pointer="", message="too old")
    text = _render(_header(), [_host(findings=(f,), rule_ids=("ITMS-NET-48",), outcomes=(FAIL,))], _summary())
    (tc,) = _suites(text)[0].findall("testcase")
    assert tc.get("name") == "ITMS-NET-48 ITMS-NET-48"
    assert tc.find("failure").text == "in/a.json\nhost: web-01.example.com\nsetting: dotnet.version\nobserved: 4.7.2\nexpected: >= 4.8\ntoo old"


def test_a_gating_unknown_is_an_error_naming_the_missing_fact_and_how_to_collect_it() -> None:
    rules = (_rule("ITMS-NET-48", "Net", remediation="Install .NET 4.8."),)
    f = _finding("ITMS-NET-48", Outcome.UNKNOWN, setting="dotnet.release", message="dotnet.release is missing",
                 evidence=(Evidence("dotnet.release", "/dotnet/release", MISSING, ">= 528040", "ge", "unknown"),))
    suite, _ = _one_host((f,), rules=rules)
    (el,) = list(suite.find("testcase"))
    assert el.tag == "error" and el.attrib == {"type": "Unknown", "message": "cannot check: dotnet.release is not recorded (unknown is not a pass)"}
    lines = el.text.split("\n")
    assert lines[:6] == ["in/a.json:7", "host: web-01.example.com", "setting: dotnet.release (/dotnet/version)", "observed: missing",
                         "expected: >= 528040", "dotnet.release is missing"]
    assert lines[6].startswith("to decide it: collect dotnet.release: run `sitegate collect` on the site server")
    assert lines[7] == "source: https://example.com/kb/1 (confidence high)" and len(lines) == 8  # no remediation line
    assert (suite.get("failures"), suite.get("errors")) == ("0", "1")


def test_an_unknown_with_no_setting_names_a_fact() -> None:
    f = _finding("ITMS-NET-48", Outcome.UNKNOWN, setting="")
    suite, _ = _one_host((f,), rules=(_rule("ITMS-NET-48"),))
    assert suite.find("testcase/error").get("message") == "cannot check: a fact is not recorded (unknown is not a pass)"


def test_a_gating_evaluation_error_is_an_error_with_its_detail_or_a_default() -> None:
    rules = tuple(_rule(r) for r in ("ITMS-A-1", "ITMS-A-2", "ITMS-A-3"))
    fs = (
        _finding("ITMS-A-1", Outcome.ERROR, evidence=(_ev(outcome="error", detail="regex budget exceeded"),)),
        _finding("ITMS-A-2", Outcome.ERROR, evidence=(_ev(outcome="error", detail=""),)),
        _finding("ITMS-A-3", Outcome.ERROR, evidence=()),
    )
    suite, _ = _one_host(fs, rules=rules)
    cases = _cases(suite)
    assert [(c.find("error").get("type"), c.find("error").get("message")) for c in cases.values()] == [
        ("EvaluationError", "could not be evaluated: regex budget exceeded"),
        ("EvaluationError", "could not be evaluated: evaluation failed"),
        ("EvaluationError", "could not be evaluated: evaluation failed"),
    ]
    # Without evidence the body says so: observed missing, expected nothing.
    assert "\nobserved: missing\nexpected: \n" in cases["ITMS-A-3"].find("error").text
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("3", "0", "3", "0")


def test_a_finding_that_does_not_gate_passes_and_carries_the_finding_in_its_system_out() -> None:
    rules = (_rule("ITMS-CAP-1", "Capacity", remediation="Add disks."), _rule("ITMS-NET-2", "Net"))
    fs = (
        _finding("ITMS-CAP-1", Outcome.FAIL, severity="warning", gating=False, message="450 GB free"),
        _finding("ITMS-NET-2", Outcome.UNKNOWN, severity="note", gating=False, setting="dotnet.release"),
    )
    suite, _ = _one_host(fs, rules=rules)
    cap, net = suite.findall("testcase")
    assert [c.tag for c in cap] == ["system-out"] and [c.tag for c in net] == ["system-out"]
    assert cap.find("system-out").text == (
        "FAIL (warning, does not gate: below --fail-on error)\nin/a.json:7\nhost: web-01.example.com\n"
        "setting: dotnet.version (/dotnet/version)\nobserved: 4.7.2\nexpected: >= 4.8\n450 GB free\nremediation: Add disks.\n"
        "source: https://example.com/kb/1 (confidence high)"
    )
    assert net.find("system-out").text.startswith("UNKNOWN (note, does not gate: below --fail-on error)\n")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("2", "0", "0", "0")
    props = _props(suite)
    assert props[-2:] == [("finding.ITMS-CAP-1", "fail (warning, does not gate)"), ("finding.ITMS-NET-2", "unknown (note, does not gate)")]
    assert dict(props)["host.state"] == "READY WITH WARNINGS"


def test_why_a_finding_does_not_gate_follows_fail_on_and_allow_unknown() -> None:
    rules = tuple(_rule(r) for r in ("ITMS-A-1", "ITMS-A-2", "ITMS-A-3", "ITMS-A-4", "ITMS-A-5"))
    fs = (
        _finding("ITMS-A-1", Outcome.UNKNOWN, severity="error", gating=False),  # at --fail-on: only --allow-unknown spares it
        _finding("ITMS-A-2", Outcome.UNKNOWN, severity="warning", gating=False),  # at --fail-on warning too
        _finding("ITMS-A-3", Outcome.UNKNOWN, severity="note", gating=False),  # below --fail-on warning
        _finding("ITMS-A-4", Outcome.FAIL, severity="note", gating=False),  # a failure below --fail-on
        _finding("ITMS-A-5", Outcome.UNKNOWN, severity="bogus", gating=False),  # an unranked severity ranks as a note
    )
    suite, _ = _one_host(fs, rules=rules, fail_on="warning", allow_unknown=True)
    heads = [tc.find("system-out").text.split("\n", 1)[0] for tc in suite.findall("testcase")]
    assert heads == [
        "UNKNOWN (error, does not gate: --allow-unknown)",
        "UNKNOWN (warning, does not gate: --allow-unknown)",
        "UNKNOWN (note, does not gate: below --fail-on warning)",
        "FAIL (note, does not gate: below --fail-on warning)",
        "UNKNOWN (bogus, does not gate: below --fail-on warning)",
    ]
    # At --fail-on note every ranked severity is at the threshold, the unranked one (as a note) too.
    suite, _ = _one_host((_finding("ITMS-A-5", Outcome.UNKNOWN, severity="bogus", gating=False),), rules=rules[4:],
                         fail_on="note", allow_unknown=True)
    assert suite.find("testcase/system-out").text.startswith("UNKNOWN (bogus, does not gate: --allow-unknown)\n")
    # Without --allow-unknown, an unknown that does not gate is below --fail-on.
    suite, _ = _one_host((_finding("ITMS-A-1", Outcome.UNKNOWN, severity="note", gating=False),), rules=rules[:1],
                         fail_on="warning", allow_unknown=False)
    assert suite.find("testcase/system-out").text.startswith("UNKNOWN (note, does not gate: below --fail-on warning)\n")


def test_waived_and_baseline_unchanged_findings_are_skipped_without_a_finding_property() -> None:
    rules = tuple(_rule(r) for r in ("ITMS-A-1", "ITMS-A-2", "ITMS-A-3", "ITMS-A-4"))
    fs = (
        _finding("ITMS-A-1", Outcome.FAIL, gating=False, waived=Waived("CHG-7", "Lyon is retired", "ops@example.com", "2027-01-31")),
        _finding("ITMS-A-2", Outcome.FAIL, severity="warning", gating=False, baseline="unchanged"),
        # Unchanged since the baseline but gating (the baseline does not cover it): still a failure.
        _finding("ITMS-A-3", Outcome.FAIL, gating=True, baseline="unchanged"),
        # New since the baseline and not gating: a passing case with the finding.
        _finding("ITMS-A-4", Outcome.FAIL, severity="warning", gating=False, baseline="new"),
    )
    suite, _ = _one_host(fs, rules=rules)
    c = _cases(suite)
    assert c["ITMS-A-1"].find("skipped").attrib == {"message": "waived: Lyon is retired (ops@example.com, expires 2027-01-31; waiver CHG-7)"}
    assert c["ITMS-A-2"].find("skipped").attrib == {
        "message": "baseline: known finding, unchanged since the baseline: 4.7.2 (expected >= 4.8)"}
    assert [e.tag for e in c["ITMS-A-3"]] == ["failure"]
    assert [e.tag for e in c["ITMS-A-4"]] == ["system-out"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("4", "1", "0", "2")
    findings = [p for p in _props(suite) if (p[0] or "").startswith("finding.")]
    assert findings == [("finding.ITMS-A-4", "fail (warning, does not gate)")]


def test_a_waived_gating_finding_is_skipped_not_failed() -> None:
    w = Waived("CHG-8", "r", "o", "2027-01-01")
    suite, _ = _one_host((_finding("ITMS-A-1", Outcome.FAIL, gating=True, waived=w),), rules=(_rule("ITMS-A-1"),))
    assert [e.tag for e in suite.find("testcase")] == ["skipped"]


def test_not_applicable_and_passing_rules() -> None:
    rules = (
        _rule("ITMS-A-1", roles=("package", "site")),  # the host's roles do not meet the rule's
        _rule("ITMS-A-2", roles=("task",)),  # they do: the applicability condition failed
        _rule("ITMS-A-3"),  # no roles: the condition
        _rule("ITMS-A-4"),  # passes
    )
    suite, text = _one_host((), rules=rules, outcomes=(NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, PASS), roles=("task", "smp"))
    c = _cases(suite)
    assert c["ITMS-A-1"].find("skipped").attrib == {"message": "not applicable: applies to package, site; host roles: task, smp"}
    cond = {"message": "not applicable: the rule's applicability condition does not hold for this host"}
    assert c["ITMS-A-2"].find("skipped").attrib == cond and c["ITMS-A-3"].find("skipped").attrib == cond
    assert list(c["ITMS-A-4"]) == []
    assert '<testcase name="ITMS-A-4 A title" classname="web-01_example_com.a" time="0.000"/>' in text
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("4", "0", "0", "3")
    # A host with no roles at all; one whose roles are not known (the condition is then the reason).
    suite, _ = _one_host((), rules=rules[:1], outcomes=(NOT_APPLICABLE,), roles=())
    assert suite.find("testcase/skipped").get("message") == "not applicable: applies to package, site; host roles: none"
    suite, _ = _one_host((), rules=rules[:1], outcomes=(NOT_APPLICABLE,), roles=None)
    assert suite.find("testcase/skipped").get("message") == cond["message"]


# -- suites, properties, names ----------------------------------------------------------------


def test_a_host_suite_has_its_attributes_and_properties_in_order() -> None:
    rules = (_rule("ITMS-A-1"), _rule("ITMS-A-2"))
    f = _finding("ITMS-A-1", Outcome.FAIL)
    host = _host(findings=(f,), rule_ids=("ITMS-A-1", "ITMS-A-2"), outcomes=(FAIL, PASS), counts=(1, 1, 0, 0, 0), roles=("task", "package"))
    suite = _suites(_render(_header(rules), [host], _summary()))[0]
    assert suite.attrib == {"name": "web-01.example.com", "package": "LON", "id": "0", "timestamp": "2026-11-20T09:30:00",
                            "hostname": "web-01.example.com", "tests": "2", "failures": "1", "errors": "0", "skipped": "0", "time": "0.000"}
    assert _props(suite) == [
        ("host.os", "Windows Server 2019"), ("host.roles", "task, package"), ("host.site", "LON"),
        ("host.notification_server", "ns1.example.com"), ("target", "8.7.3"), ("policy.packs", "itms-core@1.0, local@2"),
        ("facts.source", "in/a.json:3"), ("host.state", "NOT READY"),
    ]
    assert suite.find("system-out").text == "1 pass, 1 fail, 0 unknown, 0 error, 0 not applicable; 1 gating"
    assert suite.find("system-err") is not None and suite.find("system-err").text is None


def test_a_host_suite_with_nothing_known_says_so() -> None:
    host = _host(rule_ids=("ITMS-A-1",), outcomes=(PASS,), counts=(1, 0, 0, 0, 0), roles=None, os=None, site=None, ns=None, target=None, line=0)
    suite = _suites(_render(_header((_rule("ITMS-A-1"),)), [host], _summary()))[0]
    assert suite.get("package") == "sitegate"
    assert _props(suite) == [
        ("host.os", "unknown"), ("host.roles", "unknown"), ("host.site", ""), ("host.notification_server", ""), ("target", ""),
        ("policy.packs", "itms-core@1.0, local@2"), ("facts.source", "in/a.json"), ("host.state", "READY"),
    ]
    suite = _suites(_render(_header((_rule("ITMS-A-1"),)), [_host(rule_ids=("ITMS-A-1",), outcomes=(PASS,), roles=())], _summary()))[0]
    assert dict(_props(suite))["host.roles"] == "none"


def test_duplicate_host_names_get_distinct_suites_and_classnames() -> None:
    rules = (_rule("ITMS-NET-1"),)
    hosts = [_host("a.b.example", rule_ids=("ITMS-NET-1",), outcomes=(PASS,)) for _ in range(3)] + [_host("c", rule_ids=("ITMS-NET-1",), outcomes=(PASS,))]
    suites = _suites(_render(_header(rules), hosts, _summary()))
    assert [(s.get("name"), s.get("hostname"), s.get("id")) for s in suites] == [
        ("a.b.example", "a.b.example", "0"), ("a.b.example (2)", "a.b.example", "1"), ("a.b.example (3)", "a.b.example", "2"),
        ("c", "c", "3"), ("sitegate", "localhost", "4"),
    ]
    assert [s.find("testcase").get("classname") for s in suites[:4]] == [
        "a_b_example.net", "a_b_example (2).net", "a_b_example (3).net", "c.net"]


def test_a_rejected_record_is_a_suite_with_one_facts_valid_error() -> None:
    d1 = Diagnostic("in/f.jsonl", "os.build must be an integer", line=3, column=20, pointer="/os/build")
    d2 = Diagnostic("in/f.jsonl", "unknown field colour", line=3, column=40, pointer="/colour", level=Level.WARNING)
    bad = _host("bad.example", rejected=True, diagnostics=(d1, d2), line=3, index=2)
    empty = _host("worse", rejected=True, diagnostics=(), line=0, index=5)
    s1, s2, gate = _suites(_render(_header(), [bad, empty], _summary(exit_code=2, hosts_evaluated=0, hosts_rejected=2)))
    assert s1.attrib == {"name": "bad.example", "package": "rejected", "id": "0", "timestamp": "2026-11-20T09:30:00",
                         "hostname": "bad.example", "tests": "1", "failures": "0", "errors": "1", "skipped": "0", "time": "0.000"}
    (tc,) = s1.findall("testcase")
    assert tc.attrib == {"name": "facts valid", "classname": "bad_example.facts", "time": "0.000"}
    (err,) = list(tc)
    assert err.tag == "error" and err.attrib == {"type": "InvalidFacts", "message": "os.build must be an integer"}
    assert err.text == ("in/f.jsonl:3:20: error: os.build must be an integer (at /os/build)\n"
                        "in/f.jsonl:3:40: warning: unknown field colour (at /colour)")
    assert _props(s1) == [("facts.source", "in/a.json:3"), ("facts.index", "2")]
    (tc,) = s2.findall("testcase")
    assert tc.find("error").attrib == {"type": "InvalidFacts", "message": "the record was rejected"} and tc.find("error").text is None
    assert _props(s2) == [("facts.source", "in/a.json"), ("facts.index", "5")]
    assert gate.get("name") == "sitegate"


def test_library_use_without_full_outcomes_adds_one_case_for_the_other_rules() -> None:
    """Without per-rule outcomes: the findings' cases, then one passing case for the rest when there is a rest."""
    rules = (_rule("ITMS-A-1"),)
    f = _finding("ITMS-A-1", Outcome.FAIL)

    def names(findings: tuple[Finding, ...], counts: tuple[int, int, int, int, int]) -> list[str | None]:
        suite = _suites(_render(_header(rules), [_host(findings=findings, counts=counts)], _summary()))[0]
        return [tc.get("name") for tc in suite.findall("testcase")]

    assert names((f,), (0, 1, 0, 0, 0)) == ["ITMS-A-1 A title"]
    assert names((f,), (3, 1, 0, 0, 0)) == ["ITMS-A-1 A title", "other rules (3 passed, 0 not applicable)"]
    assert names((f,), (0, 1, 0, 0, 2)) == ["ITMS-A-1 A title", "other rules (0 passed, 2 not applicable)"]
    assert names((), (0, 0, 0, 0, 0)) == ["other rules (0 passed, 0 not applicable)"]  # never an empty suite
    suite = _suites(_render(_header(rules), [_host(counts=(4, 0, 0, 0, 1))], _summary()))[0]
    assert suite.find("testcase").attrib == {"name": "other rules (4 passed, 1 not applicable)", "classname": "web-01_example_com.rules", "time": "0.000"}


def test_rule_family_from_the_id_or_the_rule_tags() -> None:
    assert rule_family("ITMS-NET-48") == "net"
    assert rule_family("ITMS-Win.Os-2") == "win_os"
    assert rule_family("ITMS--NET--48") == "net"  # empty parts do not count
    # Fewer than three parts: the rule's first tag, else "rules".
    assert rule_family("ITMS-NET", _rule("ITMS-NET", tags=("Pkg.Svc", "other", "third"))) == "pkg_svc"
    assert rule_family("ITMS-NET", _rule("ITMS-NET", tags=())) == "rules"
    assert rule_family("ITMS-NET", _rule("ITMS-NET", tags=("",))) == "rules"
    assert rule_family("ITMS-NET") == "rules"
    assert rule_family("NET48") == "rules"


# -- the sitegate suite -----------------------------------------------------------------------


def test_the_sitegate_suite_properties_in_order() -> None:
    packs = (PackInfo("itms-core", "1.4", "t", "8.7", "p", "d", True, ()), PackInfo("local", "2", "t", "8.7", "p", "d", False, ()))
    overlays = (OverlayInfo("data/a.yaml", "abc123", ("os_builds@itms-core", "x@local"), ("ITMS-A-1",)),
                OverlayInfo("data/b.yaml", "def456", ("y@local",), ()))
    hdr = _header(packs=packs, overlays=overlays, extra_inputs=(("waivers", "w.yaml@sha256:1"), ("baseline", "b.json@sha256:2")))
    fixed = ({"host": "h1", "rule_id": "ITMS-A-1", "setting": "s"},)
    s = _summary(exit_code=1, hosts_read=4, hosts_evaluated=3, hosts_rejected=0, gating=5, waived=2, fixed=fixed,
                 states={"READY": 1, "READY WITH WARNINGS": 0, "NOT READY": 2, "CANNOT TELL": 0})
    (gate,) = _suites(_render(hdr, [], s))
    assert gate.attrib == {"name": "sitegate", "package": "sitegate", "id": "0", "timestamp": "2026-11-20T09:30:00",
                           "hostname": "localhost", "tests": "1", "failures": "0", "errors": "0", "skipped": "0", "time": "2.500"}
    assert _props(gate) == [
        ("sitegate.version", "9.9.9"), ("exit_code", "1"), ("verdict", "NOT READY"), ("target", "8.7.3"), ("fail_on", "error"),
        ("allow_unknown", "false"), ("category", "check"), ("policy.packs", "itms-core@1.4, local@2"), ("inputs", "in/a.json, in/b.csv"),
        ("hosts.read", "4"), ("hosts.evaluated", "3"), ("hosts.rejected", "0"),
        ("hosts.ready", "1"), ("hosts.ready_with_warnings", "0"), ("hosts.not_ready", "2"), ("hosts.cannot_tell", "0"),
        ("outcomes.pass", "3"), ("outcomes.fail", "1"),
        ("findings.gating", "5"), ("findings.waived", "2"), ("findings.fixed", "1"), ("input.errors", "0"), ("input.problems", "5"),
        ("input.waivers", "w.yaml@sha256:1"), ("input.baseline", "b.json@sha256:2"),
        ("overlay.1.path", "data/a.yaml"), ("overlay.1.sha256", "abc123"), ("overlay.1.tables", "os_builds@itms-core, x@local"),
        ("overlay.1.rules", "ITMS-A-1"),
        ("overlay.2.path", "data/b.yaml"), ("overlay.2.sha256", "def456"), ("overlay.2.tables", "y@local"), ("overlay.2.rules", ""),
    ]
    assert gate.find("system-out").text == "verdict: NOT READY (exit code 1)\nfixed since the baseline: h1 ITMS-A-1 (s)"
    (case,) = gate.findall("testcase")
    assert case.attrib == {"name": "inventory loaded", "classname": "sitegate.inventory", "time": "0.000"} and list(case) == []


def test_no_target_is_noted_in_the_properties_and_the_output() -> None:
    (gate,) = _suites(_render(_header(target=None, allow_unknown=True, fail_on="warning"), [], _summary(hosts_evaluated=1)))
    props = _props(gate)
    assert props[3] == ("target", "") and props[4] == ("fail_on", "warning") and props[5] == ("allow_unknown", "true")
    (note,) = [v for k, v in props if k == "note"]
    assert note is not None and note.startswith("no --target: each host was checked against its current ITMS version") and props[-1][0] == "note"
    out = gate.find("system-out").text.split("\n")
    assert out[0] == "verdict: READY (exit code 0)" and out[1] == f"note: {note}" and len(out) == 2


def test_inventory_loaded_errors_for_each_kind_of_bad_input() -> None:
    err_diag = Diagnostic("in/a.json", "not JSON", line=2, column=1)
    warn_diag = Diagnostic("in/a.json", "unknown field", line=4, column=3, level=Level.WARNING)

    def inventory(s: Summary) -> ET.Element:
        (gate,) = _suites(_render(_header(), [], s))
        (case,) = [tc for tc in gate.findall("testcase") if tc.get("name") == "inventory loaded"]
        assert case.get("classname") == "sitegate.inventory"
        return case

    case = inventory(_summary(exit_code=2, hosts_evaluated=3, hosts_rejected=2))
    assert case.find("error").attrib == {"type": "InputError", "message": "2 record(s) rejected"} and case.find("error").text is None
    case = inventory(_summary(exit_code=2, hosts_evaluated=3, diagnostics=(warn_diag, err_diag), notices=("skipped 1 file",)))
    assert case.find("error").attrib == {"type": "InputError", "message": "1 input error(s)"}
    # Only errors are listed (a warning is not why the inventory failed), then the notices.
    assert case.find("error").text == "in/a.json:2:1: error: not JSON\nskipped 1 file"
    case = inventory(_summary(exit_code=2, hosts_evaluated=0, hosts_rejected=1, diagnostics=(err_diag,)))
    assert case.find("error").get("message") == "1 record(s) rejected; 1 input error(s); no host was evaluated"
    # A warning alone does not fail the inventory.
    case = inventory(_summary(exit_code=0, hosts_evaluated=2, diagnostics=(warn_diag,)))
    assert list(case) == []


def test_at_most_50_input_errors_are_listed() -> None:
    diags = tuple(Diagnostic("in/a.json", f"bad record {i}", line=i + 1, column=1) for i in range(51))
    (gate,) = _suites(_render(_header(), [], _summary(exit_code=2, diagnostics=diags)))
    body = gate.find("testcase/error").text.split("\n")
    assert body == [f"in/a.json:{i + 1}:1: error: bad record {i}" for i in range(50)]
    out = gate.find("system-out").text.split("\n")
    assert out == ["verdict: INVALID INPUT (exit code 2)"] + [f"in/a.json:{i + 1}:1: error: bad record {i}" for i in range(50)]


def test_at_most_50_fixed_findings_are_listed_then_a_count() -> None:
    def out(n: int) -> list[str]:
        fixed = tuple({"host": f"h{i}", "rule_id": "ITMS-A-1", "setting": "s"} for i in range(n))
        (gate,) = _suites(_render(_header(), [], _summary(fixed=fixed)))
        assert dict(_props(gate))["findings.fixed"] == str(n)
        return gate.find("system-out").text.split("\n")

    lines = [f"fixed since the baseline: h{i} ITMS-A-1 (s)" for i in range(52)]
    assert out(49) == ["verdict: READY (exit code 0)"] + lines[:49]
    assert out(50) == ["verdict: READY (exit code 0)"] + lines[:50]
    assert out(51) == ["verdict: READY (exit code 0)"] + lines[:50] + ["... and 1 more fixed"]
    assert out(52) == ["verdict: READY (exit code 0)"] + lines[:50] + ["... and 2 more fixed"]


def test_each_expired_waiver_is_a_failing_case() -> None:
    waivers = (
        {"id": "CHG-1", "status": "expired", "expires": "2026-01-31", "source": "w.yaml", "line": 4, "rule": "ITMS-A-1", "hosts": "web-*", "owner": "ops"},
        {"id": "CHG-2", "status": "active", "expires": "2027-01-31", "source": "w.yaml", "line": 9, "rule": "ITMS-A-2", "hosts": "*", "owner": "ops"},
        {"id": "CHG-3", "status": "expired", "expires": "2025-12-31", "source": "w.yaml", "line": 14, "rule": "ITMS-A-3", "hosts": "db", "owner": "dba"},
    )
    (gate,) = _suites(_render(_header(), [], _summary(exit_code=1, waivers=waivers)))
    cases = gate.findall("testcase")
    assert [(c.get("name"), c.get("classname")) for c in cases] == [
        ("inventory loaded", "sitegate.inventory"), ("waiver CHG-1 is current", "sitegate.waivers"), ("waiver CHG-3 is current", "sitegate.waivers")]
    el = cases[1].find("failure")
    assert el.attrib == {"type": "ExpiredWaiver", "message": "waiver CHG-1 expired on 2026-01-31: renew or remove it"}
    assert el.text == "w.yaml:4\nrule ITMS-A-1, hosts web-*, owner ops"
    assert (gate.get("tests"), gate.get("failures"), gate.get("errors")) == ("3", "2", "0")


# -- time, clipping, escaping -----------------------------------------------------------------


def test_timestamps_and_the_run_time() -> None:
    def gate(started: str, finished: str) -> ET.Element:
        return _suites(_render(_header(started=started), [], _summary(finished=finished)))[0]

    g = gate("2026-11-20T09:30:00", "2026-11-20T09:31:01.25")
    assert (g.get("timestamp"), g.get("time")) == ("2026-11-20T09:30:00", "61.250")
    g = gate("2026-11-20T09:30:00.123456+00:00", "2026-11-20T09:30:00.623456+00:00")
    assert (g.get("timestamp"), g.get("time")) == ("2026-11-20T09:30:00", "0.500")
    # Shorter than a full date and time: the epoch, not a truncated or invalid stamp.
    g = gate("2026-11-20T09:30:0", "2026-11-20T09:30:05")
    assert (g.get("timestamp"), g.get("time")) == ("1970-01-01T00:00:00", "0.000")
    # A clock that went backwards, or an unreadable time: zero, never negative.
    assert gate("2026-11-20T09:30:10Z", "2026-11-20T09:30:02Z").get("time") == "0.000"
    assert gate("2026-11-20T09:30:00Z", "not a time").get("time") == "0.000"
    # Every suite of the run has the run's timestamp.
    text = _render(_header((_rule("ITMS-A-1"),), started="2026-11-21T23:59:59.9Z"), [_host(rule_ids=("ITMS-A-1",), outcomes=(PASS,))], _summary())
    assert [s.get("timestamp") for s in _suites(text)] == ["2026-11-21T23:59:59", "2026-11-21T23:59:59"]


def test_messages_are_clipped_at_500_characters() -> None:
    prefix = "could not be evaluated: "  # 24 characters

    def message(detail: str) -> str | None:
        f = _finding("ITMS-A-1", Outcome.ERROR, evidence=(_ev(outcome="error", detail=detail),))
        suite, _ = _one_host((f,), rules=(_rule("ITMS-A-1"),))
        return suite.find("testcase/error").get("message")

    assert message("d" * 476) == prefix + "d" * 476  # 500: kept
    assert message("d" * 477) == prefix + "d" * 473 + "..."  # 501: 497 and an ellipsis
    assert message("d" * 475) == prefix + "d" * 475


def test_observed_and_expected_are_clipped_at_300_characters() -> None:
    def failure(observed: str, expected: str) -> ET.Element:
        suite, _ = _one_host((_finding("ITMS-A-1", Outcome.FAIL, evidence=(_ev(observed, expected),)),), rules=(_rule("ITMS-A-1"),))
        return suite.find("testcase/failure")

    el = failure("o" * 300, "e" * 188)  # the message is 300 + 11 + 188 + 1 = 500 characters: not clipped
    assert el.get("message") == "o" * 300 + " (expected " + "e" * 188 + ")"
    assert "\nobserved: " + "o" * 300 + "\nexpected: " + "e" * 188 + "\n" in el.text
    el = failure("o" * 301, "e" * 10)
    assert el.get("message") == "o" * 297 + "... (expected " + "e" * 10 + ")"
    assert "\nobserved: " + "o" * 297 + "...\n" in el.text
    el = failure("o" * 10, "e" * 301)
    assert el.get("message") == "o" * 10 + " (expected " + "e" * 297 + "...)"
    assert "\nexpected: " + "e" * 297 + "...\n" in el.text
    el = failure("o" * 10, "e" * 300)
    assert el.get("message") == "o" * 10 + " (expected " + "e" * 300 + ")"
    el = failure("o" * 299, "e" * 299)  # 610 characters: the message is clipped at 500
    assert el.get("message") == "o" * 299 + " (expected " + "e" * 187 + "..."


def test_element_text_is_clipped_at_4000_characters() -> None:
    def body(notice: str) -> str | None:
        (gate,) = _suites(_render(_header(), [], _summary(exit_code=2, hosts_evaluated=0, notices=(notice,))))
        return gate.find("testcase/error").text

    assert body("n" * 4000) == "n" * 4000
    assert body("n" * 3999) == "n" * 3999
    assert body("n" * 4001) == "n" * 3997 + "..."
    assert body("n" * 5000) == "n" * 3997 + "..."
    # The suite's system-out too: "verdict: READY (exit code 0)\n" is 29 characters.
    fixed = ({"host": "h" * 3000, "rule_id": "R", "setting": "s"},)
    (gate,) = _suites(_render(_header(), [], _summary(fixed=fixed)))
    out = gate.find("system-out").text
    assert len(out) == 29 + len("fixed since the baseline: ") + 3000 + len(" R (s)")
    fixed = ({"host": "h" * 4000, "rule_id": "R", "setting": "s"},)
    (gate,) = _suites(_render(_header(), [], _summary(fixed=fixed)))
    out = gate.find("system-out").text
    assert len(out) == 4000 and out.endswith("hhh...")


def test_attributes_and_text_are_escaped_and_stripped_of_invalid_characters() -> None:
    title = 'a&b<c>"d\ne\rf\tg\x01h'
    rules = (_rule("ITMS-A-1", title),)
    f = _finding("ITMS-A-1", Outcome.FAIL, message='m&n<o>"p\rq\tr\x02s', evidence=(_ev('x"&<y>', "z"),))
    suite, text = _one_host((f,), rules=rules)
    tc = suite.find("testcase")
    assert tc.get("name") == 'ITMS-A-1 a&b<c>"d\ne\rf\tg\\x01h'
    assert 'name="ITMS-A-1 a&amp;b&lt;c&gt;&quot;d&#10;e&#13;f&#9;g\\x01h"' in text
    assert 'message="x&quot;&amp;&lt;y&gt; (expected z)"' in text
    el = tc.find("failure")
    assert el.get("message") == 'x"&<y> (expected z)'
    assert '\nm&n<o>"p\rq\tr\\x02s\n' in el.text
    assert '\nm&amp;n&lt;o&gt;"p&#13;q\tr\\x02s\n' in text  # in text a quote, a newline and a tab stay as they are


def test_a_report_is_a_complete_document() -> None:
    r = JunitRenderer(RenderOptions())
    head = r.start(_header())
    assert head == '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
    tail = r.finish(_summary())
    assert tail.endswith("  </testsuite>\n</testsuites>\n") and "<system-err/>" in tail


# -- what the renderer declares ---------------------------------------------------------------


def test_the_renderer_needs_every_outcome_and_leaves_input_errors_to_stderr(cli, tmp_path) -> None:
    """JUnit needs every (host, rule) outcome (a case per rule); it does not list input errors
    for a person, so the CLI prints them on stderr even when the report goes to stdout."""
    assert JunitRenderer.needs(RenderOptions()) == Needs(full_outcomes=True, capacity=False)
    assert JunitRenderer.shows_input_errors is False
    p = tmp_path / "f.jsonl"
    p.write_text('{"name": "good", "site_services": {"planned": ["task"]}}\nnot json\n')
    code, out, err = cli("check", str(p), "--target", "8.7.3", "--format", "junit")
    assert code == 2
    assert f"{p}:2:1: error:" in err
    suites = _suites(out)
    assert suites[0].get("name") == "good" and int(suites[0].get("tests") or 0) > 1
    assert "other rules" not in out


def test_the_gitlab_size_warning_states_the_size_in_whole_megabytes() -> None:
    assert JunitRenderer.size_warnings("r.xml", 30_000_000) == []
    (w,) = JunitRenderer.size_warnings("r.xml", 31_499_999)
    assert w == ("r.xml is 31 MB; GitLab ignores JUnit reports over 30 MB"
                 " (split the inventory, or publish SARIF or Markdown there)")
    (w,) = JunitRenderer.size_warnings("r.xml", 31_500_001)
    assert w.startswith("r.xml is 32 MB;")
