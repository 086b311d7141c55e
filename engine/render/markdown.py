"""A Markdown summary for a pull-request comment or a CI job summary.

Verdict and exit code first, then counts by outcome, by severity and by rule
(with what to do about each rule), the hosts to fix (``MAX_HOSTS`` of them,
those failing the gate first, each with the findings that fail it first, then
"... and K more"), waived findings, waivers that expired or
went unused, findings fixed since the baseline, and input problems. It keeps
only what it prints: a bounded list of hosts and waived findings; totals come
from the summary. The output stays well under GitHub's 65,536-character limit
for comments (and the 1 MiB job-summary limit) whatever the fleet size.
"""
from __future__ import annotations

import re
from typing import Any

from ..unknowns import collect_hint
from ..verdict import NO_TARGET_NOTE
from ..model import Finding, HostResult, OverlayInfo, ReportHeader, RuleInfo, Summary
from . import Needs, RenderOptions
from .table import packs_used_text, selected_packs_text, states_text
from .text import safe_text

MAX_HOSTS = 15
MAX_FINDINGS_PER_HOST = 5
MAX_LIST = 15
MAX_PROBLEMS = 15
_SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}
# Brackets are escaped, so no link or image can form; parentheses stay readable.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&$])")


# What GitHub turns into a link or a notification even in escaped text: URL schemes and
# www. (autolinks), '@' (mentions and e-mail autolinks), '#123' (issue references). A
# zero-width space (as an entity) after the trigger keeps the text as it reads and inert.
# No \b before a trigger: '_' is a word character to \b, but GitHub starts an autolink
# after '_' ('_www.x' links), so any non-alphanumeric character counts as a boundary.
_LINKY = re.compile(r"(?i)@|(?<![a-z0-9])(?:https?|ftp|mailto|xmpp|file|ssh|git)(?=:)|(?<![a-z0-9])www(?=\.)|\\#(?=\d)")
_ZWSP = "&#8203;"


def md(value: Any, limit: int = 300) -> str:
    """Untrusted text as inert Markdown: one line, control characters shown, markup escaped,
    no autolink, mention or issue reference (GitHub renders them even in escaped text)."""
    s = safe_text("" if value is None else str(value))
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return _LINKY.sub(lambda m: m.group() + _ZWSP, _MD_SPECIAL.sub(r"\\\1", s))


def _overlay_line(o: OverlayInfo) -> str:
    """A --data overlay in the header: the file, its digest, the tables and rules it changed."""
    rules = ", ".join(code(r) for r in o.rules) or "none"
    return (f"> **Data overlay** {code(o.path)} (sha256 {code(o.digest)}) changed {', '.join(code(t) for t in o.tables)}; "
            f"rules reading them: {rules}.")


def code(value: Any) -> str:
    """An identifier in backticks (backticks inside are replaced)."""
    return "`" + safe_text(str(value)).replace("`", "'") + "`"


