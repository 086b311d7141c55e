"""The input formats sitegate reads and the importer of each: one list, for the
loader's own formats, ``import --from`` and every help text.

Adding an importer touches this file (an :class:`InputFormat` member and its
``case`` in :func:`importer`) and the reader module in ``facts/importers/``.
Importing this module loads no importer: each reader is imported when it is
first called, so the CLI's help stays fast.

Without ``--input-format`` each input's format is told from its name
(:func:`detect_format`): ``*.csv`` is a CSV export, ``*.zip`` a PowerShell export
archive, a folder holding PowerShell exports (``os.json``, ``features.json``...) a
PowerShell export folder; anything else is a facts file or folder (JSON, JSON Lines).
"""
from __future__ import annotations

import importlib
import os
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

#: File name suffixes (lower case) that name an importer's format.
SUFFIX_FORMATS: dict[str, InputFormat] = {".csv": InputFormat.CSV, ".zip": InputFormat.POWERSHELL}

# A folder is looked into this deep (the folder, a host folder in it, one level below)
# and at most this many entries are looked at: detection never walks a whole share.
_DETECT_DEPTH = 2
_DETECT_ENTRIES = 5000


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


def format_names() -> list[str]:
    """The input format names, in the list's order (for help texts and completion)."""
    return [f.value for f in InputFormat]


def detect_format(path: str) -> InputFormat | None:
    """The importer format ``path``'s name (or a folder's contents) says, or None for the
    facts loader's own formats (JSON, JSON Lines, a folder of them, stdin).

    ``*.csv`` -> csv; ``*.zip`` -> powershell; a folder -> powershell when it holds
    PowerShell exports (host folders with a file named as an export, ``os.json``,
    ``features.json``..., or zips) and no JSON file outside them. A folder of facts
    files stays a facts folder, and so does a folder mixing facts files and exports
    (``--input-format powershell`` reads it as exports).
    """
    if path == "-":
        return None
    low = path.lower()
    for suffix, fmt in SUFFIX_FORMATS.items():
        if low.endswith(suffix) and not os.path.isdir(path):
            return fmt
    if os.path.isdir(path) and _is_export_folder(path):
        return InputFormat.POWERSHELL
    return None


def _is_export_folder(path: str) -> bool:
    # The importer owns the export names; imported here only when a folder is given.
    from .importers.powershell import FILE_NAMES

    # host.json carries the operator's columns: a facts folder may well have a host named so.
    export_stems = set(FILE_NAMES) - {"host"}
    export_dirs: set[str] = set()
    json_dirs: set[str] = set()
    zips = 0
    for folder, name, is_dir in _entries(path):
        if is_dir:
            continue
        low = name.lower()
        stem, ext = os.path.splitext(low)
        if ext == ".json" and stem in export_stems or low == "applicationhost.config":
            export_dirs.add(folder)
        elif ext == ".zip":
            zips += 1
        elif ext in (".json", ".jsonl", ".ndjson"):
            json_dirs.add(folder)
    # A JSON file outside every host export folder is a facts file: the folder is a facts
    # folder (read as today), not an export of which that file would be a stray part.
    return bool(export_dirs or zips) and json_dirs <= export_dirs


def _entries(path: str) -> Iterator[tuple[str, str, bool]]:
    """(folder, name, is a folder) of the entries under ``path``, breadth first, bounded."""
    seen = 0
    level = [path]
    for _ in range(_DETECT_DEPTH + 1):
        below: list[str] = []
        for d in level:
            try:
                with os.scandir(d) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue  # the reader says what is wrong with it
            for e in entries:
                seen += 1
                if seen > _DETECT_ENTRIES:
                    return
                try:
                    is_dir = e.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    below.append(e.path)
                yield d, e.name, is_dir
        level = below


def group_by_format(paths: list[str]) -> list[tuple[InputFormat | None, list[str]]]:
    """The inputs in order, consecutive ones of one detected format together
    (None: the facts loader's own formats)."""
    groups: list[tuple[InputFormat | None, list[str]]] = []
    for p in paths:
        fmt = detect_format(p)
        if groups and groups[-1][0] == fmt:
            groups[-1][1].append(p)
        else:
            groups.append((fmt, [p]))
    return groups
