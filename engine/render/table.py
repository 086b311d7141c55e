"""The terminal table: one line per finding, rejected records, a summary line last."""
from __future__ import annotations

from ..model import HostResult, ReportHeader, Summary, show
from ..unknowns import collect_hint
from ..verdict import NO_TARGET_NOTE
from . import Needs, RenderOptions
from .text import safe_text

_COLORS = {"error": "\x1b[31m", "warning": "\x1b[33m", "note": "\x1b[36m", "ok": "\x1b[32m", "dim": "\x1b[2m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"


class TableRenderer:
    """Human-readable output for a terminal or a CI log."""

    #: Rejected records and input errors are lines of the table.
    shows_input_errors = True
    #: Text for a person at a console: written in the console's own encoding (the other
    #: formats are UTF-8 bytes for machines), and it ends with the run's summary line.
    console_text = True

    @classmethod
    def needs(cls, options: RenderOptions) -> Needs:
        """Findings and counts only."""
        return Needs()

    def __init__(self, options: RenderOptions):
        self.color = options.color
        self.verbose = options.verbose
        self.target: str | None = None
        # Without --target each host is checked against the packs of its own
        # version: the header cannot name them, the last line does.
        self.packs_used: dict[tuple[str, ...], int] = {}

    def _c(self, key: str, text: str) -> str:
        return f"{_COLORS[key]}{text}{_RESET}" if self.color else text

    def start(self, header: ReportHeader) -> str:
        self.target = header.target
        # Each --data overlay: the file, its digest, the tables and rules it changed.
        overlays = "".join(safe_text(o.describe()) + "\n" for o in header.overlays)
        if header.target is None:
            return (self._c("bold", f"sitegate {header.tool_version}: target ITMS each host's current version; packs chosen per host") + "\n"
                    + f"note: {NO_TARGET_NOTE}\n" + overlays)
        return self._c("bold", f"sitegate {header.tool_version}: target ITMS {header.target}; packs {selected_packs_text(header)}") + "\n" + overlays

    def host(self, result: HostResult) -> str:
        name = safe_text(result.name)
        if self.target is None and not result.rejected:
            self.packs_used[result.packs] = self.packs_used.get(result.packs, 0) + 1
        if result.rejected:
            lines = [f"{self._c('error', 'REJECTED')} {name}"]
            lines += [f"    {safe_text(d.format())}" for d in result.diagnostics]
            return "\n".join(lines) + "\n"
        if not result.findings:
            if self.verbose:
                return f"{self._c('ok', 'OK')}       {name}  ({result.counts[0]} passed, {result.counts[4]} not applicable)\n"
            return ""
        lines = []
        for f in result.findings:
            status = f.outcome.value.upper() if not f.waived else "WAIVED"
            # Every row says its severity and whether it gates, unknowns included.
            sev = f.severity + (", gates" if f.gating else "")
            color = {"fail": f.severity, "unknown": "warning", "error": "error"}.get(f.outcome.value, "note")
            tag = self._c(color if not f.waived else "dim", f"{status:<8}")
            conf = "" if f.confidence == "high" else f" [confidence {f.confidence}]"
            base = "" if f.baseline != "unchanged" else " [baseline]"
            lines.append(f"{tag} {name}  {f.rule_id} ({sev}){conf}{base}")
            lines.append(f"         {safe_text(f.message)}")
            for e in f.evidence[:3]:
                where = f"{f.location.source}:{f.location.line}" if e is f.evidence[0] else f.location.source
                lines.append(self._c("dim", f"         at {safe_text(where)} {safe_text(e.pointer or e.fact)}: observed {safe_text(_short(e.observed))}, expected {safe_text(e.expected)}"))
            if f.outcome.value == "unknown":
                # An unknown's fix is the missing fact and how to collect it, never the failure's.
                lines.append(f"         to decide it: {safe_text(collect_hint(f))}")
        return "\n".join(lines) + "\n"

    def finish(self, summary: Summary) -> str:
        out = []
        shown = [d for d in summary.diagnostics if not d.host or d.level.value == "warning"]
        for d in shown[:50]:
            out.append(safe_text(d.format()))
        if summary.diagnostics_total > len(summary.diagnostics):
            out.append(f"... and {summary.diagnostics_total - len(summary.diagnostics)} more input problems")
        for w in summary.waivers:
            if w.get("status") != "active":
                out.append(f"waiver {safe_text(str(w.get('id')))}: {w.get('status')}")
        for fx in summary.fixed[:20]:
            out.append(f"FIXED    {safe_text(str(fx.get('host')))}  {safe_text(str(fx.get('rule_id')))} ({safe_text(str(fx.get('setting') or ''))}): no longer found (was in the baseline)")
        if len(summary.fixed) > 20:
            out.append(f"... and {len(summary.fixed) - 20} more fixed since the baseline")
        for n in summary.notices:
            out.append(n)
        if self.target is None and self.packs_used:
            out.append("packs used: " + packs_used_text(self.packs_used))
        o = summary.outcomes
        verdict_color = {0: "ok", 1: "error", 2: "error"}[summary.exit_code]
        line = (
            f"{summary.hosts_evaluated} host(s) evaluated, {summary.hosts_rejected} rejected; "
            f"{states_text(summary)}; outcomes: {o['pass']} pass, {o['fail']} fail, "
            f"{o['unknown']} unknown, {o['error']} error, {o['not_applicable']} not applicable; "
            f"{summary.gating_findings} gating, {summary.waived_findings} waived"
        )
        out.append(line)
        out.append(self._c(verdict_color, f"verdict: {summary.verdict} (exit code {summary.exit_code})"))
        return "\n".join(out) + "\n"


def _short(v: object) -> str:
    text = show(v)
    return text if len(text) <= 120 else text[:117] + "..."


def selected_packs_text(header: ReportHeader) -> str:
    """'id@version' of the packs selected for the target (not the ancestors they extend)."""
    return ", ".join(f"{p.id}@{p.version}" for p in header.packs if not any(p.id in q.chain[1:] for q in header.packs)) or "none"


def packs_used_text(used: dict[tuple[str, ...], int]) -> str:
    """'itms-8.6@1.0.0 (3 hosts), ...': the packs hosts were checked against, most hosts first."""
    parts = sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{' + '.join(labels) or 'none'} ({n} host{'s' if n != 1 else ''})" for labels, n in parts)


def states_text(summary: Summary) -> str:
    """'1 READY, 1 READY WITH WARNINGS, 1 NOT READY, 1 CANNOT TELL': hosts per state, every state named."""
    from ..verdict import CHECK_STATES

    return ", ".join(f"{summary.states.get(s, 0)} {s}" for s in CHECK_STATES)
