"""Data overlays (``--data FILE``): an administrator's own numbers for pack tables.

An overlay is a YAML file (``schemas/data.v1.schema.json``) that confirms or
replaces the rows of the packs' data tables: the site-server matrix per ITMS
version, hardware tiers, thresholds. It is validated like a pack (YAML safety,
JSON Schema, then semantics) and every problem is reported with file:line:col:

- a table name no loaded pack defines is an error, as is a ``pack`` that does
  not exist or does not define the table itself;
- ``merge`` needs the table's ``key`` columns in every row, and the same key
  twice in one overlay is an error;
- every row must carry the columns the rules read from that table;
- a value must have the type the table's column has (a number stays a number;
  a version written as a YAML float, ``8.10``, is refused with a hint to quote).

Rows from an overlay are marked ``confirmed: true`` with the overlay's
``confirmed_by``. Overlays are applied to the packs as written, before
inheritance is resolved, so a release pack that inherits a table sees the
overlaid rows; ``pack:`` restricts an overlay to one pack's own table.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterable

from ..base.diagnostics import Code, Diagnostic, InputError, pointer_from_path
from ..facts.fastcheck import first_pass
from .policy import Condition, Table, TableRef, leaves
from ..base.yamlload import YamlDoc, load_yaml_file

if TYPE_CHECKING:  # pragma: no cover
    from .packs import LoadedPack

MAX_OVERLAY_BYTES = 2 * 1024 * 1024
SCHEMA_MARKER = "sitegate/data/v1"
_RESERVED = ("confirmed", "confirmed_by")


@dataclass(frozen=True)
class Overlay:
    """One applied overlay file, for report provenance."""

    path: str
    digest: str  # sha256 of the file's bytes
    tables: tuple[str, ...]  # "table@pack" for every pack table it changed
    rules: tuple[str, ...] = ()  # ids of the rules that read a table it changed (report provenance)
    doc: YamlDoc | None = field(default=None, repr=False, compare=False)


@lru_cache(maxsize=None)
def data_schema() -> dict[str, Any]:
    """The data overlay JSON Schema."""
    return json.loads(resources.files("sitegate.schemas").joinpath("data.v1.schema.json").read_text("utf-8"))


#: The fast first pass of the schema check (generated code, facts.fastcheck; never True
#: where jsonschema would find an error, see tests/test_input_fastcheck.py).
schema_valid_fast = first_pass(data_schema)


def _schema_diagnostics(doc: YamlDoc) -> list[Diagnostic]:
    import jsonschema  # here, not at import: 60 ms that only a file being checked needs

    validator = jsonschema.Draft202012Validator(data_schema())
    out = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        e = err
        while e.context:
            deepest = max(e.context, key=lambda c: (len(c.absolute_path), -len(c.message)))
            if len(deepest.absolute_path) < len(e.absolute_path):
                break
            e = deepest
        ptr = pointer_from_path(e.absolute_path)
        msg = e.message
        if ptr in doc.float_text and e.validator == "type":
            text = doc.float_text[ptr]
            msg = f"{text} is a YAML number (read as {e.instance!r}); versions must be quoted strings: write '{text}'"
        out.append(doc.diag(ptr, msg, code=Code.DATA_SCHEMA))
    return out


def _kind(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "other"


_KIND_TEXT = {"boolean": "true/false", "number": "numbers", "string": "strings", "list": "lists"}


def _table_refs(cond: Condition | None) -> list[TableRef]:
    """The table lookups the comparisons of a condition make (their top level, as before)."""
    return [leaf.value for _, leaf in leaves(cond) if isinstance(leaf.value, TableRef)]


def _rules_reading(loaded: dict[str, "LoadedPack"], table: str) -> set[str]:
    """Ids of the rules, in every loaded pack, whose conditions read ``table``."""
    return {
        rule.id
        for lp in loaded.values()
        for rule in lp.pack.rules
        if any(ref.table == table for ref in _table_refs(rule.when) + _table_refs(rule.assert_))
    }


def _columns_read(loaded: dict[str, "LoadedPack"]) -> dict[str, dict[str, str]]:
    """table -> {column: id of a rule that reads it} across every loaded pack."""
    out: dict[str, dict[str, str]] = {}
    for lp in loaded.values():
        for rule in lp.pack.rules:
            for ref in _table_refs(rule.when) + _table_refs(rule.assert_):
                cols = out.setdefault(ref.table, {})
                cols.setdefault(ref.column, rule.id)
                for k in ref.where:
                    cols.setdefault(k, rule.id)
    return out


def _check_overlay(doc: YamlDoc, loaded: dict[str, "LoadedPack"]) -> tuple[list[Diagnostic], list[tuple[str, str, dict[str, Any]]]]:
    """Semantic checks; returns diagnostics and (table, pack id, table entry) to apply."""
    diags: list[Diagnostic] = []
    plan: list[tuple[str, str, dict[str, Any]]] = []
    defined: dict[str, list[str]] = {}
    for pid in sorted(loaded):
        for name in loaded[pid].pack.tables:
            defined.setdefault(name, []).append(pid)
    reads = _columns_read(loaded)
    for name, entry in doc.data["tables"].items():
        tp = f"/tables/{name}"
        if name not in defined:
            import difflib

            close = difflib.get_close_matches(name, list(defined), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            diags.append(doc.diag(tp, f"unknown table {name!r}: no loaded pack defines it{hint} (tables: {', '.join(sorted(defined))})", code=Code.DATA_SEMANTIC))
            continue
        targets = defined[name]
        pack_id = entry.get("pack")
        if pack_id is not None:
            if pack_id not in loaded:
                diags.append(doc.diag(f"{tp}/pack", f"unknown pack {pack_id!r}; packs: {', '.join(sorted(loaded))}", code=Code.DATA_SEMANTIC))
                continue
            if pack_id not in targets:
                owner = _definer(pack_id, name, loaded)
                where = f"; it inherits it from {owner}: name that pack" if owner else ""
                diags.append(doc.diag(f"{tp}/pack", f"pack {pack_id} does not define table {name!r} itself{where}", code=Code.DATA_SEMANTIC))
                continue
            targets = [pack_id]
        tables = [loaded[pid].pack.tables[name] for pid in targets]
        key = tables[0].key
        mode = entry["mode"]
        if mode == "merge" and not key:
            diags.append(doc.diag(f"{tp}/mode", f"table {name!r} has no key columns, so rows cannot be merged: use mode: replace", code=Code.DATA_SEMANTIC))
        kinds: dict[str, set[str]] = {}
        for t in tables:
            for row in t.rows:
                for col, v in row.items():
                    k = _kind(v)
                    if k is not None and col not in _RESERVED:
                        kinds.setdefault(col, set()).add(k)
        needed = dict(reads.get(name, {}))
        for k in key:
            needed.setdefault(k, "the table's key")
        readers = sorted(_rules_reading(loaded, name))
        if mode == "replace" and not entry["rows"] and readers and entry.get("allow_empty") is not True:
            # "contains all of" an empty table passes: an empty table would switch rules off
            # without a word. Only an overlay that says so may do it.
            diags.append(doc.diag(
                f"{tp}/rows",
                f"replaces table {name!r} with no rows, which switches off what rule(s) {', '.join(readers)} check"
                " (a rule reading an empty table passes or does not apply); if that is meant, add allow_empty: true",
                code=Code.DATA_SEMANTIC,
            ))
        seen_keys: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(entry["rows"]):
            rp = f"{tp}/rows/{i}"
            for col in _RESERVED[:1]:
                if col in row:
                    diags.append(doc.diag(f"{rp}/{col}", f"'{col}' is set by sitegate (overlay rows are confirmed); drop it", code=Code.DATA_SEMANTIC))
            for col, by in sorted(needed.items()):
                if row.get(col) is None:
                    who = f"rule {by}" if by != "the table's key" else by
                    diags.append(doc.diag(rp, f"row lacks column {col!r}, which {who} reads from table {name!r}", code=Code.DATA_SEMANTIC))
            for col, v in row.items():
                want = kinds.get(col)
                got = _kind(v)
                cp = f"{rp}/{col}"
                if got is None or not want or got in want:
                    continue
                if cp in doc.float_text and "string" in want:
                    text = doc.float_text[cp]
                    diags.append(doc.diag(cp, f"{text} is a YAML number (read as {v!r}); column {col!r} of table {name!r} holds strings (versions): write '{text}'", code=Code.DATA_SEMANTIC))
                else:
                    diags.append(doc.diag(cp, f"column {col!r} of table {name!r} holds {' or '.join(_KIND_TEXT.get(k, k) for k in sorted(want))}; got {v!r}", code=Code.DATA_SEMANTIC))
            if mode == "merge" and key and all(row.get(k) is not None for k in key):
                kt = tuple(_hashable(row[k]) for k in key)
                if kt in seen_keys:
                    diags.append(doc.diag(rp, f"key {dict(zip(key, kt))} is given twice (first at row {seen_keys[kt]})", code=Code.DATA_SEMANTIC))
                seen_keys.setdefault(kt, i)
        for pid in targets:
            plan.append((name, pid, entry))
    return diags, plan


def _definer(pack_id: str, table: str, loaded: dict[str, "LoadedPack"]) -> str | None:
    seen: set[str] = set()
    pid: str | None = loaded[pack_id].pack.extends
    while pid and pid in loaded and pid not in seen:
        seen.add(pid)
        if table in loaded[pid].pack.tables:
            return pid
        pid = loaded[pid].pack.extends
    return None


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _apply(table: Table, entry: dict[str, Any]) -> Table:
    by = entry["confirmed_by"]
    new_rows = [{**row, "confirmed": True, "confirmed_by": row.get("confirmed_by") or by} for row in entry["rows"]]
    if entry["mode"] == "replace":
        rows = new_rows
    else:
        key = table.key
        incoming = {tuple(_hashable(r.get(k)) for k in key): r for r in new_rows}
        rows = []
        used: set[tuple[Any, ...]] = set()
        for old in table.rows:
            kt = tuple(_hashable(old.get(k)) for k in key)
            if kt in incoming:
                if kt not in used:
                    rows.append(incoming[kt])
                    used.add(kt)
            else:
                rows.append(dict(old))
        rows.extend(r for kt, r in incoming.items() if kt not in used)
    return table.model_copy(update={"rows": tuple(rows)})


def load_overlay(path: str, loaded: dict[str, "LoadedPack"]) -> tuple[Overlay, list[tuple[str, str, dict[str, Any]]]]:
    """Validate one overlay file against the loaded packs; raise InputError with every problem."""
    doc = load_yaml_file(path, path, max_bytes=MAX_OVERLAY_BYTES)
    # jsonschema only where the generated first pass is not certain: it names the errors.
    diags = [] if schema_valid_fast(doc.data) else _schema_diagnostics(doc)
    if diags:
        raise InputError(diags)
    diags, plan = _check_overlay(doc, loaded)
    if diags:
        raise InputError(diags)
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    rules = sorted({r for name in {name for name, _, _ in plan} for r in _rules_reading(loaded, name)})
    return Overlay(path, digest, tuple(f"{name}@{pid}" for name, pid, _ in plan), tuple(rules), doc), plan


def apply_overlays(paths: Iterable[str], loaded: dict[str, "LoadedPack"]) -> tuple[dict[str, "LoadedPack"], list[Overlay], list[Diagnostic]]:
    """Apply overlays in order to the packs as written; return the new packs, the overlays and every error."""
    out = dict(loaded)
    overlays: list[Overlay] = []
    errors: list[Diagnostic] = []
    for path in paths:
        try:
            ov, plan = load_overlay(path, out)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        for name, pid, entry in plan:
            lp = out[pid]
            tables = dict(lp.pack.tables)
            tables[name] = _apply(tables[name], entry)
            out[pid] = dataclasses.replace(lp, pack=lp.pack.model_copy(update={"tables": tables}))
        overlays.append(ov)
    return out, overlays, errors
