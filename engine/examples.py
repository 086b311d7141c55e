"""Run every rule's own examples: facts that must pass, fail, be unknown or not applicable."""
from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ..facts.load import HostRecord, check_host
from .model import OUTCOME_NAMES
from .rules import CompiledRule
from .packs import EffectivePack, PolicySet
from .policy import Example, Rule

#: ITMS releases the bundled packs know of, oldest first (itms-domain.md §1.1, §7).
KNOWN_RELEASES = ("8.5", "8.6", "8.7", "8.7.1", "8.7.2", "8.7.3", "8.8", "8.8.1")
DEFAULT_AUDIT_DATE = "2026-01-01"


def representative_target(pack: EffectivePack) -> str:
    """The oldest known ITMS release the pack applies to (examples run against it)."""
    spec = SpecifierSet(pack.applies_to)
    for v in KNOWN_RELEASES:
        if spec.contains(Version(v)):
            return v
    # A pack for versions no known release is in (a future release, a benchmark's
    # ">=99,<100"): the lowest version its own range names that the range holds.
    bounds = sorted((Version(s.version), s.version) for s in spec if s.operator in (">=", "==", "~=", "<=") and "*" not in s.version)
    for parsed, text in bounds:
        if spec.contains(parsed):
            return text
    return KNOWN_RELEASES[-1]


def example_outcome(rule: Rule, pack: EffectivePack, example: Example) -> str:
    """The outcome the rule gives for the example's facts ('invalid: ...' if they do not validate)."""
    facts = {"name": "example-host", **example.facts}
    item = check_host(facts, "<example>")
    if not isinstance(item, HostRecord):
        return "invalid: " + "; ".join(d.message + (f" at {d.pointer}" if d.pointer else "") for d in item.diagnostics)
    f = item.facts
    f["context"] = {"target": example.target or representative_target(pack), "audit_date": example.audit_date or DEFAULT_AUDIT_DATE}
    return OUTCOME_NAMES[CompiledRule(rule, pack).run(f)]


def iter_examples(rule: Rule) -> list[tuple[str, int, Example]]:
    """(expected outcome, index, example) for every example of a rule."""
    ex = rule.examples
    out: list[tuple[str, int, Example]] = []
    for expected, items in (("pass", ex.pass_), ("fail", ex.fail), ("unknown", ex.unknown), ("not_applicable", ex.not_applicable)):
        out.extend((expected, i, e) for i, e in enumerate(items))
    return out


def run_examples(policies: PolicySet) -> list[str]:
    """Check every rule's examples in the pack that defines it; return the failures as text."""
    failures = []
    for e in policies.effective.values():
        lp = policies.by_id[e.id]
        for rule in e.rules:
            if e.rule_pack.get(rule.id) != e.id:
                continue
            idx = next(i for i, r in enumerate(lp.pack.rules) if r.id == rule.id)
            for expected, i, example in iter_examples(rule):
                got = example_outcome(rule, e, example)
                if got != expected:
                    key = {"pass": "pass", "fail": "fail", "unknown": "unknown", "not_applicable": "not_applicable"}[expected]
                    line, col = lp.doc.locate(f"/rules/{idx}/examples/{key}/{i}")
                    label = f" ({example.name})" if example.name else ""
                    failures.append(f"{lp.path}:{line}:{col}: rule {rule.id} example {expected}[{i}]{label} gave {got}, expected {expected}")
    return failures
