"""Facts documents as they are: JSON (one host, an array, ``{"hosts": [...]}``) or JSON Lines.

These formats need no conversion, so they go straight to the facts loader
(:func:`sitegate.facts.load.iter_paths`), which validates every record. The
collector's output (``collect.ps1``) is a JSON facts document.
"""
from __future__ import annotations

from typing import Iterator

from ..load import Item, iter_paths


def iter_json(paths: list[str], *, locate: bool = False) -> Iterator[Item]:
    """Hosts of JSON facts documents (a folder is expanded to its .json/.jsonl files)."""
    return iter_paths(paths, locate=locate, fmt="json")  # type: ignore[return-value]  # without raw_lines no RawLine or RawBlock is made


def iter_jsonl(paths: list[str], *, locate: bool = False) -> Iterator[Item]:
    """Hosts of JSON Lines facts files, one host per line."""
    return iter_paths(paths, locate=locate, fmt="jsonl")  # type: ignore[return-value]  # without raw_lines no RawLine or RawBlock is made
