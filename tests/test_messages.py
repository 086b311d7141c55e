"""Findings an administrator reads right (issue 15, item 5).

Over every policy case and every rule example of the bundled packs: a failed
rule's message never fills a placeholder with a fact the host does not have
(which would print "missing" as if it were a value, "it reports to missing"),
never shows an internal path ("derived.installed_services"), and no message,
remediation or description points to a file sitegate does not ship.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from sitegate.engine.evaluate import Options, evaluate
from sitegate.engine.examples import iter_examples, representative_target
from sitegate.engine.model import Outcome
from sitegate.engine.packs import load_policies
from sitegate.facts.normalize import derive

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "policy_cases"
_PS, _ = load_policies()
_STANDARD = {"host", "observed", "expected", "detail", "target", "rule", "fact", "label"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FILE = re.compile(r"\b[\w./-]+\.(?:md|sql|ps1|yaml|json)\b")
_SHIPPED = {
    str(p.relative_to(REPO)) for top in ("docs", "policies", "schemas", "facts", "examples") for p in (REPO / top).rglob("*") if p.is_file()
} | {"README.md"}


def _hosts() -> Iterator[tuple[str, dict[str, Any], str, str]]:
    for path in sorted(CASES.glob("*/*/*.yaml")):
        case = yaml.safe_load(path.read_text("utf-8"))
        yield f"case {path.relative_to(CASES)}", case["facts"], str(case["target"]), case.get("audit_date", "2026-11-25")
    for e in _PS.effective.values():
        for rule in e.rules:
            if e.rule_pack.get(rule.id) != e.id:
                continue
            for expected, i, ex in iter_examples(rule):
                target = ex.target or representative_target(e)
                yield f"{rule.id} {expected}[{i}]", ex.facts, target, ex.audit_date or "2026-11-25"


HOSTS = list(_hosts())
TARGETS = ("8.5", "8.6", "8.7", "8.7.1", "8.7.2", "8.7.3", "8.8", "8.8.1")
# "missing" as a word, except "missing: Web-ASP, ..." (a list of what is absent).
_MISSING_AS_VALUE = re.compile(r"(?<![\w-])missing(?![\w:-])")
_RULES = {r.id: r for e in _PS.effective.values() for r in e.rules}


def _lookup(facts: dict[str, Any], path: str) -> Any:
    node: Any = facts
    for part in path.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            return None
        node = node[part]
    return node


def _findings(facts: dict[str, Any], target: str, audit_date: str) -> list[Any]:
    report = evaluate([{"name": "host01", **facts}], _PS, Options(target=target, audit_date=audit_date))
    host = report.hosts[0]
    assert not host.rejected, host.diagnostics
    return list(host.findings)


@pytest.mark.parametrize("label,facts,target,audit_date", HOSTS, ids=[h[0] for h in HOSTS])
def test_failed_rule_messages_fill_every_placeholder(label: str, facts: dict[str, Any], target: str, audit_date: str) -> None:
    known = {**facts, "derived": derive(facts), "context": {"target": target, "audit_date": audit_date}}
    for f in _findings(facts, target, audit_date):
        if f.outcome != Outcome.FAIL:
            continue
        rule = _RULES[f.rule_id]
        for name in _PLACEHOLDER.findall(rule.message):
            if name in _STANDARD:
                continue
            assert _lookup(known, name) is not None, f"{label}: {f.rule_id} fills {{{name}}}, which this host does not have: {f.message}"
        assert "derived." not in f.message, f"{label}: {f.message}"
        assert not re.search(r"(?<![\w-])missing(?![\w:])", f.message.replace("missing:", "")), f"{label}: {f.message}"


def _text_faults(text: str) -> list[str]:
    """What a user-facing text must not contain (issue 15, item 5)."""
    faults = []
    if "derived." in text:
        faults.append("an internal derived.* path")
    if _MISSING_AS_VALUE.search(text):
        faults.append("'missing' as if it were a value")
    if "<missing>" in text:
        faults.append("the MISSING sentinel")
    for ref in _FILE.findall(re.sub(r"https?://\S+", "", text)):
        if ref not in _SHIPPED:
            faults.append(f"the unshipped file {ref}")
    return faults


def _every_finding() -> Iterator[tuple[str, Any]]:
    """Every finding (fail, unknown, error) of every policy case, every rule example and
    the example fleet at every release."""
    for label, facts, target, audit_date in HOSTS:
        for f in _findings(facts, target, audit_date):
            yield label, f
    fleet = json.loads((REPO / "examples" / "fleet.json").read_text("utf-8"))
    for target in TARGETS:
        report = evaluate(fleet, _PS, Options(target=target, audit_date="2026-11-25"))
        for host in report.hosts:
            for f in host.findings:
                yield f"examples/fleet.json {host.name} at {target}", f


def test_no_finding_message_or_remediation_shows_missing_internal_paths_or_unshipped_files() -> None:
    """Done when (issue 15): over the whole policy-case folder (and the rule examples
    and the example fleet), no message or remediation of a bundled rule shows a
    placeholder's missing as a value, a derived.* path, or a file sitegate does not ship."""
    seen = {"fail": 0, "unknown": 0}
    bad = []
    for label, f in _every_finding():
        seen[f.outcome.value] = seen.get(f.outcome.value, 0) + 1
        for what, text in (("message", f.message), ("remediation", _RULES[f.rule_id].remediation)):
            bad += [f"{label}: {f.rule_id} {what} shows {fault}: {text}" for fault in _text_faults(text)]
    assert not bad, "\n".join(bad[:20])
    # The sweep saw both kinds of finding in numbers, or it proves nothing.
    assert seen["fail"] > 50 and seen["unknown"] > 500, seen


