"""Input diagnostics: every problem with a file carries where it is.

A diagnostic names the source file, the JSON pointer of the offending value
(when there is one), its line and column (1-based), and, inside a multi-host
document, the host. Loaders collect all of them instead of stopping at the
first, so one run shows the user every mistake.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Iterable


MAX_MESSAGE = 1000  # characters of a diagnostic's message


class Level(str, Enum):
    """How bad an input problem is: errors fail the run (exit 2), warnings do not."""

    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """Every diagnostic's code: stable, printed with the diagnostic, searchable in the docs.

    A ``StrEnum`` so that reports keep writing the same plain strings.
    """

    BASELINE = "baseline"
    BINARY = "binary"
    CSV = "csv"
    CSV_COLUMN = "csv-column"
    CSV_HEADER = "csv-header"
    CSV_ROW = "csv-row"
    CSV_VALUE = "csv-value"
    DATA_SCHEMA = "data-schema"
    DATA_SEMANTIC = "data-semantic"
    DUPLICATE_HOST = "duplicate-host"
    DUPLICATE_KEY = "duplicate-key"
    DUPLICATE_PACK = "duplicate-pack"
    DUPLICATE_RULE = "duplicate-rule"
    EMPTY = "empty"
    ENCODING = "encoding"
    FACTS_SCHEMA = "facts-schema"
    FACTS_SHAPE = "facts-shape"
    INPUT = "input"
    IO = "io"
    JSON_SYNTAX = "json-syntax"
    MAPPING = "mapping"
    NO_POLICIES = "no-policies"
    NO_TARGET = "no-target"
    NUMBER_RANGE = "number-range"
    POLICY_EXTENDS = "policy-extends"
    POLICY_MODEL = "policy-model"
    POLICY_SCHEMA = "policy-schema"
    POLICY_SEMANTIC = "policy-semantic"
    PS_FILE = "ps-file"
    PS_VALUE = "ps-value"
    SKIPPED = "skipped"
    TOO_DEEP = "too-deep"
    TOO_LARGE = "too-large"
    UNKNOWN_FIELD = "unknown-field"
    USAGE = "usage"
    WAIVER_ACTIVE = "waiver-active"
    WAIVER_DATE = "waiver-date"
    WAIVER_DUPLICATE = "waiver-duplicate"
    WAIVER_EXPIRED = "waiver-expired"
    WAIVER_PATTERN = "waiver-pattern"
    WAIVER_SCHEMA = "waiver-schema"
    WAIVER_UNUSED = "waiver-unused"
    YAML_KEY = "yaml-key"
    YAML_SYNTAX = "yaml-syntax"
    YAML_TAG = "yaml-tag"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in an input file (facts, policy, waiver, data overlay)."""

    source: str
    message: str
    line: int = 0
    column: int = 0
    pointer: str = ""
    host: str | None = None
    level: Level = Level.ERROR
    code: Code = Code.INPUT

    def __post_init__(self) -> None:
        # A message quotes the offending value; a 1.5 MB title must not become a 1.5 MB line.
        if len(self.message) > MAX_MESSAGE:
            cut = self.message[: MAX_MESSAGE - 60]
            object.__setattr__(self, "message", f"{cut}... ({len(self.message) - len(cut):,} more characters)")

    def format(self, *, with_code: bool = False) -> str:
        """Render as ``file:line:col: level: message [at pointer] [host]``.

        With ``with_code`` the diagnostic's code follows in brackets (``[json-syntax]``), as the
        CLI prints it on stderr; reports carry the code in a field of their own.
        """
        where = self.source
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: {self.level.value}: {self.message}"
        if self.pointer:
            text += f" (at {self.pointer})"
        if self.host:
            text += f" [host {self.host}]"
        if with_code:
            text += f" [{self.code}]"
        return text

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping with a stable key order."""
        return {
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "host": self.host,
            "level": self.level.value,
            "code": self.code,
            "message": self.message,
        }


class InputError(Exception):
    """Raised when an input cannot be used at all; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.format() for d in diagnostics))


def pointer_join(parent: str, token: str | int) -> str:
    """Append one reference token to a JSON pointer (RFC 6901 escaping)."""
    text = str(token).replace("~", "~0").replace("/", "~1")
    return f"{parent}/{text}"


def pointer_from_path(path: Iterable[Any]) -> str:
    """A JSON pointer from a sequence of keys and indexes (jsonschema's ``absolute_path``)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def nearest_position(positions: dict[str, tuple[int, int]], pointer: str, fallback: tuple[int, int]) -> tuple[int, int]:
    """Line and column of pointer in a side table, or of its nearest ancestor that has one."""
    while True:
        pos = positions.get(pointer)
        if pos is not None:
            return pos
        if not pointer:
            return fallback
        pointer = pointer.rsplit("/", 1)[0]
