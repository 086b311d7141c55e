"""How to get a fact a rule needed but the host's facts did not have.

An unknown finding's fix is never the failure's fix: it is to collect the
missing fact. Each fact is named as users write it (the facts file path, the
CSV column that fills it), with the collector and the ``--data`` overlay as the
other ways in.
"""
from __future__ import annotations

from typing import Any

from ..facts.importers._columns import STANDARD_COLUMNS
from ..facts.normalize import user_fact

#: Facts that come from the run itself, not from the host.
_CONTEXT = {"context.audit_date": "the audit date (--audit-date)", "context.target": "the target version (--target / --to)"}


__all__ = ["collect_hint", "csv_columns", "how_to_collect", "user_fact"]


def csv_columns(fact: str) -> list[str]:
    """Standard CSV columns that fill the fact (or a fact under it)."""
    path = user_fact(fact).replace(".", "/")
    return sorted(name for name, col in STANDARD_COLUMNS.items() if col.path == path or col.path.startswith(path + "/"))


def how_to_collect(*facts: str) -> str:
    """One sentence: which facts are missing and the ways to supply them."""
    context = [_CONTEXT[f] for f in facts if f in _CONTEXT]
    host = [f for f in facts if f not in _CONTEXT]
    parts = []
    if host:
        names = list(dict.fromkeys(user_fact(f) for f in host))
        cols = list(dict.fromkeys(c for f in host for c in csv_columns(f)))
        where = f"the CSV column{'s' if len(cols) > 1 else ''} {', '.join(cols)}" if cols else "a --mapping entry for your CSV export"
        parts.append(f"collect {', '.join(names)}: run sitegate's collector (sitegate collect) on the host, or fill {where} of the inventory export")
    parts.extend(f"{c} is needed" for c in context)
    return "; ".join(parts)


def collect_hint(finding: Any) -> str:
    """For an unknown finding: which facts are missing and how to get them."""
    missing = sorted({e.fact for e in finding.evidence if e.outcome == "unknown"})
    return how_to_collect(*missing) if missing else f"collect the facts {finding.rule_id} reads (sitegate explain {finding.rule_id})"
