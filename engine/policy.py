"""Strict pydantic models of a policy pack (after JSON Schema validation).

The loader validates YAML against ``schemas/policy.v1.schema.json`` first (for
precise, located messages), then builds these frozen models; the engine only
ever sees these, never a raw dict.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Annotated, Any, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator


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


class Lit(_M):
    """Operand: a literal written in the policy (a scalar, or a list of scalars).

    ``value`` is exactly what YAML gave (a list stays a list, ``True`` a bool), so
    comparisons and the texts built from it are those of the value as written.
    """

    value: Any

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, data: Any) -> Any:
        # A policy writes the literal itself (``value: 528040``), not {value: ...}.
        return data if isinstance(data, (dict, Lit)) else {"value": data}


def _operand_tag(v: Any) -> str:
    """Which operand a raw YAML value (or a model) is; the schema has already
    required a mapping to be exactly a fact reference or a table lookup."""
    if isinstance(v, (FactRef, TableRef, Lit)):
        return type(v).__name__
    if isinstance(v, dict):
        return "TableRef" if "table" in v else "FactRef"
    return "Lit"


#: A comparison's right-hand side, parsed once at load: a literal, the value of
#: another fact, or a table lookup. The tags are the class names, which the
#: loader's error pointers leave out (as they leave out AllOf/AnyOf/NotOf/Leaf).
OperandModel = Annotated[
    Union[
        Annotated["Lit", Tag("Lit")],
        Annotated["FactRef", Tag("FactRef")],
        Annotated["TableRef", Tag("TableRef")],
    ],
    Discriminator(_operand_tag),
]

#: Tags and model names that appear in pydantic error locations but not in the YAML.
MODEL_TAGS = frozenset({"AllOf", "AnyOf", "NotOf", "Leaf", "Lit", "FactRef", "TableRef"})


class TableRef(_M):
    """Operand: values of one column of the matching rows of a table."""

    table: str
    column: str
    where: dict[str, OperandModel] = Field(default_factory=dict)
    single: bool = False


class Leaf(_M):
    """A comparison of one fact with an operand (None for exists / missing)."""

    fact: str
    op: str
    value: OperandModel | None = None
    label: str | None = None

    @property
    def literal(self) -> Any:
        """The literal operand's value; None when the operand is absent or not a literal."""
        return self.value.value if isinstance(self.value, Lit) else None


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


def parts(cond: Condition) -> tuple[tuple[str, Condition], ...]:
    """The sub-conditions of a condition, each with its JSON pointer step (none for a leaf).

    The one place that knows how all / any / not nest: every walk over a
    condition (checks, compilation, code generation, table and fact reads)
    goes through here.
    """
    if isinstance(cond, AllOf):
        return tuple((f"/all/{i}", c) for i, c in enumerate(cond.all))
    if isinstance(cond, AnyOf):
        return tuple((f"/any/{i}", c) for i, c in enumerate(cond.any))
    if isinstance(cond, NotOf):
        return (("/not", cond.not_),)
    return ()


def leaves(cond: Condition | None, ptr: str = "") -> Iterator[tuple[str, Leaf]]:
    """Every comparison of a condition in document order, with its JSON pointer under ``ptr``."""
    if cond is None:
        return
    if isinstance(cond, Leaf):
        yield ptr, cond
        return
    for step, sub in parts(cond):
        yield from leaves(sub, ptr + step)


T = TypeVar("T")


def fold(
    cond: Condition,
    leaf: Callable[[Leaf], T],
    all_of: Callable[[list[T]], T],
    any_of: Callable[[list[T]], T],
    not_of: Callable[[T], T],
) -> T:
    """Build one value from a condition bottom-up: ``leaf`` for each comparison, then
    ``all_of`` / ``any_of`` / ``not_of`` over what the parts gave."""
    if isinstance(cond, Leaf):
        return leaf(cond)
    done = [fold(sub, leaf, all_of, any_of, not_of) for _, sub in parts(cond)]
    if isinstance(cond, AllOf):
        return all_of(done)
    if isinstance(cond, AnyOf):
        return any_of(done)
    return not_of(done[0])


def lookups(operand: OperandModel | None) -> Iterator[TableRef]:
    """Every table lookup of an operand: itself, then those nested in its ``where``."""
    if isinstance(operand, TableRef):
        yield operand
        for sub in operand.where.values():
            yield from lookups(sub)


def written(operand: OperandModel) -> Any:
    """An operand as a policy writes it in YAML (a literal's value, or the mapping), for texts."""
    if isinstance(operand, Lit):
        return operand.value
    if isinstance(operand, FactRef):
        return {"fact": operand.fact}
    out: dict[str, Any] = {"table": operand.table, "column": operand.column}
    if "where" in operand.model_fields_set:
        out["where"] = {k: written(v) for k, v in operand.where.items()}
    if "single" in operand.model_fields_set:
        out["single"] = operand.single
    return out


def operand_facts(operand: OperandModel | None) -> list[str]:
    """Fact paths an operand reads: a fact reference, or a lookup's where-values (nested too)."""
    if isinstance(operand, FactRef):
        return [operand.fact]
    if isinstance(operand, TableRef):
        return [p for sub in operand.where.values() for p in operand_facts(sub)]
    return []


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


for _m in (TableRef, AllOf, AnyOf, NotOf, Leaf, Rule, Pack):
    _m.model_rebuild()
