"""The upgrade plan (``sitegate plan``) as a terminal table, JSON, Markdown, and HTML (the HTML report with the plan on top).

Pure functions of :class:`sitegate.engine.plan_model.FleetPlan`: no file, clock
or environment. Text from facts and policies goes through each format's own
escaping (terminal: control characters made visible; Markdown: table-safe; HTML:
escaped).
"""
from __future__ import annotations

import json
from typing import Any

from ..plan_model import CHANGE_WORDS, FAILING, FIXED, NEWLY_FAILING, STILL_FAILING, TO_COLLECT, FleetPlan
from .html import html_report
from .markdown import md
from .text import safe_text


def _t(value: Any) -> str:
    return safe_text(str(value))


def render_plan_json(plan: FleetPlan) -> str:
    """The plan as JSON (schemas/plan.v1.schema.json)."""
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_plan_table(plan: FleetPlan) -> str:
    """The plan for a terminal: hosts by state, their blocking and changed rules, the work list."""
    out = [f"sitegate {_t(plan.tool_version)} plan: from {_t(plan.from_text)} to ITMS {_t(plan.to_version)}; "
           f"fail on {_t(plan.fail_on)}{' (unknowns allowed)' if plan.allow_unknown else ''}; packs {_t(', '.join(plan.packs_to))}"]
    for h in plan.hosts_by_state():
        frm = h.from_version or "?"
        out.append(f"{h.state:<20} {_t(h.name)}  ({_t(frm)} -> {_t(h.to_version)}; {_t(h.os or 'OS unknown')}; roles {_t(', '.join(h.roles) or 'unknown')})")
        if h.rejected:
            out.extend(f"    {_t(d)}" for d in h.diagnostics)
            continue
        if h.from_version is None:
            out.append(f"    note: {_t(h.from_note)}")
        for c in h.changes:
            mark = "BLOCKING " if c.blocking else ""
            waived = " (waived)" if c.waived else ""
            out.append(f"    {mark}{CHANGE_WORDS[c.change]:<14} {_t(c.rule_id)} ({_t(c.severity)}){waived}: {_t(c.message)}")
            if c.change != FIXED and c.remediation:
                out.append(f"        {'collect' if c.change == TO_COLLECT else 'fix'}: {_t(c.remediation)}")
    out.append("")
    out.append("hosts per state: " + ", ".join(f"{n} {s}" for s, n in plan.states.items())
               + (f"; {plan.hosts_rejected} rejected" if plan.hosts_rejected else "")
               + (f"; {plan.hosts_without_from} without a current version" if plan.hosts_without_from else ""))
    if plan.blockers:
        out.append("blockers (by hosts blocked): " + "; ".join(f"{_t(r)} {len(h)} host(s)" for r, _, _, h in plan.blockers))
    if plan.work:
        out.append("work list:")
        for w in plan.work:
            out.append(f"  {w.order:>2}. [{w.kind}] {_t(w.rule_id)} on {_t(', '.join(w.hosts))}: {_t(w.action)}")
            out.extend(f"        {_t(host)}: {_t(action)}" for host, action in w.host_actions)
    for d in plan.diagnostics:
        out.append(_t(d))
    out.append(f"verdict: {plan.verdict} (exit code {plan.exit_code})")
    return "\n".join(out) + "\n"


def render_plan_markdown(plan: FleetPlan) -> str:
    """The plan for a pull-request comment."""
    out = [f"## sitegate upgrade plan: ITMS {md(plan.to_version)}", "",
           f"**Verdict: {plan.verdict}** (exit code {plan.exit_code}) - from {md(plan.from_text)}, fail on `{plan.fail_on}`"
           f"{', unknowns allowed' if plan.allow_unknown else ''}; packs {md(', '.join(plan.packs_to))}", "",
           "| State | Hosts |", "|---|---:|"]
    out += [f"| {s} | {n} |" for s, n in plan.states.items()]
    if plan.hosts_rejected:
        out.append(f"| rejected (bad input) | {plan.hosts_rejected} |")
    if plan.hosts_without_from:
        out += ["", f"{plan.hosts_without_from} host(s) have no current version: changes since --from cannot be told for them."]
    if plan.blockers:
        out += ["", "### Blockers", "", "| Rule | Severity | Hosts blocked | Hosts |", "|---|---|---:|---|"]
        out += [f"| `{md(r)}` {md(t)} | {md(s)} | {len(h)} | {md(', '.join(h))} |" for r, t, s, h in plan.blockers]
    if plan.work:
        out += ["", "### Work list", "", "| # | Kind | Rule | Hosts | What to do |", "|---:|---|---|---|---|"]
        for w in plan.work:
            action = md(w.action, 600)
            if w.host_actions:
                action = "<br>".join(f"{md(h)}: {md(a, 300)}" for h, a in w.host_actions)
            out.append(f"| {w.order} | {w.kind} | `{md(w.rule_id)}` | {md(', '.join(w.hosts))} | {action} |")
    out += ["", "### Hosts", "", "| Host | State | From | To | Blocking | Newly failing | Still failing | To collect | Fixed |",
            "|---|---|---|---|---|---|---|---|---|"]
    for h in plan.hosts_by_state():
        def ids(change: str) -> str:
            return md(", ".join(c.rule_id for c in h.by_change(change))) or "-"
        blocking = md(", ".join(c.rule_id for c in h.blocking)) or "-"
        out.append(f"| {md(h.name)} | {h.state} | {md(h.from_version or '?')} | {md(h.to_version)} | {blocking} | {ids(NEWLY_FAILING)} | "
                   f"{ids(STILL_FAILING)}{' ' + ids(FAILING) if h.by_change(FAILING) else ''} | {ids(TO_COLLECT)} | {ids(FIXED)} |")
    if plan.diagnostics:
        out += ["", "<details><summary>Input problems</summary>", ""]
        out += [f"- {md(d, 500)}" for d in plan.diagnostics]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def render_plan_html(plan: FleetPlan) -> str:
    """The HTML report of the evaluation at --to (what ``check --target TO -o html=FILE`` writes,
    by the same renderer) with the upgrade plan as its first section."""
    if plan.report is None:
        raise ValueError("the HTML plan is the report at --to with the plan on top: build the plan with engine.plan.plan_upgrade")
    return html_report(plan.report, plan)


RENDERERS = {"table": render_plan_table, "json": render_plan_json, "markdown": render_plan_markdown, "html": render_plan_html}
