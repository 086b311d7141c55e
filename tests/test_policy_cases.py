"""Policy tests as data: one folder per pack version, each case a host and its expected outcomes.

Layout: ``tests/policy_cases/<pack id>/<pack version>/<case>.yaml`` with keys
``target`` (ITMS version), ``facts`` (one host), ``expect`` (rule id ->
outcome), optionally ``audit_date`` and ``absent`` (rule ids that must not be
evaluated for that target). Rules not listed are not asserted. Every bundled pack version must
have its folder, and every rule's own examples must give their outcome.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sitegate.engine.evaluate import evaluate
from sitegate.engine.model import OUTCOME_NAMES
from sitegate.engine.options import Options
from sitegate.engine.examples import example_outcome, iter_examples
from sitegate.engine.packs import load_policies

CASES = Path(__file__).parent / "policy_cases"
_PS, _ = load_policies()


def _case_files() -> list[Path]:
    return sorted(CASES.glob("*/*/*.yaml"))


def test_every_bundled_pack_version_has_a_case_folder() -> None:
    for lp in _PS.loaded:
        folder = CASES / lp.pack.id / lp.pack.version
        assert folder.is_dir() and any(folder.glob("*.yaml")), f"no cases for {lp.pack.id} {lp.pack.version}"


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: f"{p.parent.parent.name}@{p.parent.name}/{p.stem}")
def test_policy_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    pack_id, version = path.parent.parent.name, path.parent.name
    assert _PS.by_id[pack_id].pack.version == version, f"{path}: folder version differs from the pack's"
    target = case["target"]
    assert pack_id in {e.id for e in _PS.select(target)} or any(pack_id in e.chain for e in _PS.select(target)), f"{pack_id} does not apply to {target}"
    facts = {"name": path.stem, **case["facts"]}
    report = evaluate([facts], _PS, Options(target=str(target), full_outcomes=True, audit_date=case.get("audit_date", "2026-11-25")))
    host = report.hosts[0]
    assert not host.rejected, host.diagnostics
    got = {rid: OUTCOME_NAMES[c] for rid, c in zip(host.rule_ids, host.outcomes)}
    for rule_id, expected in case["expect"].items():
        assert rule_id in got, f"{rule_id} was not evaluated for {target}"
        assert got[rule_id] == expected, f"{rule_id}: got {got[rule_id]}, expected {expected}"
    for rule_id in case.get("absent", []):
        assert rule_id not in got, f"{rule_id} must not apply to ITMS {target}"


RELEASES = {
    "8.5": "itms-8.5", "8.5.4": "itms-8.5", "8.6": "itms-8.6", "8.6.2": "itms-8.6", "8.7": "itms-8.7",
    "8.7.1": "itms-8.7.1", "8.7.2": "itms-8.7.2", "8.7.3": "itms-8.7.3", "8.7.3.1": "itms-8.7.3",
    "8.8": "itms-8.8", "8.8.1": "itms-8.8.1", "8.8.2": "itms-8.8.1",
}


@pytest.mark.parametrize("target,leaf", sorted(RELEASES.items()))
def test_target_selects_exactly_its_release_pack(target: str, leaf: str) -> None:
    assert [e.id for e in _PS.select(target)] == [leaf]


@pytest.mark.parametrize("target", ["7.5", "8.4", "8.9", "9.0"])
def test_no_pack_outside_the_known_releases(target: str) -> None:
    assert _PS.select(target) == []


def test_release_chain() -> None:
    chain = _PS.effective["itms-8.8.1"].chain
    assert chain == ("itms-8.8.1", "itms-8.8", "itms-8.7.3", "itms-8.7.2", "itms-8.7.1", "itms-8.7", "itms-8.6", "itms-8.5", "itms-base")


def test_every_release_has_its_own_site_server_matrix() -> None:
    """The support matrix is data per ITMS version; unconfirmed rows say so and name their source."""
    for e in _PS.effective.values():
        lp = _PS.by_id[e.id]
        if e.id == "itms-base":
            continue
        assert "site_server_os" in lp.pack.tables, e.id
        for row in lp.pack.tables["site_server_os"].rows:
            assert row["confirmed"] is False and row["source"] == "TODO" and row["itms"] == e.id.removeprefix("itms-")


def test_table_rows_say_whether_they_are_confirmed() -> None:
    for lp in _PS.loaded:
        for name, table in lp.pack.tables.items():
            for row in table.rows:
                assert isinstance(row.get("confirmed"), bool), f"{lp.pack.id}/{name}: {row}"
                if row["confirmed"]:
                    assert row.get("confirmed_by") or table.confidence.value == "high", f"{lp.pack.id}/{name}: {row}"


def _examples() -> list[tuple[str, str, str, int]]:
    out = []
    for e in _PS.effective.values():
        for rule in e.rules:
            if e.rule_pack.get(rule.id) == e.id:
                for expected, i, _ in iter_examples(rule):
                    out.append((e.id, rule.id, expected, i))
    return out


@pytest.mark.parametrize("pack_id,rule_id,expected,index", _examples(), ids=lambda v: str(v))
def test_rule_example(pack_id: str, rule_id: str, expected: str, index: int) -> None:
    pack = _PS.effective[pack_id]
    rule = next(r for r in pack.rules if r.id == rule_id)
    example = [x for x in iter_examples(rule) if x[0] == expected][index][2]
    assert example_outcome(rule, pack, example) == expected


def test_every_rule_has_source_url_and_confidence() -> None:
    for e in _PS.effective.values():
        for rule in e.rules:
            assert rule.source.startswith(("https://", "http://")), rule.id
            assert rule.confidence.value in ("high", "medium", "low"), rule.id
            assert rule.examples.pass_ and rule.examples.fail, rule.id


def test_low_confidence_rules_never_block_as_errors() -> None:
    """An unconfirmed requirement is a warning until an administrator confirms its data."""
    for e in _PS.effective.values():
        for rule in e.rules:
            if rule.confidence.value == "low":
                assert rule.severity.value != "error", rule.id
