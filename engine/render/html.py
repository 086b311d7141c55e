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

import heapq
import html
import re
from collections import Counter
from typing import Any

from ..capacity import CapacityAccumulator, CapacityReport, GroupView
from ..model import MISSING, FailOn, HostResult, Report, ReportHeader, RuleInfo, Summary
from ..plan_model import CHANGE_WORDS, TO_COLLECT, FleetPlan
from ..unknowns import collect_hint, how_to_collect
from ..verdict import CHECK_STATES, NO_TARGET_NOTE, host_state
from . import Needs, RenderOptions

MAX_DETAIL_HOSTS = 5000
MAX_TABLE_ROWS = 5000
MAX_CAPACITY_SITES = 300

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")  # lone surrogates too: shown as \ud800


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
.over{background:#ffebe9}ul.over-list{margin:6px 0;padding-left:20px}.notice{border-left:4px solid var(--warn);background:#fff8c5;padding:6px 10px;margin:8px 0}input[type=search]{padding:4px 8px;width:320px;border:1px solid var(--line);border-radius:4px}
code{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12px}svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
"""

JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th.s').forEach(function(th,i){th.addEventListener('click',function(){
    var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';
    var num=th.classList.contains('n');
    function key(r){var c=r.cells[i];if(!c)return num?-Infinity:'';var v=c.dataset.v;if(v===undefined)v=c.textContent;
      if(!num)return v;v=parseFloat(String(v).replace(/[^0-9eE.+-]/g,''));return isNaN(v)?-Infinity:v}
    rows.sort(function(x,y){var a=key(x),c=key(y);if(num){return a===c?0:(asc?(a<c?-1:1):(a<c?1:-1))}
      return asc?a.localeCompare(c):c.localeCompare(a)});
    rows.forEach(function(r){b.appendChild(r)})})})});
var q=document.getElementById('hostfilter');if(q){q.addEventListener('input',function(){var v=q.value.toLowerCase();
  document.querySelectorAll('#hosts tbody tr').forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(v)<0?'none':''})})}
"""


def num(value: int | float | None, text: str | None = None) -> str:
    """A numeric table cell: the raw value in data-v (what the sort compares), the text as shown."""
    if value is None:
        return '<td class="n" data-v="">-</td>'
    shown = text if text is not None else (f"{value:,}" if isinstance(value, int) else f"{value:,.4g}")
    return f'<td class="n" data-v="{value!r}">{esc(shown)}</td>'


SEVERITY_RANK = {"error": 0, "warning": 1, "note": 2}

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

    def __init__(self, options: RenderOptions, plan: FleetPlan | None = None):
        self.options = options
        #: ``sitegate plan``: the upgrade plan, shown as the report's first section.
        self.plan = plan
        self.header: ReportHeader | None = None
        self.capacity = CapacityAccumulator()
        self.by_target: dict[str, list[int]] = {}  # target -> [hosts, compliant, rejected]
        # rule -> [fail, unknown, error, hosts gated by a fail or error, hosts gated by an unknown]
        self.rule_counts: dict[str, list[int]] = {}
        # missing fact -> [hosts, hosts it gates, rules it leaves unknown]
        self.missing: dict[str, tuple[list[int], set[str]]] = {}
        # fact -> up to 5 values the facts had but the packs' data has no row for (a --data overlay supplies them)
        self.no_row: dict[str, list[Any]] = {}
        self.was_missing: set[str] = set()  # facts some host lacked altogether
        self.role_counts: dict[str, list[int]] = {}  # role -> [hosts, non-compliant]
        # The worst MAX_TABLE_ROWS hosts and MAX_DETAIL_HOSTS details, as min-heaps on
        # how bad a host is: the page lists hosts worst first, in bounded memory.
        self.rows: list[tuple[tuple[int, ...], int, tuple[str, str, str]]] = []
        self.rows_dropped = 0
        self.details: list[tuple[tuple[int, ...], int, str]] = []
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
        facts_missing: dict[str, bool] = {}
        for f in r.findings:
            c = self.rule_counts.setdefault(f.rule_id, [0, 0, 0, 0, 0])
            outcome = f.outcome.value
            c[{"fail": 0, "unknown": 1}.get(outcome, 2)] += 1
            if f.gating:
                c[4 if outcome == "unknown" else 3] += 1
            if outcome == "fail":
                self.sev[f.severity] += 1
            elif outcome == "unknown":
                for e in f.evidence:
                    if e.outcome == "unknown":
                        facts_missing[e.fact] = facts_missing.get(e.fact, False) or f.gating
                        self.missing.setdefault(e.fact, ([0, 0], set()))[1].add(f.rule_id)
                        if e.observed is MISSING or e.observed is None:
                            self.was_missing.add(e.fact)
                        else:
                            values = self.no_row.setdefault(e.fact, [])
                            if len(values) < 5 and e.observed not in values:
                                values.append(e.observed)
        for fact, gates in facts_missing.items():
            m = self.missing[fact][0]
            m[0] += 1
            m[1] += gates
        for role in r.roles or ("(unknown)",) if not r.rejected else ():
            rc = self.role_counts.setdefault(role, [0, 0])
            rc[0] += 1
            rc[1] += bool(gating)
        status = "rejected" if r.rejected else host_state(r.findings, self.threshold)
        fails, unknown = r.counts[1], r.counts[2]
        # Worst first: rejected input (no verdict at all), then not compliant by gating
        # findings, failures, unknowns; input order among equals.
        badness = (2 if r.rejected else 1 if gating else 0, gating, fails, unknown, -self.hosts)
        cls = "fail" if r.rejected or gating else "pass"
        row = (
            esc(r.name),
            f'<td>{esc(r.site)}</td><td>{esc(r.notification_server)}</td><td>{esc(r.os)}</td>'
            f'<td>{esc(", ".join(r.roles) if r.roles else "")}</td><td>{esc(r.target)}</td>'
            f'<td data-v="{badness[0]}"><span class="tag {cls}">{esc(status)}</span></td>{num(gating)}{num(fails)}{num(unknown)}</tr>',
            f"h{self.hosts}",
        )
        if len(self.rows) < MAX_TABLE_ROWS:
            heapq.heappush(self.rows, (badness, self.hosts, row))
        else:
            heapq.heappushpop(self.rows, (badness, self.hosts, row))
            self.rows_dropped += 1
        if r.rejected or r.findings:
            entry = (badness, self.hosts, "")
            if len(self.details) < MAX_DETAIL_HOSTS:
                heapq.heappush(self.details, (badness, self.hosts, self._detail(r, gating)))
            elif entry > self.details[0]:
                heapq.heapreplace(self.details, (badness, self.hosts, self._detail(r, gating)))
                self.details_dropped += 1
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
        ]
        if self.plan is not None:
            parts.append(plan_html_section(self.plan))
        parts += [
            f'<div class="verdict v{s.exit_code}">{esc(s.verdict)} (exit code {s.exit_code})</div>',
            self._cards(s),
        ]
        if h.target is None:
            parts.append(f'<div class="notice">{esc(NO_TARGET_NOTE)}</div>')
        for o in h.overlays:
            parts.append(f'<div class="mut">{esc(o.describe())}</div>')
        for n in s.notices:
            parts.append(f'<div class="notice">{esc(n)}</div>')
        if self.rows_dropped or self.details_dropped:
            parts.append(
                f'<div class="notice">Large fleet: the host table lists the {len(self.rows):,} worst of {self.hosts:,} hosts and the details '
                f"cover the {len(self.details):,} worst hosts with findings ({self.details_dropped:,} more not shown). Totals, charts and the "
                "capacity view count every host; the JSON report has every finding.</div>"
            )
        parts.append(self._failures())
        parts.append(self._collect())
        parts.append(self._capacity(cap))
        parts.append(self._readiness())
        parts.append(self._diagnostics(s))
        detail_ids = {seq for _, seq, _ in self.details}
        parts.append(
            '<h2>Hosts, worst first</h2><input id="hostfilter" type="search" placeholder="filter hosts, sites, OS..." aria-label="filter hosts">'
            '<table id="hosts" class="sortable"><thead><tr><th class="s">host</th><th class="s">site</th><th class="s">NS</th><th class="s">OS</th>'
            '<th class="s">roles</th><th class="s">target</th><th class="s">status</th><th class="s n">gating</th><th class="s n">fail</th>'
            '<th class="s n">unknown</th></tr></thead><tbody>'
        )
        for _, seq, (name, rest, anchor) in sorted(self.rows, reverse=True):
            cell = f'<a href="#{anchor}">{name}</a>' if seq in detail_ids else name
            parts.append(f"<tr><td>{cell}</td>{rest}")
        parts.append("</tbody></table>")
        parts.append("<h2>Findings by host, worst first</h2>")
        if not self.details:
            parts.append('<p class="mut">No findings.</p>')
        parts.extend(d for _, _, d in sorted(self.details, reverse=True))
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
            trs.append(f"<tr><td>{esc(target)}</td>{num(n)}{num(ok)}{num(n - ok - rej)}{num(rej)}{num(round(ok / n, 4), pct) if n else num(None)}</tr>")
        return (
            '<h2>Readiness by target version</h2><div class="grid"><div>'
            + bar_chart(rows, title="readiness by target version")
            + '<div class="mut">green: ready &middot; red: not ready &middot; amber: rejected input</div></div><div><table class="sortable"><thead><tr>'
            '<th class="s">target</th><th class="s n">hosts</th><th class="s n">ready</th><th class="s n">not ready</th><th class="s n">rejected</th><th class="s n">ready %</th>'
            "</tr></thead><tbody>" + "".join(trs) + "</tbody></table></div></div>"
        )

    def _failures(self) -> str:
        """What to fix first: failing rules by severity, then by the hosts they gate."""
        failing = [(rid, c) for rid, c in self.rule_counts.items() if c[0] or c[2]]

        def rank(item: tuple[str, list[int]]) -> tuple[int, int, int, str]:
            rid, c = item
            info = self.rules.get(rid)
            return (SEVERITY_RANK.get(info.severity if info else "", 3), -c[3], -(c[0] + c[2]), rid)

        ranked = sorted(failing, key=rank)
        chart = bar_chart([(rid, [(c[3], RED), (c[0] + c[2] - c[3], AMBER)]) for rid, c in ranked[:15]], title="hosts per failing rule")
        trs = []
        for i, (rid, c) in enumerate(ranked, 1):
            info = self.rules.get(rid)
            sev = info.severity if info else ""
            trs.append(
                f'<tr>{num(i)}<td><code>{esc(rid)}</code></td><td>{esc(info.title if info else "")}</td>'
                f'<td data-v="{SEVERITY_RANK.get(sev, 3)}"><span class="tag {esc(sev)}">{esc(sev)}</span></td>'
                f"{num(c[3])}{num(c[0])}{num(c[2])}</tr>"
            )
        roles = sorted(self.role_counts.items(), key=lambda kv: (-kv[1][1], kv[0]))
        role_chart = bar_chart([(role, [(bad, RED), (n - bad, GREEN)]) for role, (n, bad) in roles], width=420, label_w=120, title="hosts by role")
        if not trs:
            table = '<p class="mut">No rule fails on any host.</p>'
        else:
            table = (
                '<table class="sortable" id="fixfirst"><thead><tr><th class="s n">#</th><th class="s">rule</th><th class="s">title</th><th class="s">severity</th>'
                '<th class="s n">hosts gated</th><th class="s n">fail</th><th class="s n">error</th></tr></thead><tbody>' + "".join(trs) + "</tbody></table>"
            )
        return (
            '<h2>Fix first: failing rules by severity and hosts gated</h2>' + table
            + '<div class="grid"><div>' + chart
            + '<div class="mut">red: hosts the rule gates &middot; amber: other failing hosts (waived, below --fail-on or baseline)</div></div>'
            '<div><h3>Hosts by role (red: not ready)</h3>' + role_chart + "</div></div>"
        )

    def _collect(self) -> str:
        """Unknowns are not failures: the facts to collect so the gate can decide."""
        if not self.missing:
            return ""
        ranked = sorted(self.missing.items(), key=lambda kv: (-kv[1][0][1], -kv[1][0][0], kv[0]))
        trs = []
        for fact, ((hosts, gates), rules) in ranked:
            shown = sorted(rules)
            names = ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")
            trs.append(
                f"<tr><td><code>{esc(fact)}</code></td>{num(hosts)}{num(gates)}{num(len(rules))}"
                f'<td class="mut">{esc(names)}</td><td>{esc(self._how(fact))}</td></tr>'
            )
        return (
            "<h2>Collect these facts</h2><p class=\"mut\">A missing fact makes a rule <i>unknown</i>: not a failure of the host, but the gate "
            "cannot pass it (unless --allow-unknown). Collecting the fact settles every rule that reads it.</p>"
            '<table class="sortable" id="collect"><thead><tr><th class="s">fact</th><th class="s n">hosts missing it</th><th class="s n">hosts it gates</th>'
            '<th class="s n">rules</th><th>rules left unknown</th><th>how to collect it</th></tr></thead><tbody>' + "".join(trs) + "</tbody></table>"
        )

    def _how(self, fact: str) -> str:
        return how_to_collect(*([fact] if fact in self.was_missing else []), no_row=[(fact, v) for v in self.no_row.get(fact, ())])

    def _capacity(self, cap: CapacityReport) -> str:
        """Overloaded groups first, one line each; the full tables folded."""
        lim = cap.limits
        nses = cap.notification_servers
        over = sorted((g for g in [*nses, *cap.sites] if g.overloaded), key=lambda g: (-g.deficit, -(g.utilisation or 0), g.kind, g.key))
        flagged = sorted((g for g in cap.sites if g.flagged), key=lambda g: (-g.deficit, -(g.utilisation or 0), g.key))
        n_over_sites = sum(1 for g in cap.sites if g.overloaded)
        out = [
            f"<h2>Capacity by site and Notification Server: {n_over_sites:,} of {len(cap.sites):,} sites and "
            f"{sum(1 for g in nses if g.overloaded):,} of {len(nses):,} Notification Servers overloaded</h2>"
        ]
        if over:
            lines = []
            for g in over[:20]:
                u = g.utilisation
                fix = f"add {g.servers_needed:,} server-OS site server(s)" if g.servers_needed else ""
                if g.upgrades_needed:
                    fix += f"{' or ' if fix else ''}upgrade {g.upgrades_needed:,} desktop site server(s) to a server OS"
                lines.append(
                    f'<li><b>{esc(g.key)}</b> <span class="mut">({"site" if g.kind == "site" else "NS"})</span>: '
                    f"{g.endpoints:,} endpoints on a capacity of {g.capacity_planned:,}"
                    f'{"" if u is None else f" ({u * 100:.0f}%)"}{" &middot; " + esc(fix) if fix else ""}</li>'
                )
            more = f'<p class="mut">and {len(over) - 20:,} more overloaded (in the tables below).</p>' if len(over) > 20 else ""
            out.append(f'<ul class="over-list">{"".join(lines)}</ul>{more}')
        else:
            out.append('<p class="mut">No site or Notification Server above capacity.</p>')
        chart = bar_chart([(g.key, [(min(g.endpoints, g.capacity_planned), GREEN), (max(0, g.endpoints - g.capacity_planned), RED)]) for g in nses[:30]],
                          title="endpoints per notification server")
        shown = flagged[:MAX_CAPACITY_SITES]
        cut = (f'<p class="mut">Showing the {MAX_CAPACITY_SITES} worst of {len(flagged):,} flagged sites (the JSON report with --capacity lists more).</p>'
               if len(flagged) > MAX_CAPACITY_SITES else "")
        out.append(
            f"<details><summary>Notification Servers ({len(nses):,})</summary>{chart}"
            '<div class="mut">endpoints per Notification Server (red: above capacity)</div>'
            f"{self._group_table(nses, 'notification server')}</details>"
            f"<details><summary>Flagged sites ({len(flagged):,})</summary>{cut}{self._group_table(shown, 'site')}</details>"
            f'<p class="mut">About {lim.server_os:,} clients per site server on a server OS, {lim.ns_task_service} on the Notification Server\'s own task '
            f"service, fewer than {lim.desktop_os} endpoints on a desktop OS (10 or 20 concurrent connections) &mdash; KB 390448. The default "
            f"task-server registration limit of {lim.registration_limit:,} clients (KB 426743) is a configurable setting and is shown as a note.</p>"
        )
        return "".join(out)

    def _group_table(self, groups: list[GroupView], what: str) -> str:
        if not groups:
            return '<p class="mut">none</p>'
        trs = []
        for g in groups:
            u = g.utilisation
            trs.append(
                f'<tr class="{"over" if g.overloaded else ""}"><td>{esc(g.key)}</td>{num(g.site_servers)}{num(g.candidates)}'
                f"{num(g.desktops)}{num(g.endpoints)}{num(g.capacity_planned)}"
                f'{num(None) if u is None else num(round(u, 4), f"{u * 100:.0f}%")}'
                f'{num(g.servers_needed) if g.servers_needed else num(0, "")}'
                f'{num(0, "") if g.upgrades_needed in (0, None) else num(g.upgrades_needed)}'
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


def plan_html_section(plan: FleetPlan) -> str:
    """The upgrade plan as the HTML report's first section: states per host, blockers
    ranked, the ordered work list and the facts to collect."""
    cls = {0: "v0", 1: "v1", 2: "v2"}[plan.exit_code]
    parts = [f'<section id="plan"><h2>Upgrade plan: ITMS {esc(plan.to_version)}</h2>',
             f'<div class="verdict {cls}">{esc(plan.verdict)} (exit code {plan.exit_code})</div>',
             f'<p class="mut">From {esc(plan.from_text)}; fail on {esc(plan.fail_on)}{", unknowns allowed" if plan.allow_unknown else ""}; packs {esc(", ".join(plan.packs_to))}</p>',
             '<div class="cards">']
    parts += [f'<div class="card"><b>{n}</b>{esc(s)}</div>' for s, n in plan.states.items()]
    if plan.hosts_rejected:
        parts.append(f'<div class="card"><b>{plan.hosts_rejected}</b>rejected (bad input)</div>')
    parts.append("</div>")
    if plan.hosts_without_from:
        parts.append(f'<div class="notice">{plan.hosts_without_from} host(s) have no current version: changes since --from cannot be told for them.</div>')
    parts.append("<h3>Hosts by state</h3><table><tr><th>Host</th><th>State</th><th>From</th><th>To</th><th>Rules</th></tr>")
    for h in plan.hosts_by_state():
        rows = "<br>".join(f"{'<b>blocking</b> ' if c.blocking else ''}{esc(CHANGE_WORDS[c.change])}: <code>{esc(c.rule_id)}</code> ({esc(c.severity)})" for c in h.changes) or "-"
        parts.append(f"<tr><td>{esc(h.name)}</td><td>{esc(h.state)}</td><td>{esc(h.from_version or '?')}</td><td>{esc(h.to_version)}</td><td>{rows}</td></tr>")
    parts.append("</table>")
    if plan.blockers:
        parts.append("<h3>Blockers, by hosts blocked</h3><table><tr><th>Rule</th><th>Severity</th><th class=n>Hosts blocked</th><th>Hosts</th></tr>")
        parts += [f"<tr><td><code>{esc(r)}</code> {esc(t)}</td><td>{esc(s)}</td><td class=n>{len(h)}</td><td>{esc(', '.join(h))}</td></tr>" for r, t, s, h in plan.blockers]
        parts.append("</table>")
    if plan.work:
        parts.append("<h3>Work list</h3><table><tr><th class=n>#</th><th>Kind</th><th>Rule</th><th>Hosts</th><th>What to do</th></tr>")
        for w in plan.work:
            action = esc(w.action) if not w.host_actions else "<br>".join(f"{esc(h)}: {esc(a)}" for h, a in w.host_actions)
            parts.append(f"<tr><td class=n>{w.order}</td><td>{esc(w.kind)}</td><td><code>{esc(w.rule_id)}</code></td><td>{esc(', '.join(w.hosts))}</td><td>{action}</td></tr>")
        parts.append("</table>")
    collect = [(h, c) for h in plan.hosts_by_state() for c in h.changes if c.change == TO_COLLECT and not c.waived]
    if collect:
        parts.append("<h3>To collect</h3><table><tr><th>Host</th><th>Rule</th><th>Missing</th><th>How to collect it</th></tr>")
        parts += [f"<tr><td>{esc(h.name)}</td><td><code>{esc(c.rule_id)}</code> ({esc(c.severity)})</td><td>{esc(', '.join(c.missing) or '-')}</td><td>{esc(c.remediation)}</td></tr>"
                  for h, c in collect]
        parts.append("</table>")
    if plan.diagnostics:
        parts.append("<h3>Input problems</h3><ul>" + "".join(f"<li>{esc(d)}</li>" for d in plan.diagnostics[:200]) + "</ul>")
    # What follows is the report `sitegate check --target TO` writes, unchanged.
    parts.append(f'<h2 id="check">The check at ITMS {esc(plan.to_version)}: what <code>sitegate check --target {esc(plan.to_version)}</code> reports</h2></section>')
    return "\n".join(parts) + "\n"


def html_report(report: Report, plan: FleetPlan | None = None) -> str:
    """The HTML report of a materialised report, with the upgrade plan on top when given
    (a pure function of the two)."""
    r = HtmlRenderer(RenderOptions(), plan=plan)
    parts = [r.start(report.header)]
    parts.extend(r.host(h) for h in report.hosts)
    parts.append(r.finish(report.summary))
    return "".join(parts)


RENDERER = HtmlRenderer
