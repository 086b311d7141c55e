"""Load, validate, resolve and select policy packs.

Validation happens in three layers, and every problem from every file is
collected before anything is reported:

1. YAML safety and syntax (``yamlload``): tags, duplicate keys, alias bombs;
2. the JSON Schema in ``schemas/policy.v1.schema.json``;
3. strict pydantic models, then semantics the schema cannot state: fact paths
   exist in the facts schema, operands fit their operator, tables and columns
   exist, regexes and version specifiers compile, message placeholders are
   known, rule ids are unique, versions are strings.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import ValidationError

from ..facts.normalize import DERIVED_FACTS
from ..base.diagnostics import Code, Diagnostic, InputError, Level, pointer_from_path
from ..facts.fastcheck import first_pass
from .messages import PLACEHOLDER as _PLACEHOLDER
from .messages import STANDARD_PLACEHOLDERS as _PLACEHOLDER_NAMES
from .operators import OPERATORS, Operand, OperatorError, compile_regex, parse_specifier
from .policy import MODEL_TAGS, VERSION_COLUMN, Condition, FactRef, Leaf, Lit, OperandModel, Pack, Rule, Table, TableRef, leaves, lookups
from ..base.yamlload import YamlDoc, load_yaml_bytes, read_yaml_bytes

if TYPE_CHECKING:  # pragma: no cover
    import jsonschema

MAX_POLICY_BYTES = 2 * 1024 * 1024
#: Pack file extensions, compared case-insensitively (``my.YAML`` is a pack too).
POLICY_SUFFIXES = (".yaml", ".yml")


@lru_cache(maxsize=None)
def policy_schema() -> dict[str, Any]:
    """The policy pack JSON Schema."""
    return json.loads(resources.files("sitegate.schemas").joinpath("policy.v1.schema.json").read_text("utf-8"))


#: The fast first pass of the policy schema check (generated code, facts.fastcheck; never
#: True for a pack jsonschema would find an error in, see tests/test_policy_fastcheck.py).
schema_valid_fast = first_pass(policy_schema)


@lru_cache(maxsize=None)
def fact_catalogue() -> dict[str, str]:
    """Every fact path a rule may read, with its kind (string, number, boolean, list, object)."""
    schema = json.loads(resources.files("sitegate.schemas").joinpath("facts.v1.schema.json").read_text("utf-8"))
    defs = schema["$defs"]
    out: dict[str, str] = {}

    def kind_of(s: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        if "$ref" in s:
            target = defs[s["$ref"].split("/")[-1]]
            return kind_of(target)
        if "anyOf" in s:
            for alt in s["anyOf"]:
                if alt.get("type") != "null":
                    return kind_of(alt)
        t = s.get("type")
        if "enum" in s and t is None:
            t = "string"
        if t == "object":
            return "object", s
        if t == "array":
            return "list", None
        if t in ("integer", "number"):
            return "number", None
        return t or "any", None

    def walk(s: dict[str, Any], prefix: str) -> None:
        for name, sub in s.get("properties", {}).items():
            path = f"{prefix}{name}"
            kind, obj = kind_of(sub)
            out[path] = kind
            if obj is not None and name != "extensions":
                walk(obj, path + ".")

    walk(defs["HostFacts"], "")
    for path, (kind, _) in DERIVED_FACTS.items():
        out[path] = kind
    out["context.target"] = "version"
    out["context.audit_date"] = "string"
    return out


_KIND_OK = {
    "string": {"string", "version"},
    "version": {"version", "string"},
    "number": {"number"},
    "boolean": {"boolean"},
    "list": {"list"},
    "object": set(),
    "any": {"string", "version", "number", "boolean", "list"},
}


@dataclass(frozen=True)
class LoadedPack:
    """A validated pack with where it came from."""

    pack: Pack
    path: str
    digest: str
    bundled: bool
    doc: YamlDoc = field(repr=False, compare=False)


@dataclass(frozen=True)
class EffectivePack:
    """A pack with its inheritance resolved: every rule and table it carries."""

    id: str
    version: str
    title: str
    applies_to: str
    chain: tuple[str, ...]  # this pack, then its ancestors
    rules: tuple[Rule, ...]
    tables: dict[str, Table]
    rule_pack: dict[str, str]  # rule id -> id of the pack that defined it
    sources: dict[str, Any]


class PolicySet:
    """Every pack loaded, resolved, and ready to be selected for a target version."""

    def __init__(self, packs: list[LoadedPack], effective: dict[str, EffectivePack], overlays: list[Any] | None = None):
        self.loaded = packs
        self.effective = effective
        self.by_id = {p.pack.id: p for p in packs}
        #: Data overlays applied (engine.overlays.Overlay: .path, .digest, .tables), in order.
        self.overlays: list[Any] = list(overlays or [])

    def select(self, target: str) -> list[EffectivePack]:
        """The packs whose range contains target, without packs another selected pack extends."""
        v = Version(target)
        chosen = [e for e in self.effective.values() if SpecifierSet(e.applies_to).contains(v, prereleases=True)]
        ancestors = {a for e in chosen for a in e.chain[1:]}
        return sorted((e for e in chosen if e.id not in ancestors), key=lambda e: e.id)

    def rule(self, rule_id: str) -> tuple[Rule, EffectivePack] | None:
        """Find a rule by id (the most derived pack that carries it)."""
        best: tuple[Rule, EffectivePack] | None = None
        for e in self.effective.values():
            for r in e.rules:
                if r.id == rule_id and (best is None or len(e.chain) > len(best[1].chain)):
                    best = (r, e)
        return best


def bundled_policy_files() -> list[tuple[str, str]]:
    """(real path, display path) of every bundled pack."""
    root = resources.files("sitegate.policies")
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.lower().endswith(POLICY_SUFFIXES) and entry.is_file():
            out.append((str(entry), f"<bundled>/{entry.name}"))
    return out


#: The folder of a policy directory that holds its test cases (engine.policytest), never packs.
CASES_DIRNAME = "tests"


def policy_dir_files(directory: str) -> tuple[list[tuple[str, str]], list[Diagnostic]]:
    """Pack files under a --policy-dir: *.yaml / *.yml (any case), no symlink leaving the directory.

    Nothing is skipped silently, and a skipped pack is never a green run: a
    symbolic link to a file or directory outside the directory is an error (the
    pack it points to would not be evaluated), as is a directory with no pack
    file at all. Other files (``README.md``, ``notes.txt``) and a symbolic link to
    a directory inside the directory (its files are read once, at their real
    path) are passed over with a warning.
    """
    diags: list[Diagnostic] = []
    if not os.path.exists(directory):
        return [], [Diagnostic(directory, "policy directory does not exist", code=Code.IO)]
    if not os.path.isdir(directory):
        return [], [Diagnostic(directory, "is not a directory (--policy-dir takes a directory)", code=Code.IO)]
    root = os.path.realpath(directory)
    files: list[tuple[str, str]] = []

    def outside(path: str) -> bool:
        return os.path.commonpath([root, os.path.realpath(path)]) != root

    for dp, dns, fns in os.walk(directory, followlinks=False):
        dns.sort()
        for d in list(dns):
            full = os.path.join(dp, d)
            if dp == directory and d == CASES_DIRNAME:
                # A policy repository keeps its test cases here (sitegate policies test):
                # they are hosts and expectations, not packs.
                diags.append(Diagnostic(full, "policy test cases (run them with: sitegate policies test): not loaded as packs", level=Level.WARNING, code=Code.SKIPPED))
                dns.remove(d)
                continue
            if os.path.islink(full):
                if outside(full):
                    diags.append(Diagnostic(full, f"symbolic link to a directory out of the policy directory ({os.path.realpath(full)}): its packs are not loaded; copy them into {directory}", code=Code.SKIPPED))
                else:
                    diags.append(Diagnostic(full, "symbolic link to a directory skipped (its files are read at their real path)", level=Level.WARNING, code=Code.SKIPPED))
                dns.remove(d)
        for fn in sorted(fns):
            full = os.path.join(dp, fn)
            if not fn.lower().endswith(POLICY_SUFFIXES):
                diags.append(Diagnostic(full, "not a .yaml/.yml file: skipped", level=Level.WARNING, code=Code.SKIPPED))
                continue
            if outside(full):
                diags.append(Diagnostic(full, f"symbolic link out of the policy directory ({os.path.realpath(full)}): skipped, so the pack is not evaluated; copy the file into {directory}", code=Code.SKIPPED))
                continue
            if not _regular_file(full):
                # A FIFO would wait for a writer forever; a skipped pack is never a green run.
                diags.append(Diagnostic(full, "not a regular file (a FIFO, device or socket): skipped, so the pack is not evaluated", code=Code.SKIPPED))
                continue
            files.append((full, full))
    if not files and not any(d.level is Level.ERROR for d in diags):
        diags.append(Diagnostic(directory, f"no policy files in {directory} (a pack is a .yaml or .yml file)", code=Code.NO_POLICIES))
    return files, diags


def _regular_file(path: str) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # reading it names the problem


def _best_error(err: jsonschema.ValidationError) -> jsonschema.ValidationError:
    if err.context:
        # For oneOf/anyOf, the deepest sub-error is the one that names the real mistake.
        deepest = max(err.context, key=lambda e: (len(e.absolute_path), -len(e.message)))
        if len(deepest.absolute_path) >= len(err.absolute_path):
            return _best_error(deepest)
    return err


def _schema_diagnostics(doc: YamlDoc) -> list[Diagnostic]:
    # Imported here: a run whose packs pass the fast check never needs it (60 ms).
    import jsonschema

    validator = jsonschema.Draft202012Validator(policy_schema())
    out = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        e = _best_error(err)
        ptr = pointer_from_path(e.absolute_path)
        msg = e.message
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            # Point at the first unexpected key, not at the mapping that holds it.
            allowed = set(e.schema.get("properties", {})) if isinstance(e.schema, dict) else set()
            extra = [k for k in e.instance if k not in allowed]
            if extra:
                ptr = f"{ptr}/{str(extra[0]).replace('~', '~0').replace('/', '~1')}"
        if ptr in doc.float_text and e.validator == "type":
            msg = (
                f"{doc.float_text[ptr]} is a YAML number (read as {e.instance!r}); "
                f"versions must be quoted strings: write '{doc.float_text[ptr]}'"
            )
        out.append(doc.diag(ptr, msg, code=Code.POLICY_SCHEMA))
    return out


#: Packs loaded in this process, most recently used last (see load_pack_file).
PACK_CACHE_SIZE = 64
_PACK_CACHE: "OrderedDict[tuple[str, str, bool, str], LoadedPack]" = OrderedDict()
_PACK_CACHE_LOCK = threading.Lock()


def clear_pack_cache() -> None:
    """Forget every pack load_pack_file remembers."""
    with _PACK_CACHE_LOCK:
        _PACK_CACHE.clear()


def load_pack_file(path: str, display: str, *, bundled: bool = False) -> LoadedPack:
    """Load and validate one pack file; raise InputError with every problem found.

    A process that runs many checks (a library user, the test suite) parses and
    validates an unchanged pack once: the result is remembered under the path,
    display name, bundled flag and the sha256 of the bytes read, for the last
    PACK_CACHE_SIZE packs. A LoadedPack is immutable (frozen dataclass, frozen
    pydantic models, tuples); code that changes a pack builds a new one, as
    engine/overlays.py does. Errors are not remembered: a bad pack is read again.
    """
    raw = read_yaml_bytes(path, display, max_bytes=MAX_POLICY_BYTES)
    digest = hashlib.sha256(raw).hexdigest()
    key = (path, display, bundled, digest)
    with _PACK_CACHE_LOCK:
        hit = _PACK_CACHE.get(key)
        if hit is not None:
            _PACK_CACHE.move_to_end(key)
            return hit
    lp = _load_pack(raw, digest, display, bundled)
    with _PACK_CACHE_LOCK:
        _PACK_CACHE[key] = lp
        _PACK_CACHE.move_to_end(key)
        while len(_PACK_CACHE) > PACK_CACHE_SIZE:
            _PACK_CACHE.popitem(last=False)
    return lp


def _load_pack(raw: bytes, digest: str, display: str, bundled: bool) -> LoadedPack:
    doc = load_yaml_bytes(raw, display)
    # jsonschema only where the fast pass is not certain: it names the errors.
    if not schema_valid_fast(doc.data):
        diags = _schema_diagnostics(doc)
        if diags:
            raise InputError(diags)
    try:
        pack = Pack.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(
            [doc.diag(pointer_from_path(_alias_path(e["loc"])), e["msg"], code=Code.POLICY_MODEL) for e in exc.errors()]
        ) from None
    diags = _semantic_diagnostics(pack, doc)
    if diags:
        raise InputError(diags)
    return LoadedPack(pack, display, digest, bundled, doc)


def _alias_path(loc: tuple[Any, ...]) -> list[Any]:
    rename = {"assert_": "assert", "pass_": "pass", "not_": "not", "schema_": "schema"}
    return [rename.get(p, p) for p in loc if not (isinstance(p, str) and p in MODEL_TAGS)]


def _semantic_diagnostics(pack: Pack, doc: YamlDoc, parent_tables: dict[str, Table] | None = None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    try:
        SpecifierSet(pack.applies_to)
    except InvalidSpecifier:
        out.append(doc.diag("/applies_to", f"{pack.applies_to!r} is not a PEP 440 version specifier (e.g. '>=8.7.1,<8.8')", code=Code.POLICY_SEMANTIC))
    source_ids = {s.id for s in pack.sources}
    seen: dict[str, int] = {}
    for i, rule in enumerate(pack.rules):
        rp = f"/rules/{i}"
        if rule.id in seen:
            first = doc.locate(f"/rules/{seen[rule.id]}/id")[0]
            out.append(doc.diag(f"{rp}/id", f"rule id {rule.id} is used twice (first at line {first})", code=Code.DUPLICATE_RULE))
        seen.setdefault(rule.id, i)
        for j, sid in enumerate(rule.sources):
            if sid not in source_ids:
                out.append(doc.diag(f"{rp}/sources/{j}", f"unknown source id {sid!r}; the pack's sources are {sorted(source_ids)}", code=Code.POLICY_SEMANTIC))
        tables = dict(parent_tables or {})
        tables.update(pack.tables)
        for part in ("when", "assert"):
            cond = getattr(rule, "assert_" if part == "assert" else part)
            if cond is not None:
                out.extend(_check_condition(cond, f"{rp}/{part}", doc, tables if pack.extends is None else None))
        for m in _PLACEHOLDER.finditer(rule.message):
            name = m.group(1)
            if name not in _PLACEHOLDER_NAMES and name not in fact_catalogue():
                out.append(doc.diag(f"{rp}/message", f"unknown placeholder {{{name}}} in message; use one of {sorted(_PLACEHOLDER_NAMES)} or a fact path", code=Code.POLICY_SEMANTIC))
    return out


def _check_condition(cond: Condition, ptr: str, doc: YamlDoc, tables: dict[str, Table] | None) -> list[Diagnostic]:
    """Static checks of one condition. ``tables`` None defers table checks to resolution."""
    return [d for lptr, leaf in leaves(cond, ptr) for d in _check_leaf(leaf, lptr, doc, tables)]


def _check_leaf(leaf: Leaf, ptr: str, doc: YamlDoc, tables: dict[str, Table] | None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    cat = fact_catalogue()
    spec = OPERATORS[leaf.op]
    kind = cat.get(leaf.fact)
    if kind is None:
        import difflib

        close = difflib.get_close_matches(leaf.fact, list(cat), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        out.append(doc.diag(f"{ptr}/fact", f"unknown fact {leaf.fact!r}{hint}", code=Code.POLICY_SEMANTIC))
    elif "any" not in spec.fact_kinds and not (_KIND_OK.get(kind, set()) & spec.fact_kinds):
        out.append(doc.diag(f"{ptr}/op", f"operator {leaf.op} does not apply to {leaf.fact} ({kind})", code=Code.POLICY_SEMANTIC))
    operand = leaf.value
    vp = f"{ptr}/value"
    if spec.operand is Operand.NONE:
        if operand is not None:
            out.append(doc.diag(vp, f"operator {leaf.op} takes no value", code=Code.POLICY_SEMANTIC))
        return out
    if operand is None:
        out.append(doc.diag(ptr, f"operator {leaf.op} needs a value", code=Code.POLICY_SEMANTIC))
        return out
    if isinstance(operand, FactRef):
        if operand.fact not in cat:
            out.append(doc.diag(f"{vp}/fact", f"unknown fact {operand.fact!r}", code=Code.POLICY_SEMANTIC))
        elif spec.operand is Operand.LIST and cat[operand.fact] not in ("list", "any"):
            out.append(doc.diag(f"{vp}/fact", f"operator {leaf.op} needs a list; {operand.fact} is a {cat[operand.fact]}", code=Code.POLICY_SEMANTIC))
        return out
    if isinstance(operand, TableRef):
        if tables is not None:
            out.extend(check_table_ref(operand, vp, doc, tables))
        return out
    v = operand.value
    if vp in doc.float_text and spec.operand in (Operand.VERSION, Operand.SPECIFIER, Operand.SCALAR):
        out.append(doc.diag(vp, f"{doc.float_text[vp]} is a YAML number (read as {v!r}); quote versions: '{doc.float_text[vp]}'", code=Code.POLICY_SEMANTIC))
        return out
    op = spec.operand
    if op in (Operand.SCALAR, Operand.LIST) and isinstance(v, list) == (op is Operand.LIST):
        literal = _literal_diagnostics(leaf, kind, v, vp, doc)
        if literal:
            return out + literal
    bad = None
    if op is Operand.LIST and not isinstance(v, list):
        bad = "a list"
    elif op is Operand.SCALAR and isinstance(v, list):
        bad = "a single value"
    elif op is Operand.NUMBER and (isinstance(v, bool) or not isinstance(v, (int, float))):
        bad = "a number"
    elif op in (Operand.VERSION, Operand.SPECIFIER, Operand.REGEX, Operand.DATE) and not isinstance(v, str):
        bad = "a quoted string"
    if bad:
        out.append(doc.diag(vp, f"operator {leaf.op} needs {bad}, got {v!r}", code=Code.POLICY_SEMANTIC))
        return out
    try:
        if op is Operand.VERSION:
            Version(v)
        elif op is Operand.SPECIFIER:
            parse_specifier(v)
        elif op is Operand.REGEX:
            compile_regex(v)
        elif op is Operand.DATE:
            from datetime import date

            date.fromisoformat(v)
    except (InvalidVersion, OperatorError, ValueError) as exc:
        out.append(doc.diag(vp, f"{v!r}: {exc}", code=Code.POLICY_SEMANTIC))
    return out


def _is_version_fact(path: str, kind: str | None) -> bool:
    """A fact holding a version: context.target, derived.dotnet_version, agent.version,
    platform.itms_version, os.version... (kind version, or a string named *version)."""
    return kind == "version" or (kind == "string" and path.rsplit(".", 1)[-1].endswith("version"))


def _literal_diagnostics(leaf: Leaf, kind: str | None, v: Any, vp: str, doc: YamlDoc) -> list[Diagnostic]:
    """Literal operands of eq/ne/in/not_in/contains_*: a YAML number where a string is compared.

    A float inside a list operand (``["8.8", 8.10]``) is refused unless the fact
    holds numbers, as a float for eq is; for a fact holding strings (versions
    above all), no number or boolean can ever be equal, so any is refused.
    """
    out: list[Diagnostic] = []
    items = list(enumerate(v)) if isinstance(v, list) else [(None, v)]
    strings = kind in ("string", "version")
    what = "versions" if _is_version_fact(leaf.fact, kind) else "strings"
    for j, item in items:
        ip = vp if j is None else f"{vp}/{j}"
        if isinstance(item, str) or item is None:
            continue
        text = doc.written(ip, item)
        if ip in doc.float_text and kind != "number":
            if strings:
                msg = f"{text} is a YAML number (read as {item!r}); {leaf.fact} holds {what}: quote it: '{text}'"
            else:
                msg = f"{text} is a YAML number (read as {item!r}); quote versions: '{text}'"
            out.append(doc.diag(ip, msg, code=Code.POLICY_SEMANTIC))
        elif strings:
            out.append(doc.diag(ip, f"{leaf.fact} holds {what}, so {text} (a YAML {'boolean' if isinstance(item, bool) else 'number'}) never equals it: quote it: '{text}'", code=Code.POLICY_SEMANTIC))
    return out


def check_table_ref(ref: TableRef, ptr: str, doc: YamlDoc, tables: dict[str, Table]) -> list[Diagnostic]:
    """A lookup names an existing table and columns, and its where operands are facts or literals."""
    t = tables.get(ref.table)
    if t is None:
        return [doc.diag(f"{ptr}/table", f"unknown table {ref.table!r}; tables: {sorted(tables)}", code=Code.POLICY_SEMANTIC)]
    cols = {c for row in t.rows for c in row}
    out = []
    if t.rows and ref.column not in cols:
        out.append(doc.diag(f"{ptr}/column", f"table {ref.table} has no column {ref.column!r}", code=Code.POLICY_SEMANTIC))
    for k, operand in ref.where.items():
        if t.rows and k not in cols:
            out.append(doc.diag(f"{ptr}/where/{k}", f"table {ref.table} has no column {k!r}", code=Code.POLICY_SEMANTIC))
        if isinstance(operand, FactRef) and operand.fact not in fact_catalogue():
            out.append(doc.diag(f"{ptr}/where/{k}/fact", f"unknown fact {operand.fact!r}", code=Code.POLICY_SEMANTIC))
        elif isinstance(operand, FactRef) and fact_catalogue()[operand.fact] == "object":
            # A table cell is a value or a list of values: an object selects no row, ever.
            out.append(doc.diag(f"{ptr}/where/{k}/fact", f"table {ref.table} is looked up by a value; {operand.fact} is an object", code=Code.POLICY_SEMANTIC))
        elif isinstance(operand, Lit) and not isinstance(operand.value, (list, str)) and operand.value is not None:
            # A number where the column holds strings (versions) matches no row.
            wp = f"{ptr}/where/{k}"
            holds = {_cell_kind(row.get(k)) for row in t.rows} - {None}
            if "string" in holds or VERSION_COLUMN.match(k):
                lit = operand.value
                text = doc.written(wp, lit)
                out.append(doc.diag(wp, f"{doc.scalar_lead(wp, lit)}; column {k!r} of table {ref.table} holds {'versions' if VERSION_COLUMN.match(k) else 'strings'}: quote it: '{text}'", code=Code.POLICY_SEMANTIC))
    return out


def _cell_kind(v: Any) -> str | None:
    """'string' for a string or a list of strings, 'other' for any other value, None for null."""
    if v is None:
        return None
    if isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
        return "string"
    return "other"


_STRING_OPERANDS = (Operand.VERSION, Operand.SPECIFIER, Operand.REGEX, Operand.DATE)


def _string_columns_read(ref: TableRef, leaf: Leaf | None, rule_id: str) -> dict[str, str]:
    """Columns of ref.table a lookup compares with strings (versions): column -> why."""
    cat = fact_catalogue()
    out: dict[str, str] = {}
    if leaf is not None:
        spec = OPERATORS.get(leaf.op)
        kind = cat.get(leaf.fact)
        if (spec is not None and spec.operand in _STRING_OPERANDS) or kind in ("string", "version"):
            out[ref.column] = f"rule {rule_id} compares it with {leaf.fact} ({leaf.op})"
    for k, operand in ref.where.items():
        if isinstance(operand, FactRef) and cat.get(operand.fact) in ("string", "version"):
            out.setdefault(k, f"rule {rule_id} matches it with {operand.fact}")
    return out


def _lookups(value: OperandModel | None, leaf: Leaf) -> list[tuple[TableRef, Leaf | None]]:
    """Every table lookup of an operand (nested lookups in where too), with the leaf
    that compares its column (None for a nested lookup, matched against a column)."""
    return [(ref, leaf if ref is value else None) for ref in lookups(value)]


def _table_type_diagnostics(loaded: dict[str, "LoadedPack"]) -> list[Diagnostic]:
    """Columns that hold strings (versions) hold only strings, in every pack's own tables.

    A column holds strings when its name says it holds versions (``VERSION_COLUMN``),
    when a rule compares it with a string fact or a version operator (``min_version``
    of ``agent_minimum``, read by version_ge), or when the same table holds strings
    in it elsewhere: in another row, or in the table of a pack in the same
    inheritance line. So ``{min_version: 8.10}`` or ``{itms: 8.10}`` in a pack is
    refused as it is in a ``--data`` overlay, with its file:line:col.
    """
    children: dict[str, list[str]] = {}
    for pid, lp in loaded.items():
        if lp.pack.extends:
            children.setdefault(lp.pack.extends, []).append(pid)

    def line_of(pid: str) -> list[str]:
        seen = [pid]
        p = loaded[pid].pack.extends
        while p and p in loaded and p not in seen:
            seen.append(p)
            p = loaded[p].pack.extends
        todo = list(children.get(pid, []))
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.append(c)
                todo.extend(children.get(c, []))
        return seen

    reads: dict[str, dict[str, dict[str, str]]] = {}  # pack -> table -> column -> why

    def reads_of(q: str) -> dict[str, dict[str, str]]:
        if q not in reads:
            r: dict[str, dict[str, str]] = {}
            for rule in loaded[q].pack.rules:
                for part in (rule.when, rule.assert_):
                    for _, leaf in leaves(part):
                        for ref, cmp in _lookups(leaf.value, leaf):
                            cols = r.setdefault(ref.table, {})
                            for col, reason in _string_columns_read(ref, cmp, rule.id).items():
                                cols.setdefault(col, reason)
            reads[q] = r
        return reads[q]

    out: list[Diagnostic] = []
    for pid in sorted(loaded):
        lp = loaded[pid]
        if not lp.pack.tables:
            continue
        family = line_of(pid)
        for name, table in lp.pack.tables.items():
            why: dict[str, str] = {}
            for q in family:
                for col, reason in reads_of(q).get(name, {}).items():
                    why.setdefault(col, reason)
            for q in family:
                qt = loaded[q].pack.tables.get(name)
                for row in qt.rows if qt is not None else ():
                    for col, v in row.items():
                        if _cell_kind(v) == "string":
                            why.setdefault(col, "other rows hold strings" if q == pid else f"it holds strings in {q}'s table")
            for i, row in enumerate(table.rows):
                for col, v in row.items():
                    version_reason = why.get(col) or ("its name says it holds versions" if VERSION_COLUMN.match(col) else None)
                    if version_reason is None or v is None or isinstance(v, str):
                        continue
                    cells = list(enumerate(v)) if isinstance(v, list) else [(None, v)]
                    for j, cell in cells:
                        if isinstance(cell, str):
                            continue
                        cp = f"/tables/{name}/rows/{i}/{col}" + ("" if j is None else f"/{j}")
                        text = lp.doc.written(cp, cell)
                        if cp in lp.doc.float_text:
                            msg = f"{text} is a YAML number (read as {cell!r}); column {col!r} of table {name!r} holds strings ({version_reason}): write '{text}'"
                        else:
                            msg = f"column {col!r} of table {name!r} holds strings ({version_reason}); got {cell!r}: quote it: '{text}'"
                        out.append(lp.doc.diag(cp, msg, code=Code.POLICY_SEMANTIC))
    return out


def _resolve(loaded: dict[str, LoadedPack]) -> tuple[dict[str, EffectivePack], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    out: dict[str, EffectivePack] = {}

    def build(pid: str, stack: tuple[str, ...]) -> EffectivePack | None:
        if pid in out:
            return out[pid]
        lp = loaded[pid]
        p = lp.pack
        if pid in stack:
            diags.append(lp.doc.diag("/extends", f"pack inheritance cycle: {' -> '.join(stack + (pid,))}", code=Code.POLICY_EXTENDS))
            return None
        rules: list[Rule] = []
        tables: dict[str, Table] = {}
        rule_pack: dict[str, str] = {}
        chain: tuple[str, ...] = (pid,)
        sources: dict[str, Any] = {}
        if p.extends:
            if p.extends not in loaded:
                diags.append(lp.doc.diag("/extends", f"extends unknown pack {p.extends!r}", code=Code.POLICY_EXTENDS))
                return None
            parent = build(p.extends, stack + (pid,))
            if parent is None:
                return None
            rules = list(parent.rules)
            tables = dict(parent.tables)
            rule_pack = dict(parent.rule_pack)
            chain = (pid,) + parent.chain
            sources = dict(parent.sources)
        sources.update({s.id: s for s in p.sources})
        tables.update(p.tables)
        for i, rid in enumerate(p.remove_rules):
            if rid not in rule_pack:
                diags.append(lp.doc.diag(f"/remove_rules/{i}", f"remove_rules names {rid}, which {p.extends or 'no parent'} does not define", code=Code.POLICY_EXTENDS))
        rules = [r for r in rules if r.id not in p.remove_rules]
        index = {r.id: n for n, r in enumerate(rules)}
        for i, r in enumerate(p.rules):
            if r.id in index:
                if not r.overrides:
                    diags.append(lp.doc.diag(f"/rules/{i}/id", f"rule {r.id} is already defined by {rule_pack[r.id]}; set 'overrides: true' to replace it", code=Code.DUPLICATE_RULE))
                    continue
                rules[index[r.id]] = r
            else:
                if r.overrides:
                    diags.append(lp.doc.diag(f"/rules/{i}/overrides", f"rule {r.id} overrides nothing: no parent defines it", code=Code.POLICY_EXTENDS))
                index[r.id] = len(rules)
                rules.append(r)
            rule_pack[r.id] = pid
        if p.extends:
            # Table references could only be checked once inherited tables are known.
            for i, r in enumerate(p.rules):
                for part, cond in (("when", r.when), ("assert", r.assert_)):
                    for lptr, leaf in leaves(cond, f"/rules/{i}/{part}"):
                        if isinstance(leaf.value, TableRef):
                            diags.extend(check_table_ref(leaf.value, f"{lptr}/value", lp.doc, tables))
        e = EffectivePack(p.id, p.version, p.title, p.applies_to, chain, tuple(rules), tables, rule_pack, sources)
        out[pid] = e
        return e

    for pid in sorted(loaded):
        build(pid, ())
    return out, diags


def load_policies(
    policy_dirs: Iterable[str] = (),
    *,
    include_bundled: bool = True,
    files: Iterable[tuple[str, str]] = (),
    overlays: Iterable[str] = (),
) -> tuple[PolicySet, list[Diagnostic]]:
    """Load every pack (bundled, then --policy-dir); raise InputError listing every error.

    ``overlays`` are data overlay files (``--data``, engine/overlays.py), applied
    in order to the packs' tables before inheritance is resolved; the policy set
    records them in ``.overlays`` (path and sha256) for report provenance.
    Returns the policy set and the warnings (skipped files) that did not stop loading.
    """
    candidates: list[tuple[str, str, bool]] = []
    warnings: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    if include_bundled:
        candidates += [(p, d, True) for p, d in bundled_policy_files()]
    for d in policy_dirs:
        fs, ds = policy_dir_files(d)
        candidates += [(p, disp, False) for p, disp in fs]
        for diag in ds:
            (warnings if diag.level is Level.WARNING else errors).append(diag)
    candidates += [(p, d, False) for p, d in files]
    loaded: dict[str, LoadedPack] = {}
    for path, display, bundled in candidates:
        try:
            lp = load_pack_file(path, display, bundled=bundled)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        if lp.pack.id in loaded:
            other = loaded[lp.pack.id]
            errors.append(lp.doc.diag("/id", f"pack id {lp.pack.id} is also defined in {other.path}", code=Code.DUPLICATE_PACK))
            continue
        loaded[lp.pack.id] = lp
    # Table cells against what the rules and the other packs of the line read in
    # them; before overlays, whose rows are checked by engine/overlays.py.
    errors.extend(_table_type_diagnostics(loaded))
    applied: list[Any] = []
    overlay_paths = list(overlays)
    if overlay_paths and not errors:
        # Overlays need every pack loaded first (their tables are looked up by name).
        from .overlays import apply_overlays

        loaded, applied, odiags = apply_overlays(overlay_paths, loaded)
        errors.extend(odiags)
    effective, diags = _resolve(loaded)
    errors.extend(diags)
    if errors:
        raise InputError(errors + warnings)
    return PolicySet(list(loaded.values()), effective, applied), warnings