@pytest.mark.parametrize(
    "text",
    [
        "TS01: it reports to missing",
        "TS01: cannot check 'x': fact derived.installed_services is missing (unknown is not a pass)",
        "TS01: see itms-domain.md section 3",
        "TS01: observed <missing>",
    ],
)
def test_the_sweep_catches_each_fault(text: str) -> None:
    assert _text_faults(text)


def test_the_sweep_lets_good_text_through() -> None:
    assert not _text_faults("PS01: IIS role services are incomplete: missing: Web-WMI (see docs/sources.md)")


@pytest.mark.parametrize(
    "facts,rule_id,want",
    [
        # No row for the host's values: say which values.
        ({"os": {"build": 19044, "product_type": "workstation", "architecture": "x64"}}, "ITMS-OS-LIFECYCLE",
         "no os_lifecycle row for build 19044 and family desktop"),
        # The real cause is another missing fact: say that one.
        ({"os": {"build": 19045, "architecture": "x64"}}, "ITMS-OS-LIFECYCLE",
         "os.product_type is not recorded, so no os_lifecycle row can be chosen"),
        # A derived fact is named by the fact the user supplies.
        ({"os": {"build": 17763, "product_type": "server", "architecture": "x64"}}, "ITMS-IIS-PACKAGE-FEATURES",
         "iis.features is not recorded"),
    ],
)
def test_unknown_messages_name_the_user_facing_fact_or_the_value_without_a_row(facts: dict[str, Any], rule_id: str, want: str) -> None:
    found = {f.rule_id: f for f in _findings({**facts, "site_services": {"planned": ["package"]}}, "8.7.3", "2026-11-25")}
    f = found[rule_id]
    assert f.outcome == Outcome.UNKNOWN and want in f.message, f.message
    assert not _text_faults(f.message)


def test_a_fact_placeholder_the_host_lacks_reads_as_a_phrase() -> None:
    from sitegate.engine.messages import MessageTemplate

    t = MessageTemplate("R", "title", "{host}: it reports to {identity.notification_server} at {platform.itms_version}")
    got = t.format("TS01", 1, [], {"platform": {"itms_version": "8.7.3"}}, "8.7.3")
    assert got == "TS01: it reports to an unknown Notification Server at 8.7.3"


