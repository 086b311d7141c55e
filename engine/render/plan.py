"""The upgrade plan (``sitegate plan``) as a terminal table, JSON, Markdown and an HTML section.

Pure functions of :class:`sitegate.engine.plan_model.FleetPlan`: no file, clock
or environment. Text from facts and policies goes through each format's own
escaping (terminal: control characters made visible; Markdown: table-safe; HTML:
escaped).
"""
from __future__ import annotations

import json
from typing import Any

from ..plan_model import FAILING, FIXED, NEWLY_FAILING, STILL_FAILING, TO_COLLECT, FleetPlan, HostPlan
from .html import CSS, esc
from .markdown import md
from .text import safe_text

_CHANGE_WORDS = {
    NEWLY_FAILING: "newly failing",
    STILL_FAILING: "still failing",
    FAILING: "failing",
    TO_COLLECT: "to collect",
    FIXED: "fixed",
}
_STATE_ORDER = {"BLOCKED": 0, "CANNOT TELL": 1, "READY WITH WARNINGS": 2, "READY": 3}


def _t(value: Any) -> str:
    return safe_text(str(value))


def _from_text(plan: FleetPlan) -> str:
    return f"ITMS {plan.from_version}" if plan.from_version else "each host's current version (platform.itms_version)"


def _hosts_sorted(plan: FleetPlan) -> list[HostPlan]:
    return sorted(plan.hosts, key=lambda h: (_STATE_ORDER.get(h.state, 9), h.name))


def render_plan_json(plan: FleetPlan) -> str:
    """The plan as JSON (schemas/plan.v1.schema.json)."""
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_plan_table(plan: FleetPlan) -> str:
    """The plan for a terminal: hosts by state, their blocking and changed rules, the work list."""
    out = [f"sitegate {_t(plan.tool_version)} plan: from {_t(_from_text(plan))} to ITMS {_t(plan.to_version)}; "
           f"fail on {_t(plan.fail_on)}{' (unknowns allowed)' if plan.allow_unknown else ''}; packs {_t(', '.join(plan.packs_to))}"]
    for h in _hosts_sorted(plan):
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
            out.append(f"    {mark}{_CHANGE_WORDS[c.change]:<14} {_t(c.rule_id)} ({_t(c.severity)}){waived}: {_t(c.message)}")
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
           f"**Verdict: {plan.verdict}** (exit code {plan.exit_code}) - from {md(_from_text(plan))}, fail on `{plan.fail_on}`"
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
    for h in _hosts_sorted(plan):
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


def plan_html_section(plan: FleetPlan) -> str:
    """The plan as an HTML section (for the HTML report, or a page of its own)."""
    cls = {0: "v0", 1: "v1", 2: "v2"}[plan.exit_code]
    parts = [f'<section id="plan"><h2>Upgrade plan: ITMS {esc(plan.to_version)}</h2>',
             f'<div class="verdict {cls}">{esc(plan.verdict)} (exit code {plan.exit_code})</div>',
             f'<p class="mut">From {esc(_from_text(plan))}; fail on {esc(plan.fail_on)}{", unknowns allowed" if plan.allow_unknown else ""}; packs {esc(", ".join(plan.packs_to))}</p>',
             '<div class="cards">']
    parts += [f'<div class="card"><b>{n}</b>{esc(s)}</div>' for s, n in plan.states.items()]
    parts.append("</div>")
    if plan.blockers:
        parts.append("<h3>Blockers</h3><table><tr><th>Rule</th><th>Severity</th><th class=n>Hosts blocked</th><th>Hosts</th></tr>")
        parts += [f"<tr><td><code>{esc(r)}</code> {esc(t)}</td><td>{esc(s)}</td><td class=n>{len(h)}</td><td>{esc(', '.join(h))}</td></tr>" for r, t, s, h in plan.blockers]
        parts.append("</table>")
    if plan.work:
        parts.append("<h3>Work list</h3><table><tr><th class=n>#</th><th>Kind</th><th>Rule</th><th>Hosts</th><th>What to do</th></tr>")
        for w in plan.work:
            action = esc(w.action) if not w.host_actions else "<br>".join(f"{esc(h)}: {esc(a)}" for h, a in w.host_actions)
            parts.append(f"<tr><td class=n>{w.order}</td><td>{esc(w.kind)}</td><td><code>{esc(w.rule_id)}</code></td><td>{esc(', '.join(w.hosts))}</td><td>{action}</td></tr>")
        parts.append("</table>")
    parts.append("<h3>Hosts</h3><table><tr><th>Host</th><th>State</th><th>From</th><th>To</th><th>Rules</th></tr>")
    for h in _hosts_sorted(plan):
        rows = "<br>".join(f"{'<b>blocking</b> ' if c.blocking else ''}{esc(_CHANGE_WORDS[c.change])}: <code>{esc(c.rule_id)}</code> ({esc(c.severity)})" for c in h.changes) or "-"
        parts.append(f"<tr><td>{esc(h.name)}</td><td>{esc(h.state)}</td><td>{esc(h.from_version or '?')}</td><td>{esc(h.to_version)}</td><td>{rows}</td></tr>")
    parts.append("</table></section>")
    return "\n".join(parts) + "\n"


def render_plan_html(plan: FleetPlan) -> str:
    """A self-contained HTML page holding the plan section."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sitegate plan: ITMS "
            f"{esc(plan.to_version)}</title><style>{CSS}</style></head><body><main>\n"
            f"<h1>sitegate {esc(plan.tool_version)} upgrade plan</h1>\n{plan_html_section(plan)}</main></body></html>\n")


RENDERERS = {"table": render_plan_table, "json": render_plan_json, "markdown": render_plan_markdown, "html": render_plan_html}
