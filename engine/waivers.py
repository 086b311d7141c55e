"""Waivers: accepted, owned, expiring exceptions to policy rules.

A waivers file (``schemas/waivers.v1.schema.json``)::

    schema: sitegate/waivers/v1
    waivers:
      - id: CHG-1234
        rule: ITMS-CAP-DESKTOP-SITE      # a rule id or an fnmatch glob (ITMS-CAP-*)
        hosts: "WKS-LYON-*"               # fnmatch over host names, case-insensitive
        reason: Lyon moves to a server in Q1
        owner: emea-infra@example.com
        expires: 2027-03-31               # last day it applies (quoted or not)

The engine calls :meth:`WaiverSet.match` for every finding (fail, unknown or
error): the first *active* waiver whose rule and host patterns match is
recorded on the finding, which then no longer fails the gate. A waiver whose
``expires`` day is before the audit date never matches, so the finding counts
again, and it is reported as expired (the engine makes that exit 1 at least).
Waivers that matched nothing are reported as unused (a warning: stale entries
should be removed). The file is validated by JSON Schema, then semantically
(real dates, unique ids); every problem is reported with its line and column.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from ..base.diagnostics import Code, Diagnostic, InputError, pointer_from_path
from ..facts.fastcheck import first_pass
from .model import Finding, Waived
from ..base.yamlload import YamlDoc, load_yaml_file

SCHEMA_ID = "sitegate/waivers/v1"
MAX_WAIVER_BYTES = 4 * 1024 * 1024


@lru_cache(maxsize=1)
def waivers_schema() -> dict[str, Any]:
    """The waivers JSON Schema shipped with sitegate."""
    return json.loads(resources.files("sitegate.schemas").joinpath("waivers.v1.schema.json").read_text("utf-8"))


@dataclass
class Waiver:
    """One waiver as read from the file, with its match count."""

    id: str
    rule: str
    hosts: str
    reason: str
    owner: str
    expires: str
    source: str
    line: int
    expired: bool
    matched: int = 0
    matched_while_expired: int = 0

    def __post_init__(self) -> None:
        self._rule = self.rule.upper()
        self._hosts = self.hosts.casefold()

    def applies(self, host: str, rule_id: str) -> bool:
        """Do the rule and host patterns match (regardless of expiry)?"""
        return fnmatch.fnmatchcase(rule_id.upper(), self._rule) and fnmatch.fnmatchcase(host.casefold(), self._hosts)

    @property
    def status(self) -> str:
        """active, expired or unused."""
        if self.expired:
            return "expired"
        return "active" if self.matched else "unused"

    def waived(self) -> Waived:
        """The record attached to a finding."""
        return Waived(self.id, self.reason, self.owner, self.expires)


class WaiverSet:
    """The waivers of one file, used as ``Options.waivers``."""

    def __init__(self, waivers: Iterable[Waiver], source: str, digest: str, today: str):
        self.waivers = list(waivers)
        self.source = source
        self.digest = digest
        self.today = today

    def __len__(self) -> int:
        return len(self.waivers)

    def match(self, host: str, finding: Finding) -> Waived | None:
        """The first active waiver covering this finding, or None (expired ones never match)."""
        hit: Waived | None = None
        for w in self.waivers:
            if not w.applies(host, finding.rule_id):
                continue
            if w.expired:
                w.matched_while_expired += 1
                continue
            if hit is None:
                w.matched += 1
                hit = w.waived()
        return hit

    def report(self) -> list[dict[str, Any]]:
        """Each waiver with its status (active, expired, unused) and match count, in file order."""
        return [
            {
                "id": w.id,
                "rule": w.rule,
                "hosts": w.hosts,
                "status": w.status,
                "matched": w.matched if not w.expired else w.matched_while_expired,
                "source": w.source,
                "line": w.line,
                "expires": w.expires,
                "owner": w.owner,
                "reason": w.reason,
            }
            for w in self.waivers
        ]


#: The fast first pass of the schema check (generated code, facts.fastcheck; never True
#: where jsonschema would find an error, see tests/test_input_fastcheck.py).
schema_valid_fast = first_pass(waivers_schema)


def _schema_diagnostics(doc: YamlDoc) -> list[Diagnostic]:
    import jsonschema  # here, not at import: 60 ms that only a file being checked needs

    validator = jsonschema.Draft202012Validator(waivers_schema())
    out = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        ptr = pointer_from_path(err.absolute_path)
        msg = err.message
        if err.validator == "pattern" and err.absolute_path and err.absolute_path[-1] == "expires":
            msg = f"expires {err.instance!r} is not a date: write YYYY-MM-DD"
        elif err.validator == "type" and err.absolute_path and err.absolute_path[-1] == "expires":
            msg = f"expires {err.instance!r} is not a date: write YYYY-MM-DD"
        out.append(doc.diag(ptr, msg, code=Code.WAIVER_SCHEMA))
    return out


def _today(today: str | None) -> str:
    if today is None:
        return datetime.now(timezone.utc).date().isoformat()
    try:
        return date.fromisoformat(today).isoformat()
    except ValueError:
        raise InputError([Diagnostic("--audit-date", f"{today!r} is not a date: write YYYY-MM-DD", code=Code.USAGE)]) from None


def load_waivers(path: str, today: str | None = None, *, display: str | None = None) -> WaiverSet:
    """Load and validate a waivers file; ``today`` (YYYY-MM-DD, default: today UTC) decides expiry.

    Raises InputError carrying every problem found, each with line and column.
    """
    day = _today(today)
    source = display or path
    doc = load_yaml_file(path, source, max_bytes=MAX_WAIVER_BYTES)
    # jsonschema only where the generated first pass is not certain: it names the errors.
    diags = [] if schema_valid_fast(doc.data) else _schema_diagnostics(doc)
    if diags:
        raise InputError(diags)
    waivers: list[Waiver] = []
    seen: dict[str, int] = {}
    for i, w in enumerate(doc.data["waivers"]):
        base = f"/waivers/{i}"
        try:
            expires = date.fromisoformat(w["expires"]).isoformat()
        except ValueError:
            diags.append(doc.diag(base + "/expires", f"expires {w['expires']!r} is not a real date", code=Code.WAIVER_DATE))
            continue
        line = doc.locate(base)[0]
        key = w["id"].casefold()
        if key in seen:
            diags.append(doc.diag(base + "/id", f"duplicate waiver id {w['id']!r} (first at line {seen[key]})", code=Code.WAIVER_DUPLICATE))
            continue
        seen[key] = line
        for field in ("rule", "hosts"):
            if not w[field].strip():
                diags.append(doc.diag(f"{base}/{field}", f"{field} is blank", code=Code.WAIVER_PATTERN))
        waivers.append(
            Waiver(
                id=w["id"],
                rule=w["rule"].strip(),
                hosts=w["hosts"].strip(),
                reason=w["reason"].strip(),
                owner=w["owner"].strip(),
                expires=expires,
                source=source,
                line=line,
                expired=expires < day,
            )
        )
    if diags:
        raise InputError(diags)
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return WaiverSet(waivers, source, digest, day)
