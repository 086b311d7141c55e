"""A table lookup keyed on a fact that holds an object (or a list of objects): no row
can hold one. A fact the schema types as an object is a load error; a list of objects
(site_services.installed) selects no row: never an internal error, in the closures or
in the generated code."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitegate.engine.evaluate import evaluate
from sitegate.engine.options import Options
from sitegate.engine.packs import load_policies
from sitegate.engine.rules import RuleSet
from sitegate.facts.load import iter_paths

from .conftest import EXAMPLES

REPO = Path(__file__).resolve().parents[1]
RULE = '''
rules:
  - id: KEYED-BY-FACT
    title: "an OS build in the rows a fact selects"
    description: A lookup keyed on a fact.
    severity: warning
    confidence: low
    source: https://github.com/sitegate/sitegate/blob/main/benchmarks/baseline_loop.py
    sources: [baseline-loop]
    assert:
      fact: os.build
      op: in
      value: {table: os_builds, column: build, where: {family: {fact: @@KEY@@}}}
    message: "{host}: build {observed}"
    remediation: None.
    examples:
      pass: [{facts: {os: {build: 17763, product_type: server}}}]
      fail: [{facts: {os: {build: 17763, product_type: workstation}}}]
'''


def _pack(tmp_path: Path, key: str) -> Path:
    text = (REPO / "benchmarks" / "engines" / "sitegate-checks" / "pack.yaml").read_text(encoding="utf-8")
    head = text[:text.index("\nrules:")].replace("id: bench-baseline-checks", "id: keyed").replace('">=99,<100"', '">=98,<99"')
    d = tmp_path / key
    d.mkdir()
    (d / "pack.yaml").write_text(head + RULE.replace("@@KEY@@", key), encoding="utf-8")
    return d


def test_an_object_fact_as_a_lookup_key_is_a_load_error(tmp_path: Path, cli: Any) -> None:
    d = _pack(tmp_path, "hardware")
    code, out, err = cli("check", str(EXAMPLES / "fleet.json"), "--policy-dir", str(d), "--target", "98")
    assert code == 2
    assert "pack.yaml:" in err and "hardware is an object" in err and "/where/family/fact" in err


@pytest.mark.parametrize("generated", [True, False])
def test_a_list_of_objects_as_a_lookup_key_selects_no_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated: bool) -> None:
    ps, diags = load_policies([str(_pack(tmp_path, "site_services.installed"))])
    assert not diags
    monkeypatch.setattr(RuleSet, "generated", generated)
    report = evaluate(iter_paths([str(EXAMPLES / "fleet.json")], locate=True), ps, Options(target="98", audit_date="2026-11-25"))
    outcomes = {r.name: [f.outcome.value for f in r.findings] for r in report.hosts}
    # A host with installed services: no row for them, so the build is in no row's column (fail);
    # a host with none recorded: unknown. Never an error or an internal error.
    assert set(sum(outcomes.values(), [])) <= {"fail", "unknown"} and "fail" in sum(outcomes.values(), [])
