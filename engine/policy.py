"""Strict pydantic models of a policy pack (after JSON Schema validation).

The loader validates YAML against ``schemas/policy.v1.schema.json`` first (for
precise, located messages), then builds these frozen models; the engine only
ever sees these, never a raw dict.
"""
from __future__ import annotations

import re
from enum import Enum
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Severity(str, Enum):
    """Rule severity, ordered note < warning < error."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 note, 1 warning, 2 error."""
        return _SEV_RANK[self.value]


_SEV_RANK = {"note": 0, "warning": 1, "error": 2}


class Confidence(str, Enum):
    """How sure the source of a rule or table is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """0 low, 1 medium, 2 high."""
        return {"low": 0, "medium": 1, "high": 2}[self.value]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_M):
    """A document a pack relies on."""

    id: str
    title: str
    url: str
    confidence: Confidence
    note: str | None = None


Scalar = Union[str, int, float, bool]


#: Table columns that hold versions by their name (``itms``, ``version``, ``min_version``,
#: ``itms_*``, ``version_*``, ``*_version``): quoted strings only. The policy and data
#: schemas state the same pattern (``patternProperties`` of a row).
VERSION_COLUMN = re.compile(r"^(itms|version|itms_[a-z0-9_]*|version_[a-z0-9_]*|[a-z0-9_]*_version)$")


class Table(_M):
    """A named data table."""

    description: str
    confidence: Confidence
    source: str
    key: tuple[str, ...] = ()
    rows: tuple[dict[str, Any], ...]

    @field_validator("rows")
    @classmethod
    def _versions_are_strings(cls, rows: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        for i, row in enumerate(rows):
            for col, v in row.items():
                if v is None or not VERSION_COLUMN.match(col):
                    continue
                if not (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))):
                    raise ValueError(f"row {i}: column {col!r} holds versions, which are quoted strings; got {v!r}")
        return rows


class FactRef(_M):
    """Operand: the value of another fact."""

    fact: str


class TableRef(_M):
    """Operand: values of one column of the matching rows of a table."""

    table: str
    column: str
    where: dict[str, Any] = Field(default_factory=dict)
    single: bool = False


class Leaf(_M):
    """A comparison of one fact with an operand."""

    fact: str
    op: str
    value: Any = None
    label: str | None = None


class AllOf(_M):
    """Every sub-condition holds."""

    all: tuple["Condition", ...]


class AnyOf(_M):
    """At least one sub-condition holds."""

    any: tuple["Condition", ...]


class NotOf(_M):
    """The sub-condition does not hold."""

    not_: "Condition" = Field(alias="not")


Condition = Union[AllOf, AnyOf, NotOf, Leaf]


class Example(_M):
    """Facts with the outcome a rule must give for them."""

    name: str | None = None
    target: str | None = None
    audit_date: str | None = None
    facts: dict[str, Any]


class Examples(_M):
    """A rule's examples."""

    pass_: tuple[Example, ...] = Field(alias="pass")
    fail: tuple[Example, ...]
    unknown: tuple[Example, ...] = ()
    not_applicable: tuple[Example, ...] = ()


class Rule(_M):
    """One readiness check, with its documentation."""

    id: str
    name: str | None = None
    title: str
    description: str
    rationale: str | None = None
    severity: Severity
    confidence: Confidence
    source: str
    sources: tuple[str, ...] = ()
    roles: tuple[str, ...] | None = None
    when: Condition | None = None
    assert_: Condition = Field(alias="assert")
    message: str
    remediation: str
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    overrides: bool = False
    examples: Examples

    @property
    def pascal_name(self) -> str:
        """The PascalCase name (SARIF ``rule.name``)."""
        if self.name:
            return self.name
        words = re.findall(r"[A-Za-z0-9]+", self.title)
        return "".join(w[:1].upper() + w[1:] for w in words) or self.id.replace("-", "")


class Pack(_M):
    """A policy pack as written (before inheritance is resolved)."""

    schema_: str = Field(alias="schema")
    id: str
    version: str
    title: str
    description: str | None = None
    applies_to: str
    extends: str | None = None
    remove_rules: tuple[str, ...] = ()
    sources: tuple[Source, ...]
    tables: dict[str, Table] = Field(default_factory=dict)
    rules: tuple[Rule, ...]


for _m in (AllOf, AnyOf, NotOf, Leaf, Rule, Pack):
    _m.model_rebuild()
