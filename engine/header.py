"""The report header: the packs and rules a run can evaluate, known before the first host."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable


from ..facts.load import display_name
from . import __version__
from .model import PackInfo, ReportHeader, RuleInfo
from .options import Options
from .packs import EffectivePack, PolicySet
from .policy import Rule
from .rules import rule_reads
from .unknowns import how_to_collect


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
    rules: dict[str, Rule] = {}
    used: dict[str, EffectivePack] = {}
    versions = {pid: e.version for pid, e in policies.effective.items()}
    for p in packs:
        for r in p.rules:
            if r.id not in infos:
                infos[r.id] = rule_info(r, p, versions)
                rules[r.id] = r
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
        overlays=options.overlays,
        target_packs=tuple(f"{p.id}@{p.version}" for p in packs) if options.target else (),
        source=display_name(options.inputs[0]) if len(options.inputs) == 1 else None,
        collect=collect_table(rules.values()),
    )


def collect_table(rules: Iterable[Rule]) -> tuple[tuple[str, str], ...]:
    """(fact, how to supply it) for every fact the rules read, sorted: the JSON report's
    ``collect`` table, where an unknown finding's missing facts are looked up."""
    facts = sorted({path for r in rules for path in rule_reads(r)})
    return tuple((f, how_to_collect(f)) for f in facts)


def iso_utc(dt: datetime) -> str:
    """A time as the reports write it: UTC, to the second, with a Z."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
