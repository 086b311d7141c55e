"""Evaluate hosts against the selected packs: the library API behind the CLI.

``evaluate(facts, policies, options) -> Report`` materialises everything;
``evaluate_stream`` yields host results one at a time and builds the summary
as it goes, so a fleet of any size runs in flat memory.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, NamedTuple


from ..facts.load import HostRecord, RawBlock, RawLine, Rejected, _check_record, block_items, parse_raw_line
from . import __version__
import orjson

from .compiler import ERROR, FAIL, MISSING, NOT_APPLICABLE, PASS, UNKNOWN, Evidence, Node, compile_condition, iter_leaves, operand_paths
from .capacity import capacity_record
from ..base.diagnostics import Code, Diagnostic, Level
from .model import (
    FailOn,
    Finding,
    HostResult,
    Location,
    Outcome,
    PackInfo,
    Report,
    ReportHeader,
    ReportStream,
    RuleInfo,
    SEVERITY_RANK,
    Summary,
    Waived,
    decide_exit_code,
)
from .packs import EffectivePack, PolicySet
from .policy import Rule

MAX_KEPT_DIAGNOSTICS = 1000

WaiverMatcher = Callable[[str, Finding], "Waived | None"]


@dataclass(frozen=True)
class Options:
    """How to evaluate and gate."""

    target: str | None = None
    fail_on: FailOn = FailOn.ERROR
    allow_unknown: bool = False
    locate: bool = False  # resolve each finding's exact line (SARIF regions)
    full_outcomes: bool = False  # keep every (host, rule) outcome (JUnit, SARIF full)
    keep_facts: bool = False  # keep host facts in results (capacity view)
    audit_date: str | None = None  # YYYY-MM-DD; defaults to today (UTC)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc), compare=False)
    category: str | None = None
    inputs: tuple[str, ...] = ()
    extra_inputs: tuple[tuple[str, str], ...] = ()
    waivers: Any = None  # an object with match(host, finding) -> Waived | None and report() -> list
    baseline: frozenset[str] | None = None  # fingerprints of the previous run's findings
    preload_diagnostics: tuple[Diagnostic, ...] = ()  # warnings from policy loading etc.
    capacity: bool = False  # carry a small capacity record on each HostResult (engine.capacity)


class CompiledRule:
    """A rule compiled once: applicability and check as closures."""

    __slots__ = ("rule", "id", "roles", "when", "check", "severity_rank", "pack", "run", "body", "_template", "severity", "confidence", "reads", "_memo", "_budget")

    def __init__(self, rule: Rule, pack: EffectivePack, budget: list[int] | None = None):
        self.rule = rule
        self.id = rule.id
        self.roles = frozenset(rule.roles) if rule.roles else None
        self.when: Node | None = compile_condition(rule.when, pack.tables) if rule.when is not None else None
        self.check: Node = compile_condition(rule.assert_, pack.tables)
        self.severity_rank = SEVERITY_RANK[rule.severity.value]
        self.severity: str = rule.severity.value
        self.confidence: str = rule.confidence.value
        self.pack = pack.rule_pack.get(rule.id, pack.id)
        self._template: list[tuple[bool, str]] | None = None
        # Every fact the rule's outcome, evidence and message depend on: the key of
        # the finding memo (hosts of one fleet repeat the same values again and again).
        paths = rule_reads(rule, roles=False)
        # The roles themselves matter only to a condition that reads them.
        self.reads: Callable[[dict[str, Any]], list[Any]] = key_reader(paths, roles_known=bool(rule.roles) and "derived.roles" not in paths)
        self._memo: dict[bytes, FindingParts] = {}
        # Entries left for every rule of one Evaluator (all its target versions):
        # MEMO_LIMIT bounds one rule, this bounds them all.
        self._budget = budget if budget is not None else [MEMO_BUDGET]
        roles = self.roles
        when = self.when.fast if self.when is not None else None
        check = self.check.fast
        if when is None:
            body = check
        else:
            def body(f: dict[str, Any]) -> int:
                w = when(f)
                if w == FAIL:
                    return NOT_APPLICABLE
                if w != PASS:
                    return w
                return check(f)
        # ``body``: the rule once its roles apply (the evaluator decides roles per role set).
        self.body = body

        def run(f: dict[str, Any]) -> int:
            if roles is not None:
                hr = f["derived"].get("roles")
                if hr is None:
                    return UNKNOWN
                if roles.isdisjoint(hr):
                    return NOT_APPLICABLE
            return body(f)
        self.run = run

    def explain(self, f: dict[str, Any]) -> tuple[int, list[Evidence]]:
        """Outcome and evidence for a non-passing result (the slow path)."""
        if self.roles is not None and f["derived"].get("roles") is None:
            return UNKNOWN, [Evidence("derived.roles", "/site_services", MISSING, "roles " + ", ".join(sorted(self.roles)), "exists", "unknown", "site services (installed and planned) are unknown")]
        if self.when is not None:
            w, ev = self.when.explain(f)
            if w not in (PASS, FAIL):
                return w, ev
        return self.check.explain(f)

    def finding_parts(self, f: dict[str, Any], code: int, target: str) -> "FindingParts":
        """Evidence, message (split around the host name), pointer and setting of a
        non-passing outcome: memoised on the values of every fact the rule reads.

        The key is the orjson serialisation of those values, which tells 1 from
        1.0 and from true (a tuple of the values would not), and is exact for
        strings; the host name is the one host-specific part, so the message is
        kept as the pieces between its occurrences (written with a NUL-delimited
        mark and split there, unless a NUL from elsewhere makes that ambiguous).
        """
        try:
            key: bytes | None = _key_dumps(self.reads(f), default=_key_default)
        except (TypeError, orjson.JSONEncodeError):
            key = None  # e.g. an integer beyond 64 bits: explain it uncached
        memo = self._memo
        if key is not None:
            hit = memo.get(key)
            if hit is not None and hit.code == code:
                return hit
        _, evidence = self.explain(f)
        ev = tuple(evidence)
        first = ev[0] if ev else None
        pointer = first.pointer if first else ""
        setting = first.fact if first else ""
        msg = self.message(_HOST_MARK, code, evidence, f, target)
        slots = self.host_slots(code)
        if msg.count(_HOST_MARK) != slots or msg.count("\x00") != 2 * slots:
            # A NUL from a fact or the policy besides the marks: the split could be
            # ambiguous, so this finding is neither split nor cached.
            return FindingParts(code, ev, None, pointer, setting)
        parts = FindingParts(code, ev, tuple(msg.split(_HOST_MARK)), pointer, setting)
        budget = self._budget
        if key is not None and len(memo) < MEMO_LIMIT and budget[0] > 0:
            memo[key] = parts
            budget[0] -= 1
        return parts

    def host_slots(self, code: int) -> int:
        """How many times ``message`` writes the host name for this outcome."""
        if code == UNKNOWN or code == ERROR:
            return 1  # format_message's standard texts start with the host, once
        tpl = self._template
        if tpl is None:
            tpl = self._template = _parse_template(self.rule.message)
        return sum(1 for is_name, text in tpl if is_name and text == "host")

    def message(self, host: str, code: int, ev: list[Evidence], f: dict[str, Any], target: str) -> str:
        """``format_message`` with the template parsed once."""
        if code == UNKNOWN or code == ERROR:
            return format_message(self.rule, host, code, ev, f, target)
        tpl = self._template
        if tpl is None:
            tpl = self._template = _parse_template(self.rule.message)
        first = ev[0] if ev else None
        out = []
        for is_name, text in tpl:
            if not is_name:
                out.append(text)
            elif text == "host":
                out.append(host)
            elif text == "observed":
                out.append(_show(first.observed) if first else "")
            elif text == "expected":
                out.append(first.expected if first else "")
            elif text == "detail":
                out.append(first.detail if first else "")
            elif text == "target":
                out.append(target)
            elif text == "rule":
                out.append(self.id)
            elif text == "fact":
                out.append(first.fact if first else "")
            elif text == "label":
                out.append((first.label or first.fact) if first else "")
            else:
                out.append(_show(_lookup_path(f, text)))
        return "".join(out)


# The memo's bounds, whatever the fleet's variety: an entry (evidence, message
# parts, key) takes about 5 KB. A rule whose facts repeat needs few entries (most
# bundled rules: 12 to 50 distinct findings in 100,000 hosts) and gets them
# early; one keyed on a count of endpoints rarely hits and fills its share. The
# budget caps all rules of all target versions together (a fleet of many
# versions compiles a rule set per version): at most about 20 MB.
MEMO_LIMIT = 512  # entries per rule
MEMO_BUDGET = 4096  # entries per Evaluator, all rules and target versions together
# Written where the host name goes, then split on: each mark brings exactly two
# NULs, so a message with no other NUL splits unambiguously.
_HOST_MARK = "\x00sitegate-host\x00"
_key_dumps = orjson.dumps


def key_reader(paths: list[str], *, roles_known: bool = False) -> Callable[[dict[str, Any]], list[Any]]:
    """One closure reading the values of every dotted path (None where absent), for
    the finding memo's key: a fixed permutation of ``[make_getter(p)(f) for p in
    paths]`` with MISSING as None, so two hosts get the same key exactly when
    those values agree.

    Paths are grouped by their first part, so a rule reading four facts of
    ``hardware`` looks ``hardware`` up once. ``roles_known`` puts first what a
    rule's evidence takes from the roles: only whether they are known (the plan
    has already decided whether the rule applies).
    """
    groups: dict[str, tuple[list[str], list[tuple[str, ...]]]] = {}
    tops: list[str] = []
    for path in paths:
        parts = path.split(".")
        if len(parts) == 1:
            tops.append(parts[0])
            continue
        leaves, deep = groups.setdefault(parts[0], ([], []))
        if len(parts) == 2:
            leaves.append(parts[1])
        else:
            deep.append(tuple(parts[1:]))
    plan = tuple((a, tuple(leaves), tuple(deep), (None,) * (len(leaves) + len(deep))) for a, (leaves, deep) in groups.items())
    top_keys = tuple(tops)

    def read(f: dict[str, Any]) -> list[Any]:
        out: list[Any] = [f["derived"].get("roles") is not None] if roles_known else []
        app = out.append
        for a in top_keys:
            app(f.get(a))
        for a, leaves, deep, nones in plan:
            o = f.get(a)
            if type(o) is not dict:
                out.extend(nones)
                continue
            for b in leaves:
                app(o.get(b))
            for rest in deep:
                v: Any = o
                for p in rest:
                    if type(v) is not dict:
                        v = None
                        break
                    v = v.get(p)
                    if v is None:
                        break
                app(v)
        return out
    return read


def _key_default(o: Any) -> Any:
    if o is MISSING:
        return None  # getters never return None, so null in a key means missing
    raise TypeError(type(o).__name__)


class FindingParts(NamedTuple):
    """What a non-passing outcome reports, up to the host: see CompiledRule.finding_parts."""

    code: int
    evidence: tuple[Evidence, ...]
    message_parts: tuple[str, ...] | None  # the message split at the host name; None: not splittable
    pointer: str
    setting: str


def rule_reads(rule: Rule, *, roles: bool = True) -> list[str]:
    """Every fact path a rule's outcome, evidence and message can depend on, in a stable order
    (``roles=False``: leave out the roles the rule applies to, unless a condition reads them)."""
    paths: list[str] = []
    if rule.roles and roles:
        paths.append("derived.roles")
    for cond in (rule.when, rule.assert_):
        for leaf in iter_leaves(cond):
            paths.append(leaf.fact)
            paths.extend(operand_paths(leaf.value))
    for m in _PLACEHOLDER.finditer(rule.message):
        name = m.group(1)
        if name not in _STANDARD_PLACEHOLDERS:
            paths.append(name)
    return list(dict.fromkeys(paths))


_STANDARD_PLACEHOLDERS = frozenset({"host", "observed", "expected", "detail", "target", "rule", "fact", "label"})


def _parse_template(message: str) -> list[tuple[bool, str]]:
    """Literal text and placeholder names of a message template, in order."""
    parts: list[tuple[bool, str]] = []
    at = 0
    for m in _PLACEHOLDER.finditer(message):
        if m.start() > at:
            parts.append((False, message[at:m.start()]))
        parts.append((True, m.group(1)))
        at = m.end()
    if at < len(message):
        parts.append((False, message[at:]))
    return parts


@dataclass
class RuleSet:
    """The compiled rules for one selection of packs."""

    target: str
    packs: tuple[EffectivePack, ...]
    rules: tuple[CompiledRule, ...]

    def __post_init__(self) -> None:
        self._plans: dict[tuple[str, ...] | None, tuple[Any, ...]] = {}
        self.labels = tuple(f"{p.id}@{p.version}" for p in self.packs)
        self.rule_ids = tuple(cr.id for cr in self.rules)

    @property
    def pack_labels(self) -> tuple[str, ...]:
        """'id@version' of each pack."""
        return self.labels

    def plan(self, roles: list[str] | None) -> "Plan":
        """What to run for a host with these roles (rules whose roles do not apply are left out)."""
        key = tuple(roles) if roles is not None else None
        p = self._plans.get(key)
        if p is None:
            funcs: list[Callable[[dict[str, Any]], int]] = []
            rules: list[CompiledRule] = []
            where: list[int] = []
            for i, cr in enumerate(self.rules):
                if cr.roles is None:
                    funcs.append(cr.body)
                elif roles is None:
                    funcs.append(_unknown)  # roles unknown: the rule cannot be decided
                elif cr.roles.isdisjoint(roles):
                    continue
                else:
                    funcs.append(cr.body)
                rules.append(cr)
                where.append(i)
            p = Plan(tuple(funcs), tuple(rules), tuple(where), len(self.rules) - len(funcs))
            if len(self._plans) > 1024:
                self._plans.clear()
            self._plans[key] = p
        return p


class Plan(NamedTuple):
    """The rules to run for one role set, in rule order, and how many do not apply."""

    funcs: tuple[Callable[[dict[str, Any]], int], ...]
    rules: tuple["CompiledRule", ...]
    where: tuple[int, ...]  # each run rule's index in RuleSet.rules
    not_applicable: int


def _unknown(f: dict[str, Any]) -> int:
    return UNKNOWN


class Evaluator:
    """Caches compiled rule sets per target version."""

    def __init__(self, policies: PolicySet):
        self.policies = policies
        self._cache: dict[str, RuleSet | None] = {}
        self._memo_budget = [MEMO_BUDGET]

    def ruleset(self, target: str) -> RuleSet | None:
        """Compiled rules for a target version, or None when no pack applies."""
        if target not in self._cache:
            try:
                packs = self.policies.select(target)
            except ValueError:  # InvalidVersion, or a version too long for int()
                packs = []
            if not packs:
                self._cache[target] = None
            else:
                rules: dict[str, CompiledRule] = {}
                for p in packs:
                    for r in p.rules:
                        if r.id not in rules:
                            rules[r.id] = CompiledRule(r, p, self._memo_budget)
                self._cache[target] = RuleSet(target, tuple(packs), tuple(rules[k] for k in sorted(rules)))
        return self._cache[target]


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _show(v: Any) -> str:
    if v is MISSING or v is None:
        return "missing"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple, frozenset, set)):
        items = [str(x) for x in v]
        return ", ".join(items[:20]) + (", ..." if len(items) > 20 else "") if items else "none"
    return str(v)


def _lookup_path(f: dict[str, Any], path: str) -> Any:
    o: Any = f
    for p in path.split("."):
        if not isinstance(o, dict):
            return MISSING
        o = o.get(p)
        if o is None:
            return MISSING
    return o


def format_message(rule: Rule, host: str, code: int, ev: list[Evidence], f: dict[str, Any], target: str) -> str:
    """The finding's message: the rule's template for fails, a standard text otherwise."""
    first = ev[0] if ev else None
    if code == UNKNOWN:
        why = first.detail if first and first.detail else "a fact it needs is missing"
        return f"{host}: cannot check '{rule.title}': {why} (unknown is not a pass)"
    if code == ERROR:
        why = first.detail if first else "evaluation failed"
        return f"{host}: '{rule.title}' could not be evaluated: {why}"
    values = {
        "host": host,
        "observed": _show(first.observed) if first else "",
        "expected": first.expected if first else "",
        "detail": first.detail if first else "",
        "target": target,
        "rule": rule.id,
        "fact": first.fact if first else "",
        "label": (first.label or first.fact) if first else "",
    }

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in values:
            return values[name]
        return _show(_lookup_path(f, name))
    return _PLACEHOLDER.sub(sub, rule.message)


def rule_info(rule: Rule, pack: EffectivePack, versions: dict[str, str] | None = None) -> RuleInfo:
    """A rule's documentation for reports. ``pack`` is the pack the rule was selected
    through; ``versions`` (pack id -> version) gives the version of the pack that
    defines the rule, which may be an ancestor with a version of its own."""
    defined_in = pack.rule_pack.get(rule.id, pack.id)
    return RuleInfo(
        id=rule.id,
        name=rule.pascal_name,
        title=rule.title,
        description=rule.description.strip(),
        rationale=(rule.rationale or "").strip(),
        severity=rule.severity.value,
        confidence=rule.confidence.value,
        source=rule.source,
        references=rule.references,
        remediation=rule.remediation.strip(),
        tags=rule.tags,
        roles=rule.roles,
        pack=defined_in,
        pack_version=(versions or {}).get(defined_in, pack.version),
    )


def build_header(policies: PolicySet, options: Options, started_at: str) -> ReportHeader:
    """The header: packs and rules that can be evaluated under these options."""
    if options.target:
        try:
            packs = policies.select(options.target)
        except ValueError:  # InvalidVersion, or a version too long for int()
            packs = []
    else:
        # Without a target each host is checked for its own version: list every leaf pack.
        extended = {a for e in policies.effective.values() for a in e.chain[1:]}
        packs = sorted((e for e in policies.effective.values() if e.id not in extended), key=lambda e: e.id)
        if not packs:
            packs = sorted(policies.effective.values(), key=lambda e: e.id)
    infos: dict[str, RuleInfo] = {}
    used: dict[str, EffectivePack] = {}
    versions = {pid: e.version for pid, e in policies.effective.items()}
    for p in packs:
        for r in p.rules:
            infos.setdefault(r.id, rule_info(r, p, versions))
        for pid in p.chain:
            used[pid] = policies.effective[pid]
    pack_infos = tuple(
        PackInfo(e.id, e.version, e.title, e.applies_to, policies.by_id[e.id].path, policies.by_id[e.id].digest, policies.by_id[e.id].bundled, e.chain)
        for e in sorted(used.values(), key=lambda e: e.id)
    )
    category = options.category or f"sitegate/itms-{options.target or 'current'}"
    return ReportHeader(
        tool_version=__version__,
        started_at=started_at,
        target=options.target,
        fail_on=options.fail_on.value,
        allow_unknown=options.allow_unknown,
        inputs=options.inputs,
        packs=pack_infos,
        rules=tuple(infos[k] for k in sorted(infos)),
        category=category,
        extra_inputs=options.extra_inputs,
    )


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_ITEM_TYPES = frozenset({HostRecord, Rejected, RawLine, RawBlock})


def _as_items(facts: Iterable[Any], expand_blocks: bool | None = None) -> Iterator[HostRecord | Rejected | RawLine | RawBlock]:
    """Accept loader items, or plain dicts (library use) validated like a file's records.

    ``expand_blocks`` (the ``locate`` setting) reads each :class:`RawBlock`'s records
    here, for a single process; None passes blocks on to worker processes.
    """
    for i, item in enumerate(facts):
        if type(item) in _ITEM_TYPES or isinstance(item, (HostRecord, Rejected, RawLine, RawBlock)):
            if expand_blocks is not None and type(item) is RawBlock:
                yield from block_items(item, locate=expand_blocks)
            else:
                yield item
        else:
            # A shallow copy: the engine adds "derived" and "context" to a record,
            # and a caller's own dicts must come back as they were given.
            yield _check_record(dict(item) if type(item) is dict else item, "<memory>", i, 0, None, None, None, f"/{i}", False)


def evaluate_stream(facts: Iterable[Any], policies: PolicySet, options: Options = Options()) -> ReportStream:
    """Evaluate lazily: iterate ``.hosts``, then read ``.summary``."""
    started = options.now()
    header = build_header(policies, options, _iso(started))
    stream = ReportStream(header, iter(()))
    stream.hosts = _run(facts, policies, options, header, stream)
    return stream


def evaluate(facts: Iterable[Any], policies: PolicySet, options: Options = Options()) -> Report:
    """Evaluate every host and return the complete report."""
    return evaluate_stream(facts, policies, options).materialise()


class Evaluated(NamedTuple):
    """What evaluating one input item gives: the host result (None for a file-level
    warning with no host), the diagnostics to note, and whether it counts as a host read."""

    result: HostResult | None
    notes: tuple[Diagnostic, ...]
    read: bool


@dataclass(frozen=True)
class EvalSettings:
    """The picklable part of Options a worker process needs."""

    target: str | None
    threshold: int
    allow_unknown: bool
    locate: bool
    full_outcomes: bool
    keep_facts: bool
    capacity: bool
    audit_date: str

    @classmethod
    def from_options(cls, options: Options) -> "EvalSettings":
        audit_date = options.audit_date or options.now().astimezone(timezone.utc).date().isoformat()
        return cls(options.target, options.fail_on.threshold(), options.allow_unknown, options.locate,
                   options.full_outcomes, options.keep_facts, options.capacity, audit_date)


_NO_COUNTS = (0, 0, 0, 0, 0)


class Tally(NamedTuple):
    """What the summary needs of one evaluated item: small to send between processes."""

    notes: tuple[Diagnostic, ...]
    read: bool
    has_result: bool
    rejected: bool
    counts: tuple[int, ...]
    findings: tuple[tuple[str, bool, str, bool], ...]  # (rule id, failed, severity, gating)
    where: tuple[str, str, int] | None = None  # (host name, source, line) of an evaluated host

    @classmethod
    def of(cls, ev: Evaluated) -> "Tally":
        """The tally of an evaluated item."""
        r = ev.result
        if r is None:
            return cls(ev.notes, ev.read, False, False, _NO_COUNTS, ())
        return cls(ev.notes, ev.read, True, r.rejected, r.counts,
                   tuple((f.rule_id, f.outcome is Outcome.FAIL, f.severity, f.gating) for f in r.findings),
                   None if r.rejected else (r.name, r.source, r.line))


class HostEvaluator:
    """Evaluates one input item (a record, a rejection, or a raw JSON Lines line) to a HostResult.

    Everything here is per host and independent of every other host, so it can
    run in worker processes; waivers, baselines and totals are applied by
    :class:`SummaryBuilder` in the process that writes the report.
    """

    def __init__(self, policies: PolicySet, settings: EvalSettings):
        self.ev = Evaluator(policies)
        self.s = settings
        self.contexts: dict[str, dict[str, Any]] = {}

    def evaluate(self, item: Any) -> Evaluated:
        """One item -> Evaluated(result, notes, read)."""
        if type(item) is RawLine:
            item = parse_raw_line(item, locate=self.s.locate)
        elif not isinstance(item, (HostRecord, Rejected)):
            raise TypeError(f"cannot evaluate {type(item).__name__}")
        if type(item) is Rejected:
            return self._rejected(item)
        return self._record(item)

    def _rejected(self, item: Rejected) -> Evaluated:
        diags = tuple(item.diagnostics)
        if item.index < 0 and all(d.level is Level.WARNING for d in item.diagnostics):
            return Evaluated(None, diags, False)
        result = HostResult(
            name=item.host or f"{item.source}#{item.index}",
            source=item.source,
            line=item.diagnostics[0].line if item.diagnostics else 0,
            index=item.index,
            target=None,
            packs=(),
            os=None,
            roles=None,
            site=None,
            notification_server=None,
            counts=_NO_COUNTS,
            findings=(),
            rejected=True,
            diagnostics=diags,
        )
        return Evaluated(result, diags, item.index >= 0)

    def _record(self, rec: HostRecord) -> Evaluated:  # noqa: C901 - the hot path, kept flat
        s = self.s
        warnings = tuple(rec.warnings)
        f = rec.facts
        platform = f.get("platform") or {}
        target = s.target or platform.get("itms_version")
        rs = self.ev.ruleset(target) if target else None
        if rs is None:
            msg = (
                f"no policy pack applies to ITMS {target}" if target
                else "no target version: pass --target or record platform.itms_version"
            )
            l, c = rec.locate("/platform/itms_version")
            d = Diagnostic(rec.source, msg, l, c, "/platform/itms_version", rec.name, code=Code.NO_TARGET)
            res = HostResult(rec.name, rec.source, rec.line, rec.index, target, (), None, None, None, None, _NO_COUNTS, (), rejected=True, diagnostics=(d,))
            return Evaluated(res, warnings + (d,), True)
        ctx = self.contexts.get(target)
        if ctx is None:
            ctx = self.contexts[target] = {"target": target, "audit_date": s.audit_date}
        f["context"] = ctx
        derived = f["derived"]
        roles = derived.get("roles")
        plan = rs.plan(roles)
        codes = [fn(f) for fn in plan.funcs]
        n_pass = codes.count(PASS)
        n_na = codes.count(NOT_APPLICABLE)
        n_fail = codes.count(FAIL)
        n_unknown = codes.count(UNKNOWN)
        counts = (n_pass, n_fail, n_unknown, len(codes) - n_pass - n_na - n_fail - n_unknown, n_na + plan.not_applicable)
        findings: list[Finding] = []
        if n_pass + n_na != len(codes):
            name = rec.name
            source = rec.source
            threshold = s.threshold
            allow_unknown = s.allow_unknown
            here = (rec.line or 1, 1)
            locate = (rec.locator.locate if rec.locator is not None else lambda p: here) if s.locate else None
            rules = plan.rules
            for i, code in enumerate(codes):
                if code == PASS or code == NOT_APPLICABLE:
                    continue
                cr = rules[i]
                _, evidence, mp, pointer, setting = cr.finding_parts(f, code, target)
                line, col = locate(pointer) if locate is not None else here
                sev_rank = cr.severity_rank
                if code == FAIL:
                    gating = sev_rank >= threshold
                elif code == UNKNOWN:
                    gating = sev_rank >= threshold and not allow_unknown
                else:
                    gating = threshold < 3
                findings.append(_new_finding(Finding, (
                    cr.id,
                    _OUTCOMES[code],
                    cr.severity,
                    cr.confidence,
                    name.join(mp) if mp is not None else cr.message(name, code, list(evidence), f, target),
                    evidence,
                    _new_location(Location, (source, line, col, pointer)),
                    setting,
                    gating,
                    None,
                    None,
                )))
        outcomes: tuple[int, ...] = ()
        if s.full_outcomes:
            full = [NOT_APPLICABLE] * len(rs.rules)
            for i, code in zip(plan.where, codes):
                full[i] = code
            outcomes = tuple(full)
        os_ = derived.get("os_name") or (f.get("os") or {}).get("caption")
        ident = f.get("identity") or {}
        del f["context"]
        result = _new_result(HostResult, (
            rec.name,
            rec.source,
            rec.line,
            rec.index,
            target,
            rs.labels,
            os_,
            tuple(roles) if roles is not None else None,
            ident.get("site"),
            ident.get("notification_server"),
            counts,
            tuple(findings),
            rs.rule_ids if outcomes else (),
            outcomes,
            False,
            (),
            f if s.keep_facts else None,
            capacity_record(rec.name, f) if s.capacity else None,
        ))
        return Evaluated(result, warnings, True)


_OUTCOMES = tuple(Outcome.from_code(i) for i in range(5))
# NamedTuple construction without the keyword-handling __new__ (every field is given).
_new_finding = _new_location = _new_result = tuple.__new__


class Totals:
    """The counts a summary is made of, for a stretch of hosts in input order.

    A ``--jobs`` worker keeps one per block of JSON Lines it evaluates and the
    main process merges them in input order (:meth:`merge`), so the summary is
    the one a single process would have counted. Waivers and baselines are only
    applied by :class:`SummaryBuilder`.
    """

    waivers: Any = None
    baseline: Any = None

    def __init__(self, diagnostics: Iterable[Diagnostic] = ()):
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        self.diag_total = len(self.diagnostics)
        self.outcome_totals = [0, 0, 0, 0, 0]
        self.failing_by_sev: Counter[str] = Counter()
        self.by_rule: Counter[str] = Counter()
        self.hosts_read = self.hosts_evaluated = self.hosts_rejected = self.hosts_compliant = 0
        self.gating_total = self.waived_total = 0
        # Names of the hosts evaluated: name -> (source, line, position in input order) of
        # its first host; and those used more than once: name -> [hosts, source, line,
        # position] of its second. Results of two hosts with one name cannot be told apart.
        self.names: dict[str, tuple[str, int, int]] = {}
        self.duplicates: dict[str, list[Any]] = {}
        self._named = 0

    def _seen(self, name: str, source: str, line: int, pos: int | None = None) -> bool:
        """Record a host name; True when an earlier host had it."""
        if pos is None:
            pos = self._named
            self._named += 1
        if name not in self.names:
            self.names[name] = (source, line, pos)
            return False
        dup = self.duplicates.get(name)
        if dup is None:
            self.duplicates[name] = [2, source, line, pos]
        else:
            dup[0] += 1
        return True

    def merge(self, other: "Totals") -> None:
        """Add the counts of the hosts that came after these (``other`` has no waivers or baseline)."""
        offset = self._named
        for name, (source, line, pos) in other.names.items():
            self._seen(name, source, line, offset + pos)
        for name, (n, source, line, pos) in other.duplicates.items():
            dup = self.duplicates.get(name)
            if dup is None:
                self.duplicates[name] = [n, source, line, offset + pos]
            else:
                dup[0] += n - 1
        self._named += other._named
        self.note(other.diagnostics)
        self.diag_total += other.diag_total - len(other.diagnostics)  # those it counted but did not keep
        ot, oo = self.outcome_totals, other.outcome_totals
        for i in range(5):
            ot[i] += oo[i]
        self.failing_by_sev.update(other.failing_by_sev)
        self.by_rule.update(other.by_rule)
        self.hosts_read += other.hosts_read
        self.hosts_evaluated += other.hosts_evaluated
        self.hosts_rejected += other.hosts_rejected
        self.hosts_compliant += other.hosts_compliant
        self.gating_total += other.gating_total
        self.waived_total += other.waived_total

    def note(self, ds: Iterable[Diagnostic]) -> None:
        """Count diagnostics; keep the first MAX_KEPT_DIAGNOSTICS."""
        kept = self.diagnostics
        for d in ds:
            self.diag_total += 1
            if len(kept) < MAX_KEPT_DIAGNOSTICS:
                kept.append(d)

    def add(self, ev: Evaluated) -> HostResult | None:
        """Account for one evaluated item; the (possibly waived) result to render, or None."""
        result, notes, read = ev
        if notes:
            self.note(notes)
        if result is None:
            return None
        self.hosts_read += read
        if result.rejected:
            self.hosts_rejected += 1
            return result
        duplicate = self._seen(result.name, result.source, result.line)
        waivers = self.waivers
        baseline = self.baseline
        if result.findings and (waivers is not None or baseline is not None):
            result = self._annotate(result, duplicate)
        by_rule = self.by_rule
        gating_any = False
        fail = Outcome.FAIL
        for fd in result.findings:
            rule_id, outcome, severity, _, _, _, _, _, gating, _, _ = fd
            by_rule[rule_id] += 1
            if outcome is fail:
                self.failing_by_sev[severity] += 1
            if gating:
                self.gating_total += 1
                gating_any = True
        self._totals(result.counts, gating_any)
        return result

    def add_tally(self, tally: "Tally") -> None:
        """Account for a host evaluated and rendered elsewhere (no waivers or baseline to apply)."""
        if tally.notes:
            self.note(tally.notes)
        if not tally.has_result:
            return
        self.hosts_read += tally.read
        if tally.rejected:
            self.hosts_rejected += 1
            return
        if tally.where is not None:
            self._seen(*tally.where)
        by_rule = self.by_rule
        gating_any = False
        for rule_id, failed, severity, gating in tally.findings:
            by_rule[rule_id] += 1
            if failed:
                self.failing_by_sev[severity] += 1
            if gating:
                self.gating_total += 1
                gating_any = True
        self._totals(tally.counts, gating_any)

    def _annotate(self, result: HostResult, duplicate: bool = False) -> HostResult:
        """Waivers and baseline marks: only a :class:`SummaryBuilder` has any to apply."""
        return result

    def duplicate_diagnostics(self) -> list[Diagnostic]:
        """A warning per host name used more than once (the first MAX_KEPT_DIAGNOSTICS)."""
        out = []
        ordered = sorted(self.duplicates.items(), key=lambda kv: kv[1][3])  # input order, as one process sees it
        for name, (n, source, line, _) in ordered[:MAX_KEPT_DIAGNOSTICS]:
            out.append(Diagnostic(
                source, f"host name {name!r} is used by {n} hosts: their results cannot be told apart, and a baseline matches none of them",
                line, 1 if line else 0, host=name, level=Level.WARNING, code=Code.DUPLICATE_HOST,
            ))
        return out

    def _totals(self, c: tuple[int, ...], gating_any: bool) -> None:
        ot = self.outcome_totals
        ot[0] += c[0]
        ot[1] += c[1]
        ot[2] += c[2]
        ot[3] += c[3]
        ot[4] += c[4]
        self.hosts_evaluated += 1
        if not gating_any:
            self.hosts_compliant += 1


class SummaryBuilder(Totals):
    """Totals, waivers and baseline: applied to each result in input order, in the
    process that writes the report. ``add`` returns the result as reported."""

    def __init__(self, options: Options):
        super().__init__(options.preload_diagnostics)
        self.options = options
        self.threshold = options.fail_on.threshold()
        self.waivers = options.waivers
        self.baseline = options.baseline
        self.seen_fingerprints: set[str] = set()
        # Findings matched to the baseline per host name: when the name turns up again,
        # those matches were unsafe (which host was in the baseline?) and gate after all.
        self.matched: dict[str, int] = {}

    def _annotate(self, result: HostResult, duplicate: bool = False) -> HostResult:
        waivers = self.waivers
        baseline = self.baseline
        name = result.name
        if duplicate and baseline is not None:
            self.gating_total += self.matched.pop(name, 0)
        out = []
        for finding in result.findings:
            if waivers is not None:
                w = waivers.match(name, finding)
                if w is not None:
                    finding = _replace(finding, waived=w, gating=False)
                    self.waived_total += 1
            if baseline is not None:
                fp = finding.fingerprint(name)
                if fp in baseline and not duplicate:
                    self.seen_fingerprints.add(fp)
                    if finding.gating:
                        self.matched[name] = self.matched.get(name, 0) + 1
                    finding = _replace(finding, baseline="unchanged", gating=False)
                else:
                    # A second host of one name is never matched to the baseline.
                    finding = _replace(finding, baseline="new")
            out.append(finding)
        return _replace(result, findings=tuple(out))

    def finish(self) -> Summary:
        """The summary, with the exit code."""
        options = self.options
        diagnostics = self.diagnostics
        waivers = self.waivers
        baseline = self.baseline
        for d in self.duplicate_diagnostics():
            self.diag_total += 1
            if len(diagnostics) < MAX_KEPT_DIAGNOSTICS:
                diagnostics.append(d)
        waiver_report: tuple[dict[str, Any], ...] = tuple(waivers.report()) if waivers is not None else ()
        expired = sum(1 for w in waiver_report if w.get("status") == "expired")
        for w in waiver_report:
            if w.get("status") in ("expired", "unused"):
                self.diag_total += 1
                if len(diagnostics) < MAX_KEPT_DIAGNOSTICS:
                    diagnostics.append(Diagnostic(w.get("source", "waivers"), f"waiver {w.get('id')} is {w.get('status')}", w.get("line", 0), 1, level=Level.WARNING, code=Code(f"waiver-{w.get('status')}")))
        fixed: tuple[dict[str, Any], ...] = ()
        if baseline is not None and hasattr(baseline, "details"):
            fixed = tuple(d for fp, d in baseline.details.items() if fp not in self.seen_fingerprints)  # type: ignore[attr-defined]
        input_errors = sum(1 for d in diagnostics if d.level is Level.ERROR) + max(0, self.diag_total - len(diagnostics))
        notices: list[str] = []
        if self.hosts_read == 0 and self.hosts_rejected == 0:
            notices.append("no hosts were read: nothing was checked")
        if expired:
            # The one way to fail the gate with no gating finding: say so where the counts are.
            notices.append(f"{expired} waiver(s) expired: the gate fails until each is renewed or removed")
        exit_code = decide_exit_code(
            input_errors=input_errors + self.hosts_rejected,
            hosts_evaluated=self.hosts_evaluated,
            gating_findings=self.gating_total,
            expired_waivers=expired,
        )
        return Summary(
            finished_at=_iso(options.now()),
            hosts_read=self.hosts_read,
            hosts_evaluated=self.hosts_evaluated,
            hosts_rejected=self.hosts_rejected,
            hosts_compliant=self.hosts_compliant,
            outcomes={Outcome.from_code(i).value: self.outcome_totals[i] for i in range(5)},
            failing_by_severity={s: self.failing_by_sev.get(s, 0) for s in ("error", "warning", "note")},
            findings_by_rule=dict(sorted(self.by_rule.items())),
            gating_findings=self.gating_total,
            waived_findings=self.waived_total,
            diagnostics=tuple(diagnostics),
            diagnostics_total=self.diag_total,
            policy_errors=0,
            notices=tuple(notices),
            exit_code=exit_code,
            waivers=waiver_report,
            fixed=fixed,
        )


def _run(facts: Iterable[Any], policies: PolicySet, options: Options, header: ReportHeader, stream: ReportStream) -> Iterator[HostResult]:
    evaluator = HostEvaluator(policies, EvalSettings.from_options(options))
    builder = SummaryBuilder(options)
    evaluate_one = evaluator.evaluate
    record = evaluator._record
    add = builder.add
    for item in _as_items(facts, expand_blocks=evaluator.s.locate):
        result = add(record(item) if type(item) is HostRecord else evaluate_one(item))
        if result is not None:
            yield result
    stream._summary.append(builder.finish())


def run_results(results: Iterable[Evaluated], options: Options, stream: ReportStream) -> Iterator[HostResult]:
    """Like ``_run`` for items already evaluated elsewhere (worker processes), in input order."""
    builder = SummaryBuilder(options)
    add = builder.add
    for ev in results:
        result = add(ev)
        if result is not None:
            yield result
    stream._summary.append(builder.finish())


def _replace(f: Any, **kw: Any) -> Any:
    return f._replace(**kw)
