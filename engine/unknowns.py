"""How to get a fact a rule needed but the host's facts did not have.

An unknown finding's fix is never the failure's fix: it is to collect the
missing fact. This module is the one place that says how: each fact is named as
a facts file spells it, with the ways in (the collector on the site server, the
CSV column of an inventory export, the CMDB for facts no host knows) and, when
the fact is there but the packs' data has no row for its value, the ``--data``
overlay. Every format shows these sentences; renderers only display them.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

from ..facts.importers._columns import STANDARD_COLUMNS
from ..facts.normalize import user_fact
from .model import MISSING, show

#: Facts that come from the run itself, not from the host.
_CONTEXT = {"context.audit_date": "the audit date (--audit-date)", "context.target": "the target version (--target / --to)"}

_COLLECT = "run `sitegate collect` on the site server"
_CMDB = "add it from the CMDB or a console export (docs/cmdb-export.sql)"

#: Per top-level group of facts: where it comes from. The collector (facts/collector/collect.ps1)
#: reads the first groups on the host; the others no host knows by itself.
SOURCES: dict[str, str] = {
    "os": _COLLECT + " (it reads Win32_OperatingSystem)",
    "dotnet": _COLLECT + r" (it reads the Release value of HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full)",
    "iis": _COLLECT + " (it reads the installed Web-* features and the Default Web Site's request filtering)",
    "hardware": _COLLECT + " (it reads processors, memory and disks)",
    "agent": _COLLECT + r" (it reads HKLM\SOFTWARE\Altiris\Altiris Agent)",
    "site_services": _COLLECT + " (best effort), or take it from the console's list of site servers",
    "package_store": _COLLECT + " (a custom store: --package-store PATH)",
    "identity": _COLLECT + " (it reads the domain and the Notification Server), or " + _CMDB,
    "load": _CMDB,
    "platform": _CMDB,
}


__all__ = ["collect_hint", "csv_columns", "how_to_collect", "user_fact"]


def csv_columns(fact: str) -> list[str]:
    """Standard CSV columns that fill the fact (or a fact under it)."""
    path = user_fact(fact).replace(".", "/")
    return sorted(name for name, col in STANDARD_COLUMNS.items() if col.path == path or col.path.startswith(path + "/"))


def _ways(group: str, facts: list[str]) -> str:
    cols = list(dict.fromkeys(c for f in facts for c in csv_columns(f)))
    csv = (f"fill the CSV column{'s' if len(cols) > 1 else ''} {', '.join(cols)} of the inventory export (sitegate import --from csv)"
           if cols else "map a column of your CSV export to it (--mapping)")
    source = SOURCES.get(group, "add it to the facts (see: sitegate schema facts)")
    return f"{source}; or {csv}"


def how_to_collect(*facts: str, no_row: Iterable[tuple[str, Any]] = ()) -> str:
    """One sentence: which facts are missing and the ways to supply them.

    ``facts`` are missing facts (derived ones are named by the fact they come
    from); ``no_row`` are (fact, value) pairs the facts have but the packs' data
    tables have no row for, which a ``--data`` overlay supplies.
    """
    context = [_CONTEXT[f] for f in facts if f in _CONTEXT]
    groups: dict[str, list[str]] = {}
    for f in facts:
        if f not in _CONTEXT:
            name = user_fact(f)
            names = groups.setdefault(name.split(".", 1)[0], [])
            if name not in names:
                names.append(name)
    parts = [f"collect {', '.join(names)}: {_ways(group, names)}" for group, names in groups.items()]
    parts.extend(f"{c} is needed" for c in context)
    rows = list(dict.fromkeys(f"{user_fact(f)} = {show(v)}" for f, v in no_row))
    if rows:
        parts.append(f"the packs' data has no row for {', '.join(rows)}: add one with a --data overlay (sitegate schema data)")
    return "; ".join(parts)


def missing_facts(finding: Any) -> tuple[str, ...]:
    """The facts an unknown finding lacks, as a facts file spells them (sorted)."""
    return tuple(sorted({user_fact(e.fact) for e in finding.evidence if e.outcome == "unknown" and (e.observed is MISSING or e.observed is None)}))


def collect_hint(finding: Any) -> str:
    """For an unknown finding: which facts are missing and how to get them (never the failure's fix)."""
    evidence = finding.evidence
    # The engine shares one evidence tuple among the hosts that lacked the same facts (engine.rules'
    # finding memo): by identity first (the tuple held, so the id stays its own), then by content.
    hit = _BY_EVIDENCE.get(id(evidence))
    if hit is not None and hit[0] is evidence and hit[1] == finding.rule_id:
        return hit[2]
    text = _collect_hint(finding)
    if len(_BY_EVIDENCE) >= 4096:
        _BY_EVIDENCE.clear()
    _BY_EVIDENCE[id(evidence)] = (evidence, finding.rule_id, text)
    return text


_BY_EVIDENCE: dict[int, tuple[Any, str, str]] = {}


def _collect_hint(finding: Any) -> str:
    # Keyed by what the sentence depends on, so a fleet's thousands of alike unknowns make it once.
    key = tuple(sorted({(e.fact, None if e.observed is MISSING or e.observed is None else show(e.observed))
                        for e in finding.evidence if e.outcome == "unknown"}, key=lambda k: (k[0], k[1] or "")))
    return _hint(key) or f"collect the facts {finding.rule_id} reads (sitegate explain {finding.rule_id})"


@lru_cache(maxsize=4096)
def _hint(key: tuple[tuple[str, str | None], ...]) -> str:
    return how_to_collect(*(f for f, v in key if v is None), no_row=[(f, v) for f, v in key if v is not None])
