"""What every importer shares: one schema check, diagnostics that point at the
source cell or property, and the accounting of what was read and rejected."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from ...base.diagnostics import Diagnostic, Level, nearest_position
from ..load import HostRecord, Item, Locator, Rejected, check_host

Origin = Callable[[str], "tuple[str, int, int] | None"]
"""facts pointer -> (file, line, column) of the value it was built from."""


class MapLocator(Locator):
    """Positions of facts in a non-JSON source (a CSV cell), from a side table."""

    __slots__ = ("positions", "fallback")

    def __init__(self, positions: dict[str, tuple[int, int]], fallback: tuple[int, int]):
        self.positions = positions
        self.fallback = fallback

    def locate(self, pointer: str) -> tuple[int, int]:
        return nearest_position(self.positions, pointer, self.fallback)


def nearest(table: dict[str, Any], pointer: str) -> Any:
    """table[pointer] or the entry of its nearest ancestor (None if none)."""
    while True:
        if pointer in table:
            return table[pointer]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]


def finish(
    facts: dict[str, Any],
    *,
    source: str,
    index: int,
    line: int,
    origin: Origin,
    problems: Iterable[Diagnostic] = (),
    strict: bool = False,
    locator: Locator | None = None,
) -> Item:
    """Run the facts schema check on a built record and say where any problem came from.

    Every importer ends here, so imported facts pass exactly the check that a
    facts file passes (``facts.load.check_host``). Schema diagnostics point
    at facts (``/os/build``); ``origin`` turns that pointer into the file, line
    and column of the source value. ``problems`` (values that could not be
    normalised and were left out) ride along as warnings; with ``strict`` any
    warning rejects the record.
    """
    item = check_host(facts, source, index, line=line)
    extra = list(problems)

    def relocate(d: Diagnostic) -> Diagnostic:
        where = origin(d.pointer) if d.pointer else None
        if where is None:
            where = (source, line or 1, 1)
        return replace(d, source=where[0], line=where[1], column=where[2])

    if isinstance(item, Rejected):
        host = item.host
        diags = [relocate(d) for d in item.diagnostics] + [_with_host(d, host) for d in extra]
        return Rejected(source, index, diags, host)
    host = item.name
    warnings = [relocate(d) for d in item.warnings] + [_with_host(d, host) for d in extra]
    if strict and warnings:
        return Rejected(
            source,
            index,
            [replace(d, message=d.message + " (--strict)", host=host, level=Level.ERROR) for d in warnings],
            host,
        )
    item.warnings = warnings
    item.locator = locator
    return item


def _with_host(d: Diagnostic, host: str | None) -> Diagnostic:
    if d.host or not host:
        return d
    return replace(d, host=host)


def strip_derived(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts as a facts file holds them (without the engine's ``derived`` block)."""
    return {k: v for k, v in facts.items() if k != "derived"}


@dataclass
class ImportStats:
    """Accounting of one import: nothing read is dropped without being counted.

    ``read`` counts host records (valid or not); ``accepted`` the valid ones;
    ``written`` those the caller wrote out; ``rejected`` the invalid records;
    ``file_errors`` inputs that could not be read at all (no record index).
    Every rejection and warning keeps its diagnostics, which say file:line:col.
    """

    read: int = 0
    accepted: int = 0
    written: int = 0
    rejected: int = 0
    file_errors: int = 0
    warnings: int = 0
    rejections: list[Diagnostic] = field(default_factory=list)
    warning_diagnostics: list[Diagnostic] = field(default_factory=list)

    def observe(self, item: Item) -> Item:
        """Count one item from an importer and return it unchanged."""
        if isinstance(item, HostRecord):
            self.read += 1
            self.accepted += 1
            self.warnings += len(item.warnings)
            self.warning_diagnostics.extend(item.warnings)
            return item
        errors = [d for d in item.diagnostics if d.level is Level.ERROR]
        warns = [d for d in item.diagnostics if d.level is not Level.ERROR]
        self.warnings += len(warns)
        self.warning_diagnostics.extend(warns)
        if item.index < 0:
            if errors:
                self.file_errors += 1
                self.rejections.extend(errors)
        else:
            self.read += 1
            self.rejected += 1
            self.rejections.extend(errors or item.diagnostics)
        return item

    def wrote(self, count: int = 1) -> None:
        """Note records written to the output."""
        self.written += count

    @property
    def ok(self) -> bool:
        """True when every record read was accepted and every file could be read."""
        return self.rejected == 0 and self.file_errors == 0

    def reasons(self) -> list[str]:
        """Each rejection as ``file:line:col: error: message``."""
        return [d.format() for d in self.rejections]

    def summary(self) -> str:
        """One line for the terminal."""
        text = f"{self.read} record(s) read, {self.written} written, {self.rejected} rejected"
        if self.file_errors:
            text += f", {self.file_errors} input(s) unreadable"
        if self.warnings:
            text += f", {self.warnings} warning(s)"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (for a machine-readable import report)."""
        return {
            "read": self.read,
            "accepted": self.accepted,
            "written": self.written,
            "rejected": self.rejected,
            "file_errors": self.file_errors,
            "warnings": self.warnings,
            "rejections": [d.to_dict() for d in self.rejections],
            "warning_diagnostics": [d.to_dict() for d in self.warning_diagnostics],
        }
