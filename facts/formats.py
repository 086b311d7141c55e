"""The input formats sitegate reads: one list, for the importers' registry, the
loader's own formats and every help text (importing this loads no importer)."""
from __future__ import annotations

from enum import StrEnum


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