class MarkdownRenderer:
    """Buffers at most 2 x MAX_HOSTS hosts with findings and MAX_LIST waived findings."""

    shows_input_errors = False

    @classmethod
    def needs(cls, options: RenderOptions) -> Needs:
        """Findings and counts only."""
        return Needs()

    def __init__(self, options: RenderOptions):
        self.header: ReportHeader | None = None
        self.rules: dict[str, RuleInfo] = {}
        # Hosts that fail the gate come first: up to MAX_HOSTS of them, and up to
        # MAX_HOSTS others to fill the list when fewer fail it.
        self.gating_hosts: list[str] = []
        self.other_hosts: list[str] = []
        self.hosts_with_findings = 0
        self.waived: list[str] = []
        self.more_waived = 0
        self.rejected = 0
        self.unchanged = 0
        self.new = 0
        self.packs_used: dict[tuple[str, ...], int] = {}
        self.failed_rules: set[str] = set()  # rules with a finding other than unknown (their fix applies)

    def start(self, header: ReportHeader) -> str:
        self.header = header
        self.rules = {r.id: r for r in header.rules}
        return ""

    def host(self, result: HostResult) -> str:
        if result.rejected:
            self.rejected += 1
            return ""
        self.packs_used[result.packs] = self.packs_used.get(result.packs, 0) + 1
        shown: list[Finding] = []
        for f in result.findings:
            if f.outcome.value != "unknown":
                self.failed_rules.add(f.rule_id)
            if f.waived is None:
                # Waived findings are counted as waived only (as SARIF and JUnit leave them out).
                if f.baseline == "new":
                    self.new += 1
                elif f.baseline == "unchanged":
                    self.unchanged += 1
            else:
                if len(self.waived) < MAX_LIST:
                    w = f.waived
                    self.waived.append(
                        f"- {md(result.name, 80)}: {code(f.rule_id)} ({f.outcome.value}), waiver {code(w.waiver_id)}: "
                        f"{md(w.reason, 200)} (owner {md(w.owner, 80)}, expires {md(w.expires, 12)})"
                    )
                else:
                    self.more_waived += 1
                continue
            shown.append(f)
        if not shown:
            return ""
        self.hosts_with_findings += 1
        gating = any(f.gating for f in shown)
        kept = self.gating_hosts if gating else self.other_hosts
        if len(kept) >= MAX_HOSTS:
            return ""
        # What fails the gate first, then by severity: the few lines shown are the ones to act on.
        shown.sort(key=lambda f: (not f.gating, _SEVERITY_ORDER.get(f.severity, 3), f.rule_id))
        about = ", ".join(x for x in (result.os, ", ".join(result.roles) if result.roles else None, result.site) if x)
        lines = [f"- **{md(result.name, 120)}**" + (f" ({md(about, 160)})" if about else "")]
        for f in shown[:MAX_FINDINGS_PER_HOST]:
            tag = {"fail": "FAIL", "unknown": "UNKNOWN", "error": "ERROR"}.get(f.outcome.value, f.outcome.value.upper())
            notes = []
            if not f.gating:
                notes.append("not gating")
            if f.baseline == "unchanged":
                notes.append("in baseline")
            elif f.baseline == "new":
                notes.append("new")
            if f.confidence != "high":
                notes.append(f"confidence {f.confidence}")
            extra = f" _({', '.join(notes)})_" if notes else ""
            where = f"{f.location.source}:{f.location.line}" if f.location.line else f.location.source
            # An unknown's fix is the missing fact and how to collect it, never the failure's.
            todo = f" To decide it: {md(collect_hint(f), 400)}" if f.outcome.value == "unknown" else ""
            lines.append(f"  - **{tag}** {code(f.rule_id)} ({f.severity}{', gates' if f.gating else ''}){extra}: {md(f.message, 280)} \u2014 {code(where)}{todo}")
        if len(shown) > MAX_FINDINGS_PER_HOST:
            lines.append(f"  - ... and {len(shown) - MAX_FINDINGS_PER_HOST} more finding(s) on this host")
        kept.append("\n".join(lines))
        return ""

    def finish(self, summary: Summary) -> str:
        h = self.header
        assert h is not None, "start() was not called"
        verdict = summary.verdict
        # Without a target each host was checked against the packs of its own version.
        packs = (packs_used_text(self.packs_used) or "none") if h.target is None else selected_packs_text(h)
        out = [
            f"## sitegate: {verdict} (exit code {summary.exit_code})",
            "",
            f"Target ITMS {md(h.target or 'current version of each host')}; packs {md(packs)}; "
            f"fails on {h.fail_on}{' (unknown allowed)' if h.allow_unknown else ''}. "
            f"{summary.hosts_evaluated} host(s) evaluated, {summary.hosts_rejected} rejected; {states_text(summary)}.",
            *(["", f"> **Note:** {md(NO_TARGET_NOTE, 400)}"] if h.target is None else []),
            *[line for o in h.overlays for line in ("", _overlay_line(o))],
            "",
            "| outcome | count |",
            "| --- | ---: |",
        ]
        for k, v in summary.outcomes.items():
            out.append(f"| {k.replace('_', ' ')} | {v} |")
        out += [
            "",
            f"Failing by severity: error {summary.failing_by_severity.get('error', 0)}, warning {summary.failing_by_severity.get('warning', 0)}, "
            f"note {summary.failing_by_severity.get('note', 0)}. Findings: {summary.gating_findings} gating, {summary.waived_findings} waived"
            + (f", {self.new} new, {self.unchanged} unchanged since the baseline, {len(summary.fixed)} fixed" if (self.new or self.unchanged or summary.fixed) else "")
            + ".",
        ]
        if summary.findings_by_rule:
            out += ["", "### Findings by rule", "", "| rule | severity | findings | what to do |", "| --- | --- | ---: | --- |"]
            for rid, n in summary.findings_by_rule.items():
                r = self.rules.get(rid)
                if r is None:
                    out.append(f"| {code(rid)} |  | {n} |  |")
                elif rid not in self.failed_rules:
                    # Only unknowns: the failure's fix is not what to do; collecting the facts is.
                    out.append(f"| {code(rid)} {md(r.title, 120)} | {r.severity} | {n} | unknown only: collect the missing facts (the findings below, and the JSON report's `collect`, say which and how) |")
                else:
                    out.append(f"| {code(rid)} {md(r.title, 120)} | {r.severity} | {n} | {md(r.remediation, 240)} |")
        hosts = (self.gating_hosts + self.other_hosts)[:MAX_HOSTS]
        if hosts:
            out += ["", "### Hosts to fix", ""] + hosts
            if self.hosts_with_findings > len(hosts):
                out.append(f"- ... and {self.hosts_with_findings - len(hosts)} more host(s) with findings (see the JSON or SARIF report)")
        if self.waived:
            out += ["", f"### Waived findings ({summary.waived_findings})", ""] + self.waived
            if self.more_waived:
                out.append(f"- ... and {self.more_waived} more")
        stale = [w for w in summary.waivers if w.get("status") in ("expired", "unused")]
        if stale:
            out += ["", "### Waivers needing attention", ""]
            for w in stale[:MAX_LIST]:
                what = "expired on " + md(w.get("expires"), 12) + ": renew or remove it (it fails the gate)" if w.get("status") == "expired" else "matched nothing: remove it"
                out.append(f"- {code(w.get('id'))} ({code(w.get('rule'))} on {code(w.get('hosts'))}, owner {md(w.get('owner'), 80)}) {what}")
            if len(stale) > MAX_LIST:
                out.append(f"- ... and {len(stale) - MAX_LIST} more")
        if summary.fixed:
            out += ["", f"### Fixed since the baseline ({len(summary.fixed)})", ""]
            for fx in summary.fixed[:MAX_LIST]:
                out.append(f"- {md(fx.get('host'), 120)}: {code(fx.get('rule_id'))} ({md(fx.get('setting'), 80)})")
            if len(summary.fixed) > MAX_LIST:
                out.append(f"- ... and {len(summary.fixed) - MAX_LIST} more")
        problems = [d for d in summary.diagnostics]
        if problems or summary.notices:
            total = summary.diagnostics_total
            out += ["", f"### Input problems ({total})", ""]
            for notice in summary.notices:
                out.append(f"- {md(notice)}")
            for d in problems[:MAX_PROBLEMS]:
                out.append(f"- {md(d.format(), 400)}")
            if total > MAX_PROBLEMS:
                out.append(f"- ... and {total - min(MAX_PROBLEMS, len(problems))} more")
        out += ["", f"<sub>sitegate {md(h.tool_version)}, run {md(h.category)}, started {md(h.started_at)}, finished {md(summary.finished_at)}.</sub>", ""]
        return "\n".join(out)


RENDERER = MarkdownRenderer
