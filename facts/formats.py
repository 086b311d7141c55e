"""The input formats sitegate reads and the importer of each: one list, for the
loader's own formats, ``import --from`` and every help text.

Adding an importer touches this file (an :class:`InputFormat` member and its
``case`` in :func:`importer`) and the reader module in ``facts/importers/``.
Importing this module loads no importer: each reader is imported when it is
first called, so the CLI's help stays fast.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from enum import StrEnum
from typing import TYPE_CHECKING, Callable, Iterator, assert_never

if TYPE_CHECKING:
    from .load import Item


class InputFormat(StrEnum):
    """Every input format: the one list (``--input-format``, ``import --from``, help texts)."""

    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    POWERSHELL = "powershell"


#: The formats the facts loader reads itself (``check``/``audit`` stream them without an importer).
NATIVE_FORMATS = frozenset({InputFormat.JSON, InputFormat.JSONL})

#: Other names the formats answer to (case does not matter).
ALIASES: dict[str, str] = {"collector": "json", "ndjson": "jsonl", "ps": "powershell", "pwsh": "powershell"}


def format_list_text(last: str = "or") -> str:
    """The input formats as help texts list them: 'json, jsonl, csv or powershell'."""
    names = [f.value for f in InputFormat]
    return ", ".join(names[:-1]) + f" {last} {names[-1]}"


@dataclass(frozen=True)
class Importer:
    """One input format: how to read it and whether it takes a column mapping."""

    name: str
    description: str
    read: Callable[..., Iterator[Item]]
    takes_mapping: bool = False
    converts: bool = True  # False: facts as they are (no --strict effect on conversions)


def _reader(module: str, function: str, *takes: str) -> Callable[..., Iterator[Item]]:
    """``read(paths, *, mapping, strict, locate)`` calling ``facts.importers.MODULE.FUNCTION``
    with the keyword arguments it ``takes``; the module is imported at the first call."""

    def read(paths: list[str], *, mapping: str | None = None, strict: bool = False, locate: bool = False) -> Iterator[Item]:
        fn = getattr(importlib.import_module(f"{__package__}.importers.{module}"), function)
        given = {"mapping": mapping, "strict": strict, "locate": locate}
        return fn(list(paths), **{k: given[k] for k in takes})

    read.__qualname__ = f"read_{module}_{function}"
    return read


@cache  # one Importer per format, so registry entries compare equal
def importer(fmt: InputFormat) -> Importer:
    """The importer of a format: exhaustive over :class:`InputFormat`."""
    match fmt:
        case InputFormat.JSON:
            return Importer("json", "sitegate facts documents (JSON), including the collector's output",
                            _reader("jsonfacts", "iter_json", "locate"), converts=False)
        case InputFormat.JSONL:
            return Importer("jsonl", "sitegate facts as JSON Lines, one host per line",
                            _reader("jsonfacts", "iter_jsonl", "locate"), converts=False)
        case InputFormat.CSV:
            return Importer("csv", "CSV from an SMP console report or CMDB query (standard columns or --mapping)",
                            _reader("csv", "iter_csv", "mapping", "strict", "locate"), takes_mapping=True)
        case InputFormat.POWERSHELL:
            return Importer("powershell", "raw PowerShell ConvertTo-Json exports, one folder or zip per host",
                            _reader("powershell", "iter_powershell", "strict", "locate"))
        case _:
            assert_never(fmt)
