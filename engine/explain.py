"""`sitegate explain`: a rule's documentation from the rule itself (the help texts that
reports carry are the model's: ``model.help_text`` and ``model.help_markdown``)."""
from __future__ import annotations

import json

from .examples import example_outcome, iter_examples
from .packs import EffectivePack
from .policy import Rule

CONFIDENCE_TEXT = {
    "high": "read in a primary source (Broadcom or Microsoft)",
    "medium": "primary source seen in part, or community source",
    "low": "inference or unconfirmed data: confirm it before relying on it",
}


def explain_text(rule: Rule, pack: EffectivePack) -> str:
    """Everything about a rule, for the terminal."""
    lines = [
        f"{rule.id}: {rule.title}",
        f"  pack        {pack.rule_pack.get(rule.id, pack.id)} (via {pack.id} {pack.version}, ITMS {pack.applies_to})",
        f"  severity    {rule.severity.value}",
        f"  confidence  {rule.confidence.value}: {CONFIDENCE_TEXT[rule.confidence.value]}",
        f"  roles       {', '.join(rule.roles) if rule.roles else 'every host'}",
        f"  source      {rule.source}",
    ]
    for sid in rule.sources:
        s = pack.sources.get(sid)
        if s is not None:
            lines.append(f"              [{sid}] {s.title} ({s.confidence.value}) {s.url}")
    for ref in rule.references:
        lines.append(f"  reference   {ref}")
    if rule.tags:
        lines.append(f"  tags        {', '.join(rule.tags)}")
    lines += ["", rule.description.strip()]
    if rule.rationale:
        lines += ["", "Why: " + rule.rationale.strip()]
    lines += ["", "Remediation: " + rule.remediation.strip(), "", "Examples:"]
    for expected, _, ex in iter_examples(rule):
        got = example_outcome(rule, pack, ex)
        label = f" {ex.name}" if ex.name else ""
        mark = "ok" if got == expected else f"MISMATCH: gives {got}"
        lines.append(f"  {expected:<15}{label}: {json.dumps(ex.facts, sort_keys=True)}  [{mark}]")
    return "\n".join(lines)
