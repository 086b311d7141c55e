"""`sitegate plan`: what stands between each host and ITMS --to, and what to do first.

Each host is evaluated twice, at ``--to`` and at ``--from`` (by default each
host's ``platform.itms_version``), and every rule is classified:

* blocking: a failure (or error) at --to at or above --fail-on;
* newly failing: passes or does not apply (or is not in the packs) at --from, fails at --to;
* still failing: fails at both; fixed: fails at --from only;
* failing: fails at --to, and --from cannot tell (unknown there, or no current version);
* to collect: unknown at --to, with the fact that is missing and how to get it.

A host is READY, READY WITH WARNINGS, BLOCKED or CANNOT TELL
(:mod:`sitegate.engine.verdict`). The fleet gets hosts per state, the blockers
ranked by how many hosts they block and an ordered work list. Exit code: 2 for
bad input (as ``check``), 1 when a host is BLOCKED or CANNOT TELL (a CANNOT
TELL host passes with --allow-unknown), else 0.
"""
from __future__ import annotations

from collections import Counter

from ..base.diagnostics import Diagnostic
from . import __version__
from .compiler import OUTCOME_NAMES
from .model import FailOn, HostResult, Outcome, Report, RuleInfo
from .run import RunOptions, run
from .plan_model import FAILING, FIXED, NEWLY_FAILING, STILL_FAILING, TO_COLLECT, FleetPlan, HostPlan, RuleChange, WorkItem
from .remediate import fix_notes
from .unknowns import collect_hint, how_to_collect, missing_facts
from .verdict import BLOCKED, PLAN_STATES, host_state

_FAILED = ("fail", "error")
_CLEAR = ("pass", "not_applicable", None)


def _outcomes(host: HostResult) -> dict[str, str]:
    return {rid: OUTCOME_NAMES[c] for rid, c in zip(host.rule_ids, host.outcomes)}


def classify_host(
    to_host: HostResult,
    from_host: HostResult | None,
    rules: dict[str, RuleInfo],
    *,
    threshold: int,
    from_note: str,
    notes: dict[str, str] | None = None,
) -> HostPlan:
    """One host's plan from its results at --to and (when known) at --from."""
    to_out = _outcomes(to_host)
    known_from = from_host is not None and not from_host.rejected
    from_out = _outcomes(from_host) if known_from else {}  # type: ignore[arg-type]
    from_findings = {f.rule_id: f for f in from_host.findings} if known_from else {}  # type: ignore[union-attr]
    notes = notes or {}
    changes: list[RuleChange] = []
    for f in to_host.findings:
        info = rules.get(f.rule_id)
        title = info.title if info else f.rule_id
        remediation = notes.get(f.rule_id) or (info.remediation if info else "")
        t = f.outcome.value
        was = from_out.get(f.rule_id) if known_from else None
        if f.outcome is Outcome.UNKNOWN:
            missing = missing_facts(f)
            how = collect_hint(f)
            changes.append(RuleChange(f.rule_id, title, f.severity, f.confidence, TO_COLLECT, False, was, t, f.message, how, missing, f.waived is not None))
            continue
        if not known_from or was in ("unknown",):
            change = FAILING
        elif was in _FAILED:
            change = STILL_FAILING
        else:
            change = NEWLY_FAILING
        blocking = bool(f.gating) and f.outcome in (Outcome.FAIL, Outcome.ERROR)
        changes.append(RuleChange(f.rule_id, title, f.severity, f.confidence, change, blocking, was, t, f.message, remediation, (), f.waived is not None))
    for rid, was in from_out.items():
        if was in _FAILED and to_out.get(rid) in _CLEAR:
            ff = from_findings.get(rid)
            info = rules.get(rid)
            changes.append(RuleChange(rid, info.title if info else rid, ff.severity if ff else "", ff.confidence if ff else "",
                                      FIXED, False, was, to_out.get(rid), ff.message if ff else "", ""))
    order = {NEWLY_FAILING: 0, STILL_FAILING: 1, FAILING: 2, TO_COLLECT: 3, FIXED: 4}
    changes.sort(key=lambda c: (not c.blocking, order[c.change], -_rank(c.severity), c.rule_id))
    state = host_state(to_host.findings, threshold, blocked_word=BLOCKED)
    return HostPlan(
        name=to_host.name, source=to_host.source, line=to_host.line,
        from_version=(from_host.target if known_from and from_host is not None else None), from_note=from_note, to_version=to_host.target or "",
        state=state, os=to_host.os, roles=tuple(to_host.roles or ()), changes=tuple(changes),
    )


