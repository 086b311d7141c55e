"""Safe YAML loading with a line map kept beside the data.

Policies, waivers, data overlays and column mappings are YAML written by
people. This loader composes the node tree with PyYAML's safe loader, then
builds plain data itself so that it can:

- keep ``pointer -> (line, column)`` in a side table (never keys in the data);
- refuse every tag beyond the YAML core schema (``!!python/object`` and kin);
- report duplicate keys, which PyYAML silently lets the last one win;
- bound alias expansion (the "billion laughs" document) and file size;
- remember the source text of floats, so ``version: 8.10`` can be reported
  as "reads as 8.1, quote it" rather than silently becoming 8.1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Any

import yaml

from .diagnostics import Code, Diagnostic, InputError, nearest_position, pointer_join
from .textio import decode, read_limited

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000
MAX_FLOW_DEPTH = 256

_CORE = "tag:yaml.org,2002:"
_BRACKETS = re.compile(r"[\[\]{}]")
_SCALAR_TAGS = {"str", "int", "float", "bool", "null", "timestamp"}
_STR_TAG = _CORE + "str"


@dataclass
class YamlDoc:
    """A loaded YAML document: the plain data and where each value came from."""

    source: str
    data: Any
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    float_text: dict[str, str] = field(default_factory=dict)

    def locate(self, pointer: str) -> tuple[int, int]:
        """Line and column of pointer, or of its nearest ancestor that has one."""
        return nearest_position(self.positions, pointer, (1, 1))

    def diag(self, pointer: str, message: str, *, code: Code = Code.INPUT, **kw: Any) -> Diagnostic:
        """A diagnostic at pointer in this document."""
        line, col = self.locate(pointer)
        return Diagnostic(self.source, message, line, col, pointer, code=code, **kw)

    def written(self, pointer: str, value: Any) -> str:
        """How a scalar at pointer was written (``8.10`` for the float 8.1, ``true``), for messages."""
        return self.float_text.get(pointer) or (str(value).lower() if isinstance(value, bool) else str(value))

    def scalar_lead(self, pointer: str, value: Any) -> str:
        """'8.10 is a YAML number (read as 8.1)', '9 is a YAML number', 'true is a YAML boolean':
        the start of a message about a non-string where a string belongs."""
        text = self.written(pointer, value)
        if pointer in self.float_text:
            return f"{text} is a YAML number (read as {value!r})"
        return f"{text} is a YAML {'boolean' if isinstance(value, bool) else 'number'}"


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.positions: dict[str, tuple[int, int]] = {}
        self.float_text: dict[str, str] = {}
        self.errors: list[Diagnostic] = []
        self.count = 0

    def _err(self, node: yaml.Node, pointer: str, message: str, code: Code) -> None:
        m = node.start_mark
        self.errors.append(
            Diagnostic(self.source, message, m.line + 1, m.column + 1, pointer, code=code)
        )

    def build(self, node: yaml.Node, pointer: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node)
        self.positions.setdefault(pointer, (node.start_mark.line + 1, node.start_mark.column + 1))
        tag = node.tag or ""
        if isinstance(node, yaml.MappingNode):
            if tag != _CORE + "map":
                self._err(node, pointer, f"tag {tag!r} is not allowed in policy data", Code.YAML_TAG)
            out: dict[str, Any] = {}
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    self._err(knode, pointer, "mapping keys must be plain strings", Code.YAML_KEY)
                    continue
                if knode.tag == _CORE + "merge":
                    self._err(knode, pointer, "merge keys ('<<') are not supported", Code.YAML_KEY)
                    continue
                key = str(knode.value)
                child = pointer_join(pointer, key)
                if key in out:
                    first = self.positions.get(child, (0, 0))[0]
                    self._err(knode, child, f"duplicate key {key!r} (first at line {first})", Code.DUPLICATE_KEY)
                    continue
                out[key] = self.build(vnode, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            if tag != _CORE + "seq":
                self._err(node, pointer, f"tag {tag!r} is not allowed in policy data", Code.YAML_TAG)
            # An index needs no escaping: f"{pointer}/{i}" is pointer_join(pointer, i).
            return [self.build(n, f"{pointer}/{i}") for i, n in enumerate(node.value)]
        # Scalar
        if tag == _STR_TAG:
            return node.value  # what the safe constructor returns for a string, without its calls
        short = tag[len(_CORE):] if tag.startswith(_CORE) else None
        if short not in _SCALAR_TAGS:
            self._err(node, pointer, f"tag {tag!r} is not allowed in policy data", Code.YAML_TAG)
            return None
        if short == "timestamp":
            return node.value  # dates stay text; models parse them
        if short == "float":
            self.float_text[pointer] = node.value
        return yaml.SafeLoader.yaml_constructors[tag](_CONSTRUCTOR, node)


class _TooBig(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


_CONSTRUCTOR = yaml.SafeLoader("")
# libyaml's parser builds the same node tree (same tags, same marks) about ten
# times faster: 0.01 s instead of 0.12 s for the bundled packs, on every run.
_COMPOSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_text(text: str, source: str) -> YamlDoc:
    """Load one YAML document from text; raise InputError with every problem found."""
    if text.count("[") + text.count("{") > MAX_FLOW_DEPTH:
        # Refuse deep flow nesting before PyYAML spends seconds parsing it, then recursing.
        depth = _flow_depth_exceeded(text)
        if depth is not None:
            raise InputError([Diagnostic(source, f"the document nests more than {MAX_FLOW_DEPTH} levels deep", depth[0], depth[1], code=Code.TOO_DEEP)])
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if "maximum nesting depth" in (exc.problem or ""):  # libyaml's own limit
            raise InputError([Diagnostic(source, "the document nests too deeply", line, col, code=Code.TOO_DEEP)]) from None
        msg = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise InputError([Diagnostic(source, f"invalid YAML: {msg}", line, col, code=Code.YAML_SYNTAX)]) from None
    except yaml.YAMLError as exc:
        raise InputError([Diagnostic(source, f"invalid YAML: {exc}", 1, 1, code=Code.YAML_SYNTAX)]) from None
    except RecursionError:
        # PyYAML's composer recurses once per level: thousands of '[' exhaust the stack.
        line, col = _deepest_point(text)
        raise InputError([Diagnostic(source, "the document nests too deeply", line, col, code=Code.TOO_DEEP)]) from None
    if node is None:
        raise InputError([Diagnostic(source, "the file is empty: a YAML mapping was expected", 1, 1, code=Code.EMPTY)])
    deep = _too_deep(node)
    if deep is not None:
        # libyaml composes up to 1,000 levels; the builder recurses once per level.
        m = deep.start_mark
        raise InputError([Diagnostic(source, "the document nests too deeply", m.line + 1, m.column + 1, code=Code.TOO_DEEP)])
    b = _Builder(source)
    try:
        data = b.build(node, "")
    except _TooBig as exc:
        m = exc.node.start_mark
        raise InputError(
            [
                Diagnostic(
                    source,
                    f"the document expands to more than {MAX_NODES} values (alias bomb?)",
                    m.line + 1,
                    m.column + 1,
                    code=Code.TOO_LARGE,
                )
            ]
        ) from None
    except RecursionError:
        raise InputError([Diagnostic(source, "the document nests too deeply", 1, 1, code=Code.TOO_DEEP)]) from None
    if b.errors:
        raise InputError(b.errors)
    return YamlDoc(source, data, b.positions, b.float_text)


def _flow_depth_exceeded(text: str) -> tuple[int, int] | None:
    """Line and column of the first '[' or '{' nested deeper than MAX_FLOW_DEPTH, if any.

    Brackets inside quotes and comments count too: no real policy comes close.
    """
    depth = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                return line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        else:
            depth = max(0, depth - 1)
    return None


MAX_NEST_DEPTH = 200  # far beyond any policy (about 10 levels), far below the builder's recursion limit


def _too_deep(root: yaml.Node, limit: int = MAX_NEST_DEPTH) -> yaml.Node | None:
    """A node whose subtree nests deeper than limit (aliases followed, each node measured
    once, so an alias bomb costs no more than its distinct nodes; a cycle counts as too
    deep); None when the document is within the limit. No recursion."""
    if _plainly_shallow(root, limit):
        return None
    return _too_deep_exact(root, limit)


def _too_deep_exact(root: yaml.Node, limit: int = MAX_NEST_DEPTH) -> yaml.Node | None:
    """_too_deep's answer, measuring every node's height (the first pass aside)."""
    height: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            kids = _children(node)
            h = 1 + max((height[id(k)] for k in kids), default=0)
            if h > limit:
                return node
            height[key] = h
            continue
        if key in height:
            continue
        if key in open_:
            return node  # an alias to an enclosing node: nests without end
        open_.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in height)
    return None


def _plainly_shallow(root: yaml.Node, limit: int) -> bool:
    """True when no node is reached twice (no alias) and no node lies more than
    ``limit`` levels below the root: then no subtree is deeper than ``limit`` and
    _too_deep has nothing to find. One cheap pass for the documents people write;
    anything else (an alias, a deep path) gets the exact measure."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    push = stack.append
    mapping, sequence = yaml.MappingNode, yaml.SequenceNode
    while stack:
        node, depth = stack.pop()
        key = id(node)
        if depth > limit or key in seen:
            return False
        seen.add(key)
        if isinstance(node, mapping):
            depth += 1
            for k, v in node.value:
                push((k, depth))
                push((v, depth))
        elif isinstance(node, sequence):
            depth += 1
            for v in node.value:
                push((v, depth))
    return True


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [x for kv in node.value for x in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _deepest_point(text: str, limit: int = 200) -> tuple[int, int]:
    """Line and column where flow nesting first exceeds limit (else of the deepest indent)."""
    depth = 0
    line, col = 1, 1
    for ch in text:
        if ch == "\n":
            line, col = line + 1, 1
            continue
        if ch in "[{":
            depth += 1
            if depth > limit:
                return line, col
        elif ch in "]}":
            depth -= 1
        col += 1
    lines = text.splitlines() or [""]
    deepest = max(range(len(lines)), key=lambda i: len(lines[i]) - len(lines[i].lstrip(" ")))
    return deepest + 1, len(lines[deepest]) - len(lines[deepest].lstrip(" ")) + 1


def load_yaml_file(path: str, display: str | None = None, *, max_bytes: int = MAX_BYTES) -> YamlDoc:
    """Read, decode and load a YAML file with size and safety limits."""
    source = display or path
    return load_yaml_bytes(read_yaml_bytes(path, source, max_bytes=max_bytes), source)


def read_yaml_bytes(path: str, source: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a YAML file, or InputError (missing, a directory, over max_bytes)."""
    return read_limited(
        path, source, max_bytes, expected="a YAML file",
        too_large=f"file is larger than the {max_bytes // 1024 // 1024} MiB limit for YAML inputs",
    )


def load_yaml_bytes(raw: bytes, source: str) -> YamlDoc:
    """Decode and load the bytes of a YAML file (read with ``read_yaml_bytes``)."""
    text = decode(raw, source)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError([Diagnostic(source, "contains a NUL character: not a text file", line, 1, code=Code.BINARY)])
    return load_yaml_text(text, source)
