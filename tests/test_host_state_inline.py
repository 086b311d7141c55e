"""The evaluator decides each host's state while it builds the findings (the hot
path); it must be exactly engine.verdict.host_state of those findings, for every
--fail-on and with or without --allow-unknown."""
from __future__ import annotations

from pathlib import Path

import pytest

from sitegate.engine.evaluate import evaluate
from sitegate.engine.model import FailOn
from sitegate.engine.options import Options
from sitegate.engine.packs import PolicySet
from sitegate.engine.verdict import CANNOT_TELL, NOT_READY, READY, READY_WITH_WARNINGS, host_state
from sitegate.facts.load import iter_paths

from .test_audit import generate


@pytest.mark.parametrize("fail_on", list(FailOn))
@pytest.mark.parametrize("allow_unknown", [False, True])
def test_each_hosts_state_is_host_state_of_its_findings(policies: PolicySet, tmp_path: Path, fail_on: FailOn, allow_unknown: bool) -> None:
    fleet = tmp_path / "fleet.jsonl"
    if not fleet.exists():
        generate(fleet, 400, seed=21, broken=0.0)
    options = Options(target="8.7.3", fail_on=fail_on, allow_unknown=allow_unknown, audit_date="2026-11-25")
    report = evaluate(iter_paths([str(fleet)], locate=True), policies, options)
    seen = set()
    for r in report.hosts:
        if r.rejected:
            continue
        assert r.state == host_state(r.findings, fail_on.threshold()), (r.name, fail_on, allow_unknown)
        seen.add(r.state)
    # More than one state on this fleet (a test that cannot pass vacuously).
    if fail_on is FailOn.NEVER:
        assert seen == {READY_WITH_WARNINGS} or seen == {READY, READY_WITH_WARNINGS}
    else:
        assert {NOT_READY, CANNOT_TELL} <= seen