def _rank(severity: str) -> int:
    return {"note": 0, "warning": 1, "error": 2}.get(severity, 0)


def build_plan(
    to_report: Report,
    from_report: Report | None,
    *,
    to_version: str,
    from_version: str | None,
    fail_on: FailOn,
    allow_unknown: bool,
    notes: dict[int, dict[str, str]] | None = None,
) -> FleetPlan:
    """The fleet plan from the two evaluations (hosts paired by their position in the input)."""
    rules = {r.id: r for r in to_report.header.rules}
    if from_report is not None:
        for r in from_report.header.rules:
            rules.setdefault(r.id, r)
    threshold = fail_on.threshold()
    plan = FleetPlan(
        tool_version=to_report.header.tool_version, to_version=to_version, from_version=from_version,
        fail_on=fail_on.value, allow_unknown=allow_unknown, inputs=to_report.header.inputs,
        packs_to=tuple(f"{p.id}@{p.version}" for p in to_report.header.packs if not any(p.id in q.chain[1:] for q in to_report.header.packs)), extra_inputs=to_report.header.extra_inputs,
    )
    from_hosts = from_report.hosts if from_report is not None else []
    for i, h in enumerate(to_report.hosts):
        fh = from_hosts[i] if i < len(from_hosts) and from_hosts[i].name == h.name else None
        if h.rejected:
            plan.hosts_rejected += 1
            plan.hosts.append(HostPlan(h.name, h.source, h.line, None, "", to_version, "CANNOT TELL", h.os, (), (), True,
                                       tuple(d.format() for d in h.diagnostics)))
            continue
        if fh is None or fh.rejected:
            reason = "; ".join(d.message for d in fh.diagnostics) if fh is not None else "not evaluated"
            note = f"current version unknown ({reason}): changes since --from cannot be told; give --from or platform.itms_version"
            plan.hosts_without_from += 1
        else:
            note = "--from" if from_version else "platform.itms_version"
        plan.hosts.append(classify_host(h, fh, rules, threshold=threshold, from_note=note, notes=(notes or {}).get(i)))
    counts = Counter(h.state for h in plan.hosts if not h.rejected)
    plan.states = {s: counts.get(s, 0) for s in PLAN_STATES}
    plan.diagnostics = tuple(d.format() for d in to_report.summary.diagnostics)
    plan.blockers = _blockers(plan.hosts)
    plan.work = _work(plan.hosts, plan.blockers)
    code = to_report.summary.exit_code
    if code != 2:
        derived = 1 if plan.states.get(BLOCKED) or (plan.states.get("CANNOT TELL") and not allow_unknown) else 0
        code = max(code, derived)
    plan.exit_code = code
    return plan


