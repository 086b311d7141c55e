"""Compiled rules: a rule's condition and message made once, run per host.

A :class:`CompiledRule` runs on a host's facts and gives an outcome code; for a
non-passing one, :meth:`CompiledRule.finding_parts` gives the evidence and the
pending message (written only for outputs that show it), memoised on the values
of the facts the rule reads. A :class:`RuleSet`
holds the rules of the packs selected for one target version and plans, per
role set, which of them to run; an :class:`Evaluator` caches rule sets per target.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence, cast

import orjson

from .codegen import RuleCode, generate, generate_reader
from .compiler import Node, compile_condition, iter_leaves, operand_paths
from .messages import MessageTemplate, PendingMessage, placeholder_facts
from .model import FAIL, MISSING, NOT_APPLICABLE, PASS, SEVERITY_RANK, UNKNOWN, Evidence
from .packs import EffectivePack, PolicySet
from .policy import Rule
from ..facts.normalize import derive_selection


class CompiledRule:
    """A rule compiled once: applicability and check as closures."""

    __slots__ = ("rule", "id", "roles", "when", "check", "severity_rank", "pack", "run", "body", "template", "severity", "confidence", "reads", "_memo", "_budget")

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
        self.template = MessageTemplate(rule.id, rule.title, rule.message)
        # Every fact the rule's outcome, evidence and message depend on: the key of
        # the finding memo (hosts of one fleet repeat the same values again and again).
        # Generated on the first non-passing outcome: most rules of a run never need it.
        self.reads: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
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
            return UNKNOWN, [Evidence("derived.roles", "/site_services", MISSING, "roles " + ", ".join(sorted(self.roles)), "exists", "unknown", "site_services.installed and site_services.planned are not recorded")]
        if self.when is not None:
            w, ev = self.when.explain(f)
            if w not in (PASS, FAIL):
                return w, ev
        return self.check.explain(f)

    def finding_parts(self, f: dict[str, Any], code: int, target: str) -> "FindingParts":
        """Evidence, pending message, pointer and setting of a non-passing outcome:
        memoised on the values of every fact the rule reads.

        The key is the orjson serialisation of those values, which tells 1 from
        1.0 and from true (a tuple of the values would not), and is exact for
        strings. The message is not written here: a :class:`PendingMessage`
        keeps what it is made of (host-independent, so hosts share it) and an
        output that shows messages writes it (``Finding.message``).
        """
        reads = self.reads
        if reads is None:
            paths = rule_reads(self.rule, roles=False)
            # The roles themselves matter only to a condition that reads them.
            reads = self.reads = key_reader(paths, roles_known=bool(self.rule.roles) and "derived.roles" not in paths)
        try:
            key: bytes | None = _key_dumps(reads(f), default=_key_default)
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
        template = self.template
        parts = FindingParts(
            code, ev, PendingMessage(template, code, ev, template.capture(f), target),
            first.pointer if first else "", first.fact if first else "",
        )
        budget = self._budget
        if key is not None and len(memo) < MEMO_LIMIT and budget[0] > 0:
            memo[key] = parts
            budget[0] -= 1
        return parts


# The memo's bounds, whatever the fleet's variety: an entry (evidence, pending
# message, key) takes about 5 KB. A rule whose facts repeat needs few entries (most
# bundled rules: 12 to 50 distinct findings in 100,000 hosts) and gets them
# early; one keyed on a count of endpoints rarely hits and fills its share. The
# budget caps all rules of all target versions together (a fleet of many
# versions compiles a rule set per version): at most about 20 MB.
MEMO_LIMIT = 512  # entries per rule
MEMO_BUDGET = 4096  # entries per Evaluator, all rules and target versions together
_key_dumps = orjson.dumps


def key_reader(paths: list[str], *, roles_known: bool = False) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """One function reading the values of every dotted path (None where absent), for
    the finding memo's key: a fixed permutation of ``[make_getter(p)(f) for p in
    paths]`` with MISSING as None, so two hosts get the same key exactly when
    those values agree.

    Generated as straight-line code (engine/codegen.py, generate_reader): each
    section (``hardware``, ``iis``...) is looked up once and every value read
    inline (measured: the key of a failing rule in about 60% of the time a loop
    over the paths took, the same key bytes).
    ``roles_known`` puts first what a rule's evidence takes from the roles: only
    whether they are known (the plan has already decided whether the rule applies).
    """
    return cast("Callable[[dict[str, Any]], tuple[Any, ...]]", generate_reader(paths, roles_known=roles_known).function)


def _key_default(o: Any) -> Any:
    if o is MISSING:
        return None  # getters never return None, so null in a key means missing
    raise TypeError(type(o).__name__)


class FindingParts(NamedTuple):
    """What a non-passing outcome reports, up to the host: see CompiledRule.finding_parts."""

    code: int
    evidence: tuple[Evidence, ...]
    message: PendingMessage  # written when an output shows it
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
    paths.extend(placeholder_facts(rule.message))
    return list(dict.fromkeys(paths))


#: Derived facts every evaluation reads besides its rules: the roles (which rules
#: apply) and the OS name (each host result's ``os``); and what capacity records read.
_ENGINE_DERIVED = frozenset({"roles", "os_name"})
_CAPACITY_DERIVED = frozenset({"os_family", "os_name", "installed_services"})


def derived_needed(policies: PolicySet, target: str | None = None, *, keep_facts: bool = False, capacity: bool = False) -> frozenset[str] | None:
    """The derived facts (``facts.normalize.DERIVED_NAMES``) an evaluation with these
    policies reads: those a rule of the packs for ``target`` reads (of every loaded
    pack when each host names its own version), in its conditions, table lookups
    and message; and those the host results and capacity records are made of.
    None (derive them all) when the facts are kept on the results for later use
    (``keep_facts``: sitegate plan reads them) or a rule reads ``derived`` whole."""
    if keep_facts:
        return None
    names = set(_ENGINE_DERIVED)
    if capacity:
        names |= _CAPACITY_DERIVED
    packs: list[EffectivePack] = list(policies.effective.values())
    if target is not None:
        try:
            packs = policies.select(target)  # the only packs a host is evaluated against
        except ValueError:  # not a version: no host is evaluated (a usage error)
            pass
    for eff in packs:
        for rule in eff.rules:
            for path in rule_reads(rule):
                if path == "derived":
                    return None
                if path.startswith("derived."):
                    names.add(path.split(".")[1])
    return derive_selection(names)


@dataclass
class RuleSet:
    """The compiled rules for one selection of packs."""

    target: str
    packs: tuple[EffectivePack, ...]
    rules: tuple[CompiledRule, ...]

    #: Run each plan as one generated function (engine/codegen.py); False: the closures.
    generated: bool = True

    def __post_init__(self) -> None:
        self._plans: dict[tuple[str, ...] | None, Plan] = {}
        self._code: dict[tuple[bool, tuple[int, ...]], Callable[[dict[str, Any]], list[int]]] = {}
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
            if self.generated:
                # Many role sets run the same rules (roles no rule names, another
                # order): one generated function per distinct set of rules.
                code_key = (roles is None, tuple(where))
                run = self._code.get(code_key)
                if run is None:
                    if len(self._code) > 256:
                        self._code.clear()
                    run = self._code[code_key] = _generated_run(funcs, rules)
            else:
                run = _closure_run(tuple(funcs))
            p = Plan(tuple(funcs), tuple(rules), tuple(where), len(self.rules) - len(funcs), run)
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
    run: Callable[[dict[str, Any]], list[int]]  # every func's code at once: [fn(f) for fn in funcs]


def _closure_run(funcs: tuple[Callable[[dict[str, Any]], int], ...]) -> Callable[[dict[str, Any]], list[int]]:
    """The reference: each rule's closure in turn."""
    def run(f: dict[str, Any]) -> list[int]:
        return [fn(f) for fn in funcs]
    return run


def _generated_run(funcs: list[Callable[[dict[str, Any]], int]], rules: list["CompiledRule"]) -> Callable[[dict[str, Any]], list[int]]:
    """The same codes from one generated function (engine/codegen.py)."""
    return generate(plan_code(funcs, rules)).function


def plan_code(funcs: Sequence[Callable[[dict[str, Any]], int]], rules: Sequence["CompiledRule"]) -> list[RuleCode]:
    """What the generator needs of a plan: each rule's nodes, or its fixed outcome."""
    return [RuleCode(None, None, UNKNOWN) if fn is _unknown else RuleCode(cr.when, cr.check) for fn, cr in zip(funcs, rules)]


def _unknown(f: dict[str, Any]) -> int:
    return UNKNOWN


class Evaluator:
    """Caches compiled rule sets per target version."""

    def __init__(self, policies: PolicySet, *, generated: bool = True):
        self.policies = policies
        self._cache: dict[str, RuleSet | None] = {}
        self._memo_budget = [MEMO_BUDGET]
        #: Generated rule code (True) or the reference closures (False).
        self.generated = generated

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
                self._cache[target] = RuleSet(target, tuple(packs), tuple(rules[k] for k in sorted(rules)), self.generated)
        return self._cache[target]
