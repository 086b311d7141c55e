"""The finding memo (CompiledRule.finding_parts) must never change what is reported.

Hosts of a fleet fail the same rule the same way again and again, so the
engine keeps each rule's evidence and message, keyed by the values of the facts
the rule reads. These tests compare reports made with the memo against reports
made without it, and probe the keys where a naive memo would go wrong.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sitegate.engine import rules as rules_mod
from sitegate.engine.evaluate import evaluate
from sitegate.engine.messages import HOST_MARK
from sitegate.engine.options import Options
from sitegate.engine.rules import rule_reads
from sitegate.engine.packs import PolicySet
from sitegate.engine.render import Format, render

from .conftest import EXAMPLES
from .test_audit import generate

STAMP = re.compile(r'"(started_at|finished_at)": "[^"]*"')
OPTIONS = Options(target="8.7.3", locate=True, full_outcomes=True, audit_date="2026-11-25")


def _report(items: Any, policies: PolicySet, memo: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(rules_mod, "MEMO_LIMIT", rules_mod.MEMO_LIMIT if memo else 0)
    report = evaluate(items, policies, OPTIONS)
    doc = json.loads(STAMP.sub(r'"\1": "T"', render(Format.JSON, report)))
    # The JSON report (v2) carries no messages, and the memo keeps them too: each finding
    # gets its message from the model, so that they are compared as well.
    for host, result in zip(doc["hosts"], report.hosts):
        for f, finding in zip(host.get("findings", ()), result.findings):
            assert f["rule_id"] == finding.rule_id
            f["message"] = finding.message
    return json.dumps(doc, ensure_ascii=False)


def _hosts() -> list[dict[str, Any]]:
    return json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))["hosts"]


def test_memo_changes_nothing_on_a_generated_fleet(policies: PolicySet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sitegate.facts.load import iter_paths

    fleet = generate(tmp_path / "fleet.jsonl", 1500, seed=11, broken=0.02)
    with_memo = _report(iter_paths([str(fleet)], locate=True), policies, True, monkeypatch)
    without = _report(iter_paths([str(fleet)], locate=True), policies, False, monkeypatch)
    assert with_memo == without
    assert with_memo.count('"rule_id"') > 1000  # the fleet does fail rules: the memo was exercised


def test_one_and_one_point_zero_are_different_observations(policies: PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    """1 == 1.0 in Python (and True == 1): a memo keyed on plain values would mix them up."""
    base = next(h for h in _hosts() if "package" in json.dumps(h.get("site_services")))
    hosts = []
    for i, free in enumerate((5, 5.0, 5, 5.0)):
        h = copy.deepcopy(base)
        h["name"] = f"HOST{i}"
        h.setdefault("hardware", {})["package_store_free_gb"] = free
        hosts.append(h)
    report = json.loads(_report(hosts, policies, True, monkeypatch))
    seen = []
    for host in report["hosts"]:
        ev = [e for f in host["findings"] if f["rule_id"] == "ITMS-PKG-STORE-FREE-SPACE" for e in f["evidence"]]
        assert ev, host["name"]
        seen.append(ev[0]["observed"])
    assert [type(v) for v in seen] == [int, float, int, float]
    assert report == json.loads(_report(hosts, policies, False, monkeypatch))


def test_messages_carry_their_own_host_and_odd_fact_text(policies: PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The message is kept split around the host name; a fact that contains the
    engine's split marker, or the host's own name, must still come out verbatim."""
    base = next(h for h in _hosts() if "package" in json.dumps(h.get("site_services")))
    hosts = []
    paths = ("C:\\Users\\Public\\store", f"C:\\x{HOST_MARK}y", "C:\\HOSTA\\HOSTA", "C:\\Users\\Public\\store",
             "C:\\x\x00y", HOST_MARK[:-1], HOST_MARK[1:])
    for i, path in enumerate(paths):
        h = copy.deepcopy(base)
        h["name"] = ("HOSTA", "HOSTB", "HOSTA2", "HOSTC", "HOSTD", "HOSTE", "HOSTF")[i]
        h.setdefault("package_store", {}).update({"path": path, "in_known_folder": True, "fixed_media": True})
        hosts.append(h)
    with_memo = _report(hosts, policies, True, monkeypatch)
    assert with_memo == _report(hosts, policies, False, monkeypatch)
    report = json.loads(with_memo)
    for host, src in zip(report["hosts"], hosts):
        msgs = [f["message"] for f in host["findings"] if f["rule_id"] == "ITMS-PKG-STORE-LOCATION"]
        assert len(msgs) == 1, host["name"]
        assert msgs[0].startswith(host["name"] + ": ")
        assert src["package_store"]["path"] in msgs[0]


def test_rule_reads_cover_every_fact_of_the_condition_and_message(policies: PolicySet) -> None:
    """The memo key must hold every fact a rule's outcome or message depends on."""
    from sitegate.engine.compiler import iter_leaves

    for eff in policies.effective.values():
        for rule in eff.rules:
            reads = set(rule_reads(rule))
            for leaf in iter_leaves(rule.when) + iter_leaves(rule.assert_):
                assert leaf.fact in reads, (rule.id, leaf.fact)
            for name in re.findall(r"\{([^{}]*)\}", rule.message):
                if "." in name:
                    assert name in reads, (rule.id, name)
            if rule.roles:
                assert "derived.roles" in reads, rule.id


def test_memo_stays_within_its_budget_across_target_versions(policies: PolicySet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fleet of many ITMS versions compiles a rule set per version; the entries of all
    of them together stay within MEMO_BUDGET, each rule's within MEMO_LIMIT, and the
    report is the one made without a memo."""
    from sitegate.engine.evaluate import HostEvaluator
    from sitegate.engine.options import EvalSettings
    from sitegate.facts.load import iter_paths

    source = generate(tmp_path / "one-version.jsonl", 1500, seed=5, broken=0.0)
    versions = ["8.5", "8.6", "8.7.1", "8.7.3", "8.8.1"]
    fleet = tmp_path / "fleet.jsonl"
    with fleet.open("w", encoding="utf-8") as out:
        for i, line in enumerate(source.read_text(encoding="utf-8").splitlines()):
            host = json.loads(line)
            host.setdefault("platform", {})["itms_version"] = versions[i % len(versions)]
            out.write(json.dumps(host) + "\n")
    options = Options(target=None, locate=True, full_outcomes=True, audit_date="2026-11-25")
    monkeypatch.setattr(rules_mod, "MEMO_BUDGET", 40)
    monkeypatch.setattr(rules_mod, "MEMO_LIMIT", 6)
    ev = HostEvaluator(policies, EvalSettings.from_options(options))
    for item in iter_paths([str(fleet)], locate=True):
        ev.evaluate(item)
    rulesets = [rs for rs in ev.ev._cache.values() if rs is not None]
    assert len(rulesets) >= 3  # the fleet mixes versions
    sizes = [len(cr._memo) for rs in rulesets for cr in rs.rules]
    assert sum(sizes) == 40 and max(sizes) <= 6
    budgeted = STAMP.sub(r'"\1": "T"', render(Format.JSON, evaluate(iter_paths([str(fleet)], locate=True), policies, options)))
    monkeypatch.setattr(rules_mod, "MEMO_LIMIT", 0)
    plain = STAMP.sub(r'"\1": "T"', render(Format.JSON, evaluate(iter_paths([str(fleet)], locate=True), policies, options)))
    assert budgeted == plain