def _blockers(hosts: list[HostPlan]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    by_rule: dict[str, list[str]] = {}
    meta: dict[str, tuple[str, str]] = {}
    for h in hosts:
        for c in h.blocking:
            by_rule.setdefault(c.rule_id, []).append(h.name)
            meta[c.rule_id] = (c.title, c.severity)
    ranked = sorted(by_rule, key=lambda r: (-len(by_rule[r]), -_rank(meta[r][1]), r))
    return [(r, meta[r][0], meta[r][1], tuple(by_rule[r])) for r in ranked]


def _work(hosts: list[HostPlan], blockers: list[tuple[str, str, str, tuple[str, ...]]]) -> list[WorkItem]:
    """Blockers first (most hosts first), then facts to collect, then warnings."""
    items: list[WorkItem] = []
    changes = {(h.name, c.rule_id): c for h in hosts for c in h.changes}
    for rid, title, severity, names in blockers:
        per_host = tuple((n, changes[(n, rid)].remediation) for n in names)
        common = per_host[0][1] if len({a for _, a in per_host}) == 1 else "per host, see below"
        items.append(WorkItem(0, "fix", rid, title, severity, names, common, per_host if common == "per host, see below" else ()))
    # Facts to collect, grouped by the facts missing: one item per set of facts, naming every rule that needs them.
    collect: dict[tuple[str, ...], dict[str, list[str]]] = {}
    sev: dict[tuple[str, ...], str] = {}
    hint: dict[tuple[str, ...], str] = {}  # what to do where no fact is missing (the packs' data has no row)
    for h in hosts:
        for c in h.changes:
            if c.change == TO_COLLECT and not c.waived:
                key = c.missing or (f"(the facts {c.rule_id} reads)",)
                hint.setdefault(key, c.remediation)
                collect.setdefault(key, {}).setdefault(c.rule_id, [])
                if h.name not in collect[key][c.rule_id]:
                    collect[key][c.rule_id].append(h.name)
                if _rank(c.severity) >= _rank(sev.get(key, "note")):
                    sev[key] = c.severity

    def hosts_of(key: tuple[str, ...]) -> list[str]:
        seen: dict[str, None] = {}
        for names in collect[key].values():
            seen.update(dict.fromkeys(names))
        return list(seen)

    for key in sorted(collect, key=lambda k: (-len(hosts_of(k)), -_rank(sev[k]), k)):
        rids = sorted(collect[key])
        action = how_to_collect(*(f for f in key if not f.startswith("("))) or hint[key]
        items.append(WorkItem(0, "collect", ", ".join(rids), "missing: " + ", ".join(key), sev[key], tuple(hosts_of(key)), action))
    review: dict[str, list[str]] = {}
    review_meta: dict[str, tuple[str, str, str]] = {}
    for h in hosts:
        for c in h.changes:
            if c.change in (NEWLY_FAILING, STILL_FAILING, FAILING) and not c.blocking:
                review.setdefault(c.rule_id, []).append(h.name)
                review_meta[c.rule_id] = (c.title, c.severity, c.remediation)
    for rid, reviewed in sorted(review.items(), key=lambda kv: (-_rank(review_meta[kv[0]][1]), -len(kv[1]), kv[0])):
        title, severity, remediation = review_meta[rid]
        items.append(WorkItem(0, "review", rid, title, severity, tuple(reviewed), remediation))
    return [_renumber(w, i + 1) for i, w in enumerate(items)]


def _renumber(w: WorkItem, order: int) -> WorkItem:
    return WorkItem(order, w.kind, w.rule_id, w.title, w.severity, w.hosts, w.action, w.host_actions)


def plan_upgrade(inputs: list[str], to: str, frm: str | None = None, options: RunOptions = RunOptions()) -> FleetPlan:
    """The upgrade plan of ``sitegate plan``, as a library call.

    Both evaluations go through the engine's one entry point, :func:`sitegate.engine.run.run`:
    the facts at ``to`` (what ``check --target TO`` reports, kept on the plan as ``report``)
    and at ``frm`` (None: each host's ``platform.itms_version``). ``options`` are those of
    ``check`` (policy dirs, ``--data``, waivers, input format, --fail-on, --allow-unknown,
    audit date, jobs); their target, outputs and baseline are replaced. When a run cannot
    start (a bad version or option, policies, overlays or waivers that do not load) nothing
    is read: the plan has ``setup_errors``, no host and exit code 2::

        p = plan_upgrade(["fleet.json"], "8.7.1", "8.6", RunOptions(audit_date="2026-11-20"))
        p.exit_code, p.to_dict()
    """
    from dataclasses import replace

    base = replace(options, outputs=(), full_outcomes=True, baseline=None, tune_gc=False)
    # Capacity records make the kept report the one check --target TO gives its HTML.
    to_run = run(inputs, replace(base, target=to, target_option="--to", keep_facts=True, capacity=True))
    from_run = run(inputs, replace(base, target=frm, target_option="--from", keep_facts=False, capacity=False))
    errors: dict[str, Diagnostic] = {}
    for d in (*to_run.setup_errors, *from_run.setup_errors):
        errors.setdefault(d.format(), d)
    if errors:
        failed = FleetPlan(tool_version=__version__, to_version=to, from_version=frm, fail_on=options.fail_on.value,
                           allow_unknown=options.allow_unknown, inputs=tuple(inputs), packs_to=())
        failed.setup_errors = tuple(errors.values())
        failed.diagnostics = tuple(errors)
        failed.states = {s: 0 for s in PLAN_STATES}
        failed.exit_code = 2
        return failed
    to_hosts = [item.result for item in to_run if item.result is not None]
    rules = {r.id: (r, e) for e in to_run.policies.select(to) for r in e.rules}
    notes: dict[int, dict[str, str]] = {}
    for i, h in enumerate(to_hosts):
        if not h.rejected:
            n = fix_notes(h, rules)
            if n:
                notes[i] = n
    # The facts were kept for the per-OS notes only: free them before the second pass.
    to_report = Report(to_run.header, [h._replace(facts=None) for h in to_hosts], to_run.summary)
    del to_hosts
    from_report = Report(from_run.header, [item.result for item in from_run if item.result is not None], from_run.summary)
    result = build_plan(to_report, from_report, to_version=to, from_version=frm,
                        fail_on=options.fail_on, allow_unknown=options.allow_unknown, notes=notes)
    result.report = to_report
    return result
