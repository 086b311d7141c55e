"""The audit report as one self-contained HTML file.

Inline CSS, a few lines of inline JS (table sorting and filtering) and inline
SVG charts: the file opens offline, with no network request. Everything that
comes from facts, policies or file names is HTML-escaped, control characters
included, and host data never goes inside the script.

Memory is bounded: the full detail (findings, evidence, remediation) is kept
for the first ``MAX_DETAIL_HOSTS`` non-compliant hosts and the host table keeps
``MAX_TABLE_ROWS`` rows; every total, chart and the capacity view count every
host. The report says when it shows only part of the hosts.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from ..capacity import CapacityAccumulator, CapacityReport, GroupView
from ..model import MISSING, FailOn, HostResult, ReportHeader, RuleInfo, Summary
from ..unknowns import collect_hint
from ..verdict import CHECK_STATES, NO_TARGET_NOTE, host_state
from . import Needs, RenderOptions

MAX_DETAIL_HOSTS = 5000
MAX_TABLE_ROWS = 5000
MAX_CAPACITY_SITES = 300

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def esc(value: Any) -> str:
    """Text safe inside HTML elements and quoted attributes; control characters made visible."""
    if value is None or value is MISSING:
        text = ""
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else f"\\u{ord(m.group(0)):04x}", text)
    return html.escape(text, quote=True)


CSS = """
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--unk:#6e7781;--bg:#fff;--fg:#1f2328;--mut:#656d76;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:1320px;margin:0 auto;padding:24px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:14px;margin:14px 0 6px}.mut{color:var(--mut)}.verdict{display:inline-block;padding:6px 14px;border-radius:6px;color:#fff;font-weight:600;font-size:16px;margin:10px 0}
.v0{background:var(--ok)}.v1{background:var(--bad)}.v2{background:var(--warn)}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:130px;background:var(--soft)}.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);position:sticky;top:0}th.s{cursor:pointer;user-select:none}th.s:after{content:" \\2195";color:var(--mut)}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;color:#fff}.fail,.error{background:var(--bad)}.unknown{background:var(--unk)}.pass{background:var(--ok)}.warning{background:var(--warn)}.note{background:var(--unk)}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}@media(max-width:900px){.grid{grid-template-columns:1fr}}
details{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 10px}summary{cursor:pointer;font-weight:600}
.ev{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12px;background:var(--soft);padding:4px 6px;border-radius:4px;margin:3px 0;overflow-wrap:anywhere}
.over{background:#ffebe9}.notice{border-left:4px solid var(--warn);background:#fff8c5;padding:6px 10px;margin:8px 0}input[type=search]{padding:4px 8px;width:320px;border:1px solid var(--line);border-radius:4px}
code{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12px}svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
"""

JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th.s').forEach(function(th,i){th.addEventListener('click',function(){
    var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';
    var num=th.classList.contains('n');rows.sort(function(x,y){var a=x.cells[i].dataset.v||x.cells[i].textContent,c=y.cells[i].dataset.v||y.cells[i].textContent;
      if(num){a=parseFloat(a)||0;c=parseFloat(c)||0;return asc?a-c:c-a}return asc?a.localeCompare(c):c.localeCompare(a)});
    rows.forEach(function(r){b.appendChild(r)})})})});
var q=document.getElementById('hostfilter');if(q){q.addEventListener('input',function(){var v=q.value.toLowerCase();
  document.querySelectorAll('#hosts tbody tr').forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(v)<0?'none':''})})}
"""


def bar_chart(rows: list[tuple[str, list[tuple[int, str]]]], width: int = 600, label_w: int = 270, title: str = "") -> str:
    """Horizontal stacked bars as inline SVG: rows of (label, [(value, css colour)])."""
    if not rows:
        return '<p class="mut">nothing to chart</p>'
    top = max(sum(v for v, _ in segs) for _, segs in rows) or 1
    bar_h, gap = 18, 6
    h = len(rows) * (bar_h + gap) + 4
    avail = width - label_w - 70
    out = [f'<svg role="img" aria-label="{esc(title)}" width="{width}" height="{h}" viewBox="0 0 {width} {h}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, segs) in enumerate(rows):
        y = i * (bar_h + gap) + 2
        shown = label if len(label) <= 36 else label[:35] + "\u2026"
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end"><title>{esc(label)}</title>{esc(shown)}</text>')
        x = float(label_w)
        total = 0
        for v, colour in segs:
            w = avail * v / top
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" fill="{colour}"><title>{v:,}</title></rect>')
            x += w
            total += v
        out.append(f'<text x="{x + 5:.1f}" y="{y + 13}">{total:,}</text>')
    out.append("</svg>")
    return "".join(out)


RED, GREEN, GREY, AMBER = "#cf222e", "#1a7f37", "#8c959f", "#bf8700"


class HtmlRenderer:
    """Collects bounded per-host summaries and writes the document at the end."""

    shows_input_errors = False

    @classmethod
    def needs(cls, options: RenderOptions) -> Needs:
        """Capacity records: the report always has its capacity section."""
        return Needs(capacity=True)

    def __init__(self, options: RenderOptions):
        self.options = options
        self.header: ReportHeader | None = None
        self.capacity = CapacityAccumulator()
        self.by_target: dict[str, list[int]] = {}  # target -> [hosts, compliant, rejected]
        self.rule_counts: dict[str, list[int]] = {}  # rule -> [fail, unknown, error, gating]
        self.role_counts: dict[str, list[int]] = {}  # role -> [hosts, non-compliant]
        self.rows: list[str] = []
        self.rows_dropped = 0
        self.details: list[str] = []
        self.details_dropped = 0
        self.hosts = 0
        self.sev: Counter[str] = Counter()

    def start(self, header: ReportHeader) -> str:
        self.header = header
        self.rules: dict[str, RuleInfo] = {r.id: r for r in header.rules}
        self.threshold = FailOn(header.fail_on).threshold()
        return ""

    def host(self, r: HostResult) -> str:
        self.hosts += 1
        self.capacity.add_result(r)
        target = r.target or "(none)"
        t = self.by_target.setdefault(target, [0, 0, 0])
        t[0] += 1
        gating = sum(1 for f in r.findings if f.gating)
        if r.rejected:
            t[2] += 1
        elif not gating:
            t[1] += 1
        for f in r.findings:
            c = self.rule_counts.setdefault(f.rule_id, [0, 0, 0, 0])
            c[{"fail": 0, "unknown": 1}.get(f.outcome.value, 2)] += 1
            c[3] += f.gating
            if f.outcome.value == "fail":
                self.sev[f.severity] += 1
        for role in r.roles or ("(unknown)",) if not r.rejected else ():
            rc = self.role_counts.setdefault(role, [0, 0])
            rc[0] += 1
            rc[1] += bool(gating)
        status = "rejected" if r.rejected else host_state(r.findings, self.threshold)
        keep_row = len(self.rows) < MAX_TABLE_ROWS
        if keep_row:
            fails = r.counts[1]
            unknown = r.counts[2]
            cls = "fail" if r.rejected or gating else "pass"
            anchor = f' href="#h{self.hosts}"' if (r.rejected or r.findings) and len(self.details) < MAX_DETAIL_HOSTS else ""
            name = f"<a{anchor}>{esc(r.name)}</a>" if anchor else esc(r.name)
            self.rows.append(
                f'<tr><td>{name}</td><td>{esc(r.site)}</td><td>{esc(r.notification_server)}</td><td>{esc(r.os)}</td>'
                f'<td>{esc(", ".join(r.roles) if r.roles else "")}</td><td>{esc(r.target)}</td>'
                f'<td><span class="tag {cls}">{esc(status)}</span></td><td class="n">{gating}</td><td class="n">{fails}</td><td class="n">{unknown}</td></tr>'
            )
        else:
            self.rows_dropped += 1
        if r.rejected or r.findings:
            if len(self.details) < MAX_DETAIL_HOSTS and (r.rejected or gating or r.findings):
                self.details.append(self._detail(r, gating))
            else:
                self.details_dropped += 1
        return ""

    def _detail(self, r: HostResult, gating: int) -> str:
        out = [f'<details id="h{self.hosts}"><summary>{esc(r.name)} <span class="mut">{esc(r.source)}:{r.line}'
               f' &middot; {gating} gating, {len(r.findings)} finding(s){" &middot; rejected" if r.rejected else ""}</span></summary>']
        for d in r.diagnostics:
            out.append(f'<div class="ev">{esc(d.level.value)}: {esc(d.message)} (line {d.line}, column {d.column}{", at " + esc(d.pointer) if d.pointer else ""})</div>')
        for f in r.findings:
            info = self.rules.get(f.rule_id)
            waived = f' &middot; waived by {esc(f.waived.waiver_id)}' if f.waived is not None else ""
            base = f" &middot; baseline: {esc(f.baseline)}" if f.baseline else ""
            out.append(
                f'<h3><span class="tag {esc(f.outcome.value)}">{esc(f.outcome.value)}</span> <code>{esc(f.rule_id)}</code> '
                f'<span class="tag {esc(f.severity)}">{esc(f.severity)}</span>{" <b>gating</b>" if f.gating else ""}{waived}{base}</h3>'
                f"<div>{esc(f.message)}</div>"
            )
            for e in f.evidence:
                out.append(
                    f'<div class="ev">{esc(e.label or e.fact)} ({esc(e.fact)}{", " + esc(e.pointer) if e.pointer else ""}): '
                    f"observed {esc('missing' if e.observed is MISSING or e.observed is None else e.observed)}; expected {esc(e.expected)}"
                    f'{"; " + esc(e.detail) if e.detail else ""}</div>'
                )
            out.append(f'<div class="mut">at {esc(f.location.source)}:{f.location.line}:{f.location.column}</div>')
            if f.outcome.value == "unknown":
                # An unknown's fix is the missing fact, never the failure's remediation.
                out.append(f"<div><b>To decide it:</b> {esc(collect_hint(f))}</div>")
            elif info is not None and info.remediation:
                out.append(f"<div><b>Remediation:</b> {esc(info.remediation)}</div>")
        out.append("</details>")
        return "".join(out)

    def finish(self, s: Summary) -> str:
        h = self.header
        assert h is not None
        cap = self.capacity.finish()
        parts = [
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            f"<title>sitegate audit: {esc(h.target or 'current versions')}</title><style>{CSS}</style></head><body><main>",
            f"<h1>sitegate fleet audit &middot; ITMS {esc(h.target or 'current version of each host')}</h1>",
            f'<div class="mut">sitegate {esc(h.tool_version)} &middot; started {esc(h.started_at)} &middot; finished {esc(s.finished_at)}'
            f" &middot; packs {esc(', '.join(f'{p.id}@{p.version}' for p in h.packs))} &middot; fail on {esc(h.fail_on)}"
            f"{' (unknown allowed)' if h.allow_unknown else ''}</div>",
            f'<div class="verdict v{s.exit_code}">{esc(s.verdict)} (exit code {s.exit_code})</div>',
            self._cards(s),
        ]
        if h.target is None:
            parts.append(f'<div class="notice">{esc(NO_TARGET_NOTE)}</div>')
        for n in s.notices:
            parts.append(f'<div class="notice">{esc(n)}</div>')
        if self.rows_dropped or self.details_dropped:
            parts.append(
                f'<div class="notice">Large fleet: the host table lists the first {len(self.rows):,} of {self.hosts:,} hosts and the details '
                f"cover the first {len(self.details):,} hosts with findings ({self.details_dropped:,} more not shown). Totals, charts and the "
                "capacity view count every host; the JSON report has every finding.</div>"
            )
        parts.append(self._readiness())
        parts.append(self._failures())
        parts.append(self._capacity(cap))
        parts.append(self._diagnostics(s))
        parts.append(
            '<h2>Hosts</h2><input id="hostfilter" type="search" placeholder="filter hosts, sites, OS..." aria-label="filter hosts">'
            '<table id="hosts" class="sortable"><thead><tr><th class="s">host</th><th class="s">site</th><th class="s">NS</th><th class="s">OS</th>'
            '<th class="s">roles</th><th class="s">target</th><th class="s">status</th><th class="s n">gating</th><th class="s n">fail</th>'
            '<th class="s n">unknown</th></tr></thead><tbody>'
        )
        parts.extend(self.rows)
        parts.append("</tbody></table>")
        parts.append("<h2>Findings by host</h2>")
        if not self.details:
            parts.append('<p class="mut">No findings.</p>')
        parts.extend(self.details)
        parts.append(self._rules_doc())
        parts.append(f"<script>{JS}</script></main></body></html>\n")
        return "".join(parts)

    def _cards(self, s: Summary) -> str:
        cards = [
            ("hosts read", s.hosts_read), ("evaluated", s.hosts_evaluated),
            *((state, s.states.get(state, 0)) for state in CHECK_STATES), ("rejected", s.hosts_rejected),
            ("gating findings", s.gating_findings), ("waived", s.waived_findings), ("input errors", s.input_errors),
        ]
        return '<div class="cards">' + "".join(f'<div class="card"><b>{v:,}</b>{esc(k)}</div>' for k, v in cards) + "</div>"

    def _readiness(self) -> str:
        rows = []
        trs = []
        for target, (n, ok, rej) in sorted(self.by_target.items()):
            rows.append((f"ITMS {target}", [(ok, GREEN), (n - ok - rej, RED), (rej, AMBER)]))
            pct = f"{100 * ok / n:.1f}%" if n else "-"
            trs.append(f'<tr><td>{esc(target)}</td><td class="n">{n:,}</td><td class="n">{ok:,}</td><td class="n">{n - ok - rej:,}</td><td class="n">{rej:,}</td><td class="n">{pct}</td></tr>')
        return (
            '<h2>Readiness by target version</h2><div class="grid"><div>'
            + bar_chart(rows, title="readiness by target version")
            + '<div class="mut">green: ready &middot; red: not ready &middot; amber: rejected input</div></div><div><table class="sortable"><thead><tr>'
            '<th class="s">target</th><th class="s n">hosts</th><th class="s n">ready</th><th class="s n">not ready</th><th class="s n">rejected</th><th class="s n">ready %</th>'
            "</tr></thead><tbody>" + "".join(trs) + "</tbody></table></div></div>"
        )

    def _failures(self) -> str:
        ranked = sorted(self.rule_counts.items(), key=lambda kv: (-(kv[1][0] + kv[1][1] + kv[1][2]), kv[0]))
        chart = bar_chart([(rid, [(c[0], RED), (c[1], GREY), (c[2], AMBER)]) for rid, c in ranked[:25]], title="findings by rule")
        trs = []
        for rid, c in ranked:
            info = self.rules.get(rid)
            trs.append(
                f'<tr><td><code>{esc(rid)}</code></td><td>{esc(info.title if info else "")}</td><td>{esc(info.severity if info else "")}</td>'
                f'<td class="n">{c[0]:,}</td><td class="n">{c[1]:,}</td><td class="n">{c[2]:,}</td><td class="n">{c[3]:,}</td></tr>'
            )
        roles = sorted(self.role_counts.items(), key=lambda kv: (-kv[1][1], kv[0]))
        role_chart = bar_chart([(role, [(bad, RED), (n - bad, GREEN)]) for role, (n, bad) in roles], width=420, label_w=120, title="hosts by role")
        return (
            '<h2>Failures by rule and by role</h2><div class="grid"><div>' + chart
            + '<div class="mut">red: fail &middot; grey: unknown &middot; amber: error</div></div><div><h3>Hosts by role (red: not ready)</h3>'
            + role_chart + "</div></div>"
            '<table class="sortable"><thead><tr><th class="s">rule</th><th class="s">title</th><th class="s">severity</th><th class="s n">fail</th>'
            '<th class="s n">unknown</th><th class="s n">error</th><th class="s n">gating</th></tr></thead><tbody>' + "".join(trs) + "</tbody></table>"
        )

    def _capacity(self, cap: CapacityReport) -> str:
        lim = cap.limits
        out = [
            "<h2>Capacity by site and Notification Server</h2>",
            f'<p class="mut">Endpoints served by existing site servers against what the site servers (with planned candidates) can carry: '
            f"about {lim.server_os:,} clients per site server on a server OS, {lim.ns_task_service} on the Notification Server's own task service, "
            f"fewer than {lim.desktop_os} endpoints on a desktop OS (10 or 20 concurrent connections) &mdash; KB 390448. "
            f"The default task-server registration limit of {lim.registration_limit:,} clients (KB 426743) is a configurable setting and is shown as a note.</p>",
        ]
        nses = cap.notification_servers
        out.append(bar_chart([(g.key, [(min(g.endpoints, g.capacity_planned), GREEN), (max(0, g.endpoints - g.capacity_planned), RED)]) for g in nses[:30]],
                             title="endpoints per notification server"))
        out.append('<div class="mut">endpoints per Notification Server (red: above capacity)</div>')
        out.append(self._group_table(nses, "notification server"))
        flagged = sorted((g for g in cap.sites if g.flagged), key=lambda g: (-g.deficit, -(g.utilisation or 0), g.key))
        over = sum(1 for g in cap.sites if g.overloaded)
        out.append(f"<h3>Sites: {over:,} overloaded, {len(flagged):,} flagged of {len(cap.sites):,}</h3>")
        if len(flagged) > MAX_CAPACITY_SITES:
            out.append(f'<p class="mut">Showing the {MAX_CAPACITY_SITES} worst of {len(flagged):,} flagged sites (the JSON report with --capacity lists more).</p>')
        out.append(self._group_table(flagged[:MAX_CAPACITY_SITES], "site"))
        return "".join(out)

    def _group_table(self, groups: list[GroupView], what: str) -> str:
        if not groups:
            return '<p class="mut">none</p>'
        trs = []
        for g in groups:
            u = g.utilisation
            trs.append(
                f'<tr class="{"over" if g.overloaded else ""}"><td>{esc(g.key)}</td><td class="n">{g.site_servers:,}</td><td class="n">{g.candidates:,}</td>'
                f'<td class="n">{g.desktops:,}</td><td class="n">{g.endpoints:,}</td><td class="n">{g.capacity_planned:,}</td>'
                f'<td class="n" data-v="{u if u is not None else 0:.4f}">{"-" if u is None else f"{u * 100:.0f}%"}</td>'
                f'<td class="n">{g.servers_needed or ""}</td><td class="n">{"" if g.upgrades_needed in (0, None) else g.upgrades_needed}</td>'
                f'<td>{"<br>".join(esc(n) for n in g.notes)}</td></tr>'
            )
        return (
            f'<table class="sortable"><thead><tr><th class="s">{esc(what)}</th><th class="s n">site servers</th><th class="s n">candidates</th>'
            '<th class="s n">desktop OS</th><th class="s n">endpoints</th><th class="s n">capacity</th><th class="s n">load</th>'
            '<th class="s n">servers to add</th><th class="s n">or upgrades</th><th>notes</th></tr></thead><tbody>' + "".join(trs) + "</tbody></table>"
        )

    def _diagnostics(self, s: Summary) -> str:
        if not s.diagnostics:
            return ""
        shown = s.diagnostics[:200]
        lis = "".join(f"<li>{esc(d.format())}</li>" for d in shown)
        more = f'<p class="mut">{s.diagnostics_total - len(shown):,} more not shown.</p>' if s.diagnostics_total > len(shown) else ""
        return f"<h2>Input diagnostics ({s.diagnostics_total:,})</h2><ul>{lis}</ul>{more}"

    def _rules_doc(self) -> str:
        out = ["<h2>Rules</h2>"]
        for r in self.header.rules if self.header else ():
            out.append(
                f"<details><summary><code>{esc(r.id)}</code> {esc(r.title)} <span class=\"mut\">{esc(r.severity)}, confidence {esc(r.confidence)}</span></summary>"
                f"<div>{esc(r.description)}</div><div><b>Remediation:</b> {esc(r.remediation)}</div>"
                f'<div class="mut">source: {esc(r.source)}</div></details>'
            )
        return "".join(out)


RENDERER = HtmlRenderer
