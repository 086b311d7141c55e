"""Policy tests as data: one folder per pack version, each case a host and its expected outcomes.

Layout: ``tests/policy_cases/<pack id>/<pack version>/<case>.yaml`` with keys
``target`` (ITMS version), ``facts`` (one host) and ``expect`` (rule id ->
outcome). Rules not listed are not asserted. Every bundled pack version must
have its folder, and every rule's own examples must give their outcome.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sitegate.engine.compiler import OUTCOME_NAMES
from sitegate.engine.evaluate import Options, evaluate
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
