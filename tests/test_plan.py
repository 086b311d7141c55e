"""sitegate plan (engine): rules classified between --from and --to, host states, blockers, work list, exit code."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sitegate.engine.evaluate import Options
from sitegate.engine.model import FailOn
from sitegate.engine.packs import load_policies
from sitegate.engine.plan import run_plan
from sitegate.engine.plan_model import FIXED, NEWLY_FAILING, STILL_FAILING, TO_COLLECT, FleetPlan
from sitegate.engine.render.plan import RENDERERS
from sitegate.facts.load import iter_paths

ROOT = Path(__file__).parent.parent
EX = ROOT / "examples"
SCHEMA = json.loads((ROOT / "schemas" / "plan.v1.schema.json").read_text())
_PS, _ = load_policies()


def _plan(paths: list[Path] | list[dict[str, Any]], to: str, frm: str | None = "8.6", **opts: Any) -> FleetPlan:
    def items() -> Any:
        if paths and isinstance(paths[0], dict):
            return [dict(h) for h in paths]  # type: ignore[arg-type]
        return iter_paths([str(p) for p in paths], locate=True)

    options = Options(audit_date="2026-11-20", **opts)
    plan = run_plan(items, _PS, to_version=to, from_version=frm, options=options)
    jsonschema.validate(json.loads(RENDERERS["json"](plan)), SCHEMA)
    return plan


def _change(plan: FleetPlan, host: str, rule: str) -> Any:
    h = next(h for h in plan.hosts if h.name == host)
    return next((c for c in h.changes if c.rule_id == rule), None)


def test_net48_is_newly_failing_and_blocking_from_86_to_871_with_the_os_fix() -> None:
    plan = _plan([EX / "task-server-86.json"], "8.7.1")
    c = _change(plan, "TS-MAD-04", "ITMS-NET-48")
    assert c.change == NEWLY_FAILING and c.blocking and c.outcome_from is None and c.outcome_to == "fail"
    # Windows Server 2019 takes 4.8, not 4.8.1 (pack table dotnet_481_os).
    assert "install .NET Framework 4.8 " in c.remediation and "4.8.1 does not install on Windows Server 2019" in c.remediation
    assert plan.hosts[0].state == "BLOCKED" and plan.exit_code == 1
    assert plan.blockers[0][0] == "ITMS-NET-48" and plan.work[0].kind == "fix" and plan.work[0].hosts == ("TS-MAD-04",)


def test_the_same_fleet_at_87_does_not_list_net48() -> None:
    plan = _plan([EX / "task-server-86.json"], "8.7")
    assert _change(plan, "TS-MAD-04", "ITMS-NET-48") is None
    assert plan.hosts[0].state == "READY" and plan.exit_code == 0


def test_server_2022_is_offered_481() -> None:
    host = json.loads((EX / "task-server-86.json").read_text())["hosts"][0]
    host["os"].update(build=20348, caption="Microsoft Windows Server 2022 Standard")
    c = _change(_plan([host], "8.7.1"), "TS-MAD-04", "ITMS-NET-48")
    assert "4.8 or 4.8.1" in c.remediation


def test_2012r2_package_server_is_ready_with_warnings_and_blocked_with_fail_on_warning() -> None:
    plan = _plan([EX / "package-server-2012r2.json"], "8.7.3")
    assert plan.hosts[0].state == "READY WITH WARNINGS" and plan.exit_code == 0 and plan.verdict == "READY WITH WARNINGS"
    assert {c.rule_id for c in plan.hosts[0].changes} == {"ITMS-OS-LIFECYCLE", "ITMS-PREREQ-OS-SUPPORTED"}
    strict = _plan([EX / "package-server-2012r2.json"], "8.7.3", fail_on=FailOn.WARNING)
    assert strict.hosts[0].state == "BLOCKED" and strict.exit_code == 1
    assert [w.kind for w in strict.work] == ["fix", "fix"]


def test_states_of_the_example_fleet_and_work_order() -> None:
    plan = _plan([EX / "fleet.json"], "8.7.3", frm=None)
    states = {h.name: h.state for h in plan.hosts}
    assert states == {"TS-LON-01": "READY", "PS-PAR-02": "BLOCKED", "WKS-LYON-07": "READY WITH WARNINGS", "TS-NYC-03": "CANNOT TELL"}
    assert plan.states == {"READY": 1, "READY WITH WARNINGS": 1, "BLOCKED": 1, "CANNOT TELL": 1}
    kinds = [w.kind for w in plan.work]
    assert kinds == sorted(kinds, key=["fix", "collect", "review"].index)
    collect = [w for w in plan.work if w.kind == "collect"]
    net = next(w for w in collect if "ITMS-NET-48" in w.rule_id)
    assert "dotnet.release" in net.action and "dotnet_release" in net.action
    # An unknown's remediation is how to collect the fact, never the failure's fix.
    c = _change(plan, "TS-NYC-03", "ITMS-NET-48")
    assert c.change == TO_COLLECT and c.missing == ("dotnet.release",) and "Install" not in c.remediation
    assert plan.exit_code == 1


def test_allow_unknown_lets_cannot_tell_pass() -> None:
    host = json.loads((EX / "fleet.json").read_text())["hosts"][3]
    assert _plan([host], "8.7.3", frm=None).exit_code == 1
    plan = _plan([host], "8.7.3", frm=None, allow_unknown=True)
    assert plan.hosts[0].state == "CANNOT TELL" and plan.exit_code == 0


def test_still_failing_and_fixed() -> None:
    host = json.loads((EX / "task-server-86.json").read_text())["hosts"][0]
    plan = _plan([host], "8.7.3", frm="8.7.1")
    assert _change(plan, "TS-MAD-04", "ITMS-NET-48").change == STILL_FAILING
    back = _plan([host], "8.6", frm="8.7.1")
    c = _change(back, "TS-MAD-04", "ITMS-NET-48")
    assert c.change == FIXED and not c.blocking and back.hosts[0].state == "READY"


def test_host_without_a_current_version_is_reported_and_counted() -> None:
    host = json.loads((EX / "task-server-86.json").read_text())["hosts"][0]
    del host["platform"]
    plan = _plan([host], "8.7.1", frm=None)
    assert plan.hosts_without_from == 1 and plan.hosts[0].from_version is None
    assert "current version unknown" in plan.hosts[0].from_note
    c = _change(plan, "TS-MAD-04", "ITMS-NET-48")
    assert c.change == "failing" and c.blocking
    assert "without a current version" in RENDERERS["table"](plan)


def test_bad_input_exits_2() -> None:
    plan = _plan([{"name": "X", "dotnet": {"release": "high"}}], "8.7.1")
    assert plan.exit_code == 2 and plan.hosts_rejected == 1 and plan.verdict == "INVALID INPUT"
    empty = run_plan(lambda: [], _PS, to_version="8.7.1", from_version="8.6", options=Options())
    assert empty.exit_code == 2


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json"])
def test_every_format_tells_the_same_states(fmt: str) -> None:
    plan = _plan([EX / "fleet.json", EX / "task-server-86.json", EX / "package-server-2012r2.json"], "8.7.3", frm=None)
    text = RENDERERS[fmt](plan)
    if fmt == "json":
        assert json.loads(text)["summary"]["states"] == plan.states
        return
    for state, n in plan.states.items():
        assert {"table": f"{n} {state}", "markdown": f"| {state} | {n} |", "html": f"<b>{n}</b>{state}"}[fmt] in text
    assert plan.states == {"READY": 1, "READY WITH WARNINGS": 2, "BLOCKED": 2, "CANNOT TELL": 1}


def test_hostile_names_are_escaped_in_markdown_and_html() -> None:
    host = json.loads((EX / "task-server-86.json").read_text())["hosts"][0]
    host["name"] = "<script>x</script>|`"
    plan = _plan([host], "8.7.1")
    assert "<script>" not in RENDERERS["html"](plan)
    assert "<script>x</script>|" not in RENDERERS["markdown"](plan)
