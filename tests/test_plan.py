"""sitegate plan (engine): rules classified between --from and --to, host states, blockers, work list, exit code."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sitegate.engine.model import FailOn
from sitegate.engine.plan import plan_upgrade
from sitegate.engine.plan_model import FIXED, NEWLY_FAILING, STILL_FAILING, TO_COLLECT, FleetPlan
from sitegate.engine.render.plan import RENDERERS
from sitegate.engine.run import RunOptions

ROOT = Path(__file__).parent.parent
EX = ROOT / "examples"
SCHEMA = json.loads((ROOT / "schemas" / "plan.v1.schema.json").read_text())


def _plan(paths: list[Path] | list[dict[str, Any]], to: str, frm: str | None = "8.6", **opts: Any) -> FleetPlan:
    """The plan through the library entry point (hosts given as dicts are written to a facts file first)."""
    if paths and isinstance(paths[0], dict):
        with tempfile.TemporaryDirectory() as tmp:
            facts = Path(tmp) / "hosts.json"
            facts.write_text(json.dumps({"hosts": paths}), "utf-8")
            return _plan([facts], to, frm, **opts)
    plan = plan_upgrade([str(p) for p in paths], to, frm, RunOptions(audit_date="2026-11-20", **opts))
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
    empty = _plan([], "8.7.1")
    assert empty.exit_code == 2 and not empty.hosts


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json"])
def test_every_format_tells_the_same_states(fmt: str) -> None:
    plan = _plan([EX / "fleet.json", EX / "task-server-86.json", EX / "package-server-2012r2.json"], "8.7.3", frm=None)
    text = RENDERERS[fmt](plan)
    if fmt == "json":
        assert json.loads(text)["summary"]["states"] == plan.states
        return
    if fmt == "html":
        text = text[text.index('<section id="plan">'):text.index("</section>")]  # the plan's own section
    for state, n in plan.states.items():
        assert {"table": f"{n} {state}", "markdown": f"| {state} | {n} |", "html": f"<b>{n}</b>{state}"}[fmt] in text
    assert plan.states == {"READY": 1, "READY WITH WARNINGS": 2, "BLOCKED": 2, "CANNOT TELL": 1}


def test_hostile_names_are_escaped_in_markdown_and_html() -> None:
    host = json.loads((EX / "task-server-86.json").read_text())["hosts"][0]
    host["name"] = "<script>x</script>|`"
    plan = _plan([host], "8.7.1")
    assert "<script>x" not in RENDERERS["html"](plan) and "&lt;script&gt;x&lt;/script&gt;" in RENDERERS["html"](plan)
    assert "<script>x</script>|" not in RENDERERS["markdown"](plan)


def test_both_evaluations_go_through_the_engine_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    import sitegate.engine.plan as plan_mod
    from sitegate.engine import run as run_mod

    calls: list[tuple[str | None, str, bool]] = []

    def spy(inputs: list[str], options: RunOptions) -> Any:
        calls.append((options.target, options.target_option, options.keep_facts))
        return run_mod.run(inputs, options)

    monkeypatch.setattr(plan_mod, "run", spy)
    plan = _plan([EX / "task-server-86.json"], "8.7.1")
    assert calls == [("8.7.1", "--to", True), ("8.6", "--from", False)]
    # The evaluation at --to is kept: the report check --target 8.7.1 gives, facts freed.
    assert plan.report is not None and plan.report.header.target == "8.7.1"
    assert [h.name for h in plan.report.hosts] == ["TS-MAD-04"] and plan.report.hosts[0].facts is None


def test_setup_errors_of_both_versions_are_collected_and_nothing_is_evaluated() -> None:
    plan = _plan([EX / "task-server-86.json"], "9.9", frm="8.4")
    assert plan.exit_code == 2 and not plan.hosts and plan.report is None
    assert [d.source for d in plan.setup_errors] == ["--to", "--from"]
    assert all("the packs cover ITMS 8.5, 8.6, 8.7" in d.message for d in plan.setup_errors)
    bad = _plan([EX / "task-server-86.json"], "eight")
    assert bad.exit_code == 2 and bad.setup_errors[0].source == "--to" and "not a version" in bad.setup_errors[0].message


def test_html_plan_section_has_states_blockers_work_and_facts_to_collect() -> None:
    plan = _plan([EX / "fleet.json"], "8.7.3", frm=None)
    text = RENDERERS["html"](plan)
    section = text[text.index('<section id="plan">'):text.index("</section>")]
    assert text.index('<section id="plan">') < text.index('<div class="verdict v1">NOT READY')  # the plan comes first
    assert "<h3>Hosts by state</h3>" in section and "<td>TS-NYC-03</td><td>CANNOT TELL</td>" in section
    assert "<h3>Blockers, by hosts blocked</h3>" in section and "<code>ITMS-IIS-PACKAGE-FEATURES</code>" in section
    assert "<h3>Work list</h3>" in section and "<h3>To collect</h3>" in section
    assert "dotnet.release" in section and "dotnet_release" in section
    with pytest.raises(ValueError):
        RENDERERS["html"](FleetPlan("0", "8.7.3", None, "error", False, (), ()))