def test_no_text_of_a_rule_points_to_a_file_that_is_not_shipped() -> None:
    for e in _PS.effective.values():
        pack = _PS.by_id[e.id].pack
        texts = [pack.description] + [s.note or "" for s in pack.sources]
        for rule in e.rules:
            texts += [rule.message, rule.remediation, rule.description, rule.rationale or ""]
        for table in pack.tables.values():
            texts.append(table.description)
            texts += [str(row.get("note", "")) for row in table.rows]
        for text in texts:
            for ref in _FILE.findall(re.sub(r"https?://\S+", "", text)):
                assert ref in _SHIPPED, f"{e.id}: refers to {ref!r}, which sitegate does not ship: {text[:120]}"


def test_messages_and_remediations_name_no_internal_path() -> None:
    for rule in _RULES.values():
        assert "derived." not in rule.remediation, rule.id
        # A message may use derived facts as placeholders, but the text around them must not name them.
        assert "derived." not in _PLACEHOLDER.sub("", rule.message), rule.id


def test_registration_limit_reads_as_a_sentence() -> None:
    (f,) = [x for x in _findings({"load": {"endpoints": 5001}, "site_services": {"installed": [{"service": "task"}]}}, "8.7.3", "2026-11-25")
            if x.rule_id == "ITMS-CAP-TASK-REGISTRATION"]
    assert "is <= 5000 by default" not in f.message
    assert "5,000" in f.message and "5001 clients" in f.message


@pytest.mark.parametrize(
    "os_facts,want,not_want",
    [
        ({"build": 17763, "product_type": "server"}, "4.8 (4.8.1 cannot be installed on Windows Server 2016 or 2019)", "4.8 or 4.8.1"),
        ({"build": 14393, "product_type": "server"}, "cannot be installed on Windows Server 2016", "4.8 or 4.8.1"),
        ({"build": 20348, "product_type": "server"}, "4.8 or 4.8.1", "cannot be installed"),
        ({"build": 19045, "product_type": "workstation"}, "4.8 or 4.8.1", "cannot be installed"),
        ({}, "4.8.1 only on Windows Server 2022", "4.8 or 4.8.1"),
    ],
)
def test_net48_names_what_the_host_can_take(os_facts: dict[str, Any], want: str, not_want: str) -> None:
    facts = {"dotnet": {"release": 461814}, "site_services": {"planned": ["task"]}}
    if os_facts:
        facts["os"] = {**os_facts, "architecture": "x64"}
    (f,) = [x for x in _findings(facts, "8.7.3", "2026-11-25") if x.rule_id == "ITMS-NET-48"]
    assert want in f.message and not_want not in f.message, f.message


def test_x64_and_matrix_are_separate_findings() -> None:
    found = {f.rule_id: f for f in _findings({"os": {"build": 19045, "product_type": "workstation", "architecture": "x86"}, "site_services": {"planned": ["package"]}}, "8.7.3", "2026-01-01")}
    assert "ITMS-PREREQ-OS-X64" in found and "ITMS-PREREQ-OS-SUPPORTED" not in found
    assert "x86" in found["ITMS-PREREQ-OS-X64"].message and "matrix" not in found["ITMS-PREREQ-OS-X64"].message
    assert found["ITMS-PREREQ-OS-X64"].confidence == "low"


def test_server_2012r2_at_873_gets_matrix_and_lifecycle_findings() -> None:
    found = {f.rule_id: f for f in _findings({"os": {"build": 9600, "product_type": "server", "architecture": "x64"}, "site_services": {"planned": ["task"]}}, "8.7.3", "2026-11-25")}
    assert found["ITMS-PREREQ-OS-SUPPORTED"].outcome == Outcome.FAIL and found["ITMS-OS-LIFECYCLE"].outcome == Outcome.FAIL
    assert "derived from Microsoft release and end-of-support dates" in found["ITMS-PREREQ-OS-SUPPORTED"].message
    assert "Windows Server 2012 R2 (build 9600)" in found["ITMS-OS-LIFECYCLE"].message
    assert "ITMS-PREREQ-OS-X64" not in found
