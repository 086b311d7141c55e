"""Importers: turn inventories exported elsewhere into validated facts.

Each importer yields exactly what :mod:`sitegate.facts.load` yields
(:class:`~sitegate.facts.load.HostRecord` for a valid host,
:class:`~sitegate.facts.load.Rejected` for a record or file that cannot be
used), and every record built by an importer passes the same facts-schema
check as a facts file. :class:`ImportStats` counts what was read, written and
rejected, with each rejection's ``file:line:col``.

Formats (``sitegate import --from FORMAT``):

``json``        facts documents (also the collector's output); ``collector`` is an alias
``jsonl``       facts as JSON Lines
``csv``         console / CMDB CSV with standard columns, or any CSV with ``--mapping``
``powershell``  raw ``ConvertTo-Json`` exports, one folder or zip per host
"""
from __future__ import annotations

from typing import IO, Iterable, Iterator

import orjson

from ...base.diagnostics import Code, Diagnostic
from ..formats import ALIASES, Importer, InputFormat, importer
from ..load import HostRecord, Item, Rejected
from ._common import ImportStats, strip_derived
from .csv import STANDARD_COLUMNS, load_mapping

__all__ = [
    "IMPORTERS",
    "ALIASES",
    "InputFormat",
    "importer",
    "Importer",
    "ImportStats",
    "UnknownFormat",
    "STANDARD_COLUMNS",
    "import_inputs",
    "write_jsonl",
    "import_to_jsonl",
    "load_mapping",
]


IMPORTERS: dict[str, Importer] = {f.value: importer(f) for f in InputFormat}


class UnknownFormat(ValueError):
    """Raised by :func:`import_inputs` for a format name that no importer has."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        names = ", ".join(sorted(IMPORTERS))
        super().__init__(f"unknown input format {fmt!r}: use one of {names}")


def import_inputs(
    fmt: str,
    paths: list[str],
    *,
    mapping: str | None = None,
    strict: bool = False,
    locate: bool = False,
) -> Iterator[HostRecord | Rejected]:
    """Hosts read from ``paths`` in format ``fmt``, validated against the facts schema.

    ``mapping`` is a column-mapping YAML file (CSV only). ``strict`` turns the
    warnings of a converted record (a cell that could not be read, an unknown
    asset status...) into its rejection. ``locate`` asks for record locators
    (SARIF regions), as :func:`sitegate.facts.load.iter_paths` does.
    Raises :class:`UnknownFormat` at the call (before reading anything) for an
    unknown format; every problem with the inputs themselves is a yielded Rejected.
    """
    key = ALIASES.get(fmt.lower(), fmt.lower())
    imp = IMPORTERS.get(key)
    if imp is None:
        raise UnknownFormat(fmt)
    if mapping is not None and not imp.takes_mapping:
        return iter([Rejected(mapping, -1, [Diagnostic(mapping, f"--mapping applies to --from csv, not --from {key}", code=Code.USAGE)])])
    return imp.read(list(paths), mapping=mapping, strict=strict, locate=locate)


def write_jsonl(items: Iterable[Item], out: IO[bytes], stats: ImportStats) -> ImportStats:
    """Write each valid host as one JSON line (without ``derived``); count everything in stats."""
    for item in items:
        stats.observe(item)
        if isinstance(item, HostRecord):
            out.write(orjson.dumps(strip_derived(item.facts)) + b"\n")
            stats.wrote()
    return stats


def import_to_jsonl(
    fmt: str,
    paths: list[str],
    out: IO[bytes],
    *,
    mapping: str | None = None,
    strict: bool = False,
) -> ImportStats:
    """``sitegate import``: read ``paths`` as ``fmt`` and write facts JSON Lines to ``out``.

    Returns the accounting; the caller prints ``stats.reasons()`` and exits
    non-zero when ``not stats.ok``.
    """
    return write_jsonl(import_inputs(fmt, paths, mapping=mapping, strict=strict), out, ImportStats())
