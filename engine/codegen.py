"""Generated rule code: one Python function per role set, from the compiled rules.

The closures of engine/compiler.py stay the reference implementation; this
module writes the same decisions as straight-line Python, so a host's rules run
in one frame instead of a tree of calls.

The rule this module keeps (docs/policies.md, "Policies are data"): the source
text is built only from the templates below and from identifiers this module
makes up (``_p3``, ``_c7``, ``_L2``, ``r4``...). Every value that comes from a
policy, a data table or an overlay - fact path parts, constants, sets, and the
closures of leaves the templates do not cover - is bound as a name in the
namespace the code runs in, never written into the source, not even as repr().
The namespace's ``__builtins__`` holds only what the templates call. So a
policy string with quotes, newlines, ``__import__``, ``#`` or format braces
gives exactly the same source as a plain one (tests/test_codegen.py).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .compiler import AllNode, AnyNode, LeafNode, Node, NotNode
from .model import ERROR, FAIL, MISSING, NOT_APPLICABLE, PASS, UNKNOWN

Facts = dict[str, Any]

#: The only builtins generated code can reach: the names its templates use.
_BUILTINS: dict[str, Any] = {"type": type, "int": int, "float": float, "str": str, "list": list, "dict": dict}

#: Order comparisons by operator name: the compiler's own symbols, never policy text.
_ORDER = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}

#: Deeper than this (indentation levels), a condition is called as its closure:
#: Python's tokenizer stops at 100 levels, and such a policy is rare enough.
_MAX_DEPTH = 40

#: The name the function gets in its namespace (and in tracebacks' file name).
FUNCTION_NAME = "rules"


@dataclass
class _Writer:
    """Source lines and the namespace they will run in."""

    lines: list[str] = field(default_factory=list)
    names: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)  # first path part -> local holding it

    def bind(self, prefix: str, value: Any) -> str:
        """A fresh name bound to ``value`` in the namespace (values never enter the source)."""
        n = self.counters.get(prefix, 0)
        self.counters[prefix] = n + 1
        name = f"_{prefix}{n}"
        self.names[name] = value
        return name

    def local(self, prefix: str) -> str:
        """A fresh local variable name."""
        n = self.counters.get("local " + prefix, 0)
        self.counters["local " + prefix] = n + 1
        return f"{prefix}{n}"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _read(w: _Writer, path: str, var: str, depth: int) -> None:
    """``var = <value of the fact at path>``, None when absent or null (MISSING never escapes)."""
    parts = path.split(".")
    if len(parts) == 1:
        w.emit(depth, f"{var} = f.get({w.bind('p', parts[0])})")
    elif len(parts) == 2:
        sec = w.sections[parts[0]]
        w.emit(depth, f"{var} = {sec}.get({w.bind('p', parts[1])}) if {sec} is not None else None")
    else:
        from .compiler import make_getter

        w.emit(depth, f"{var} = {w.bind('g', make_getter(path))}(f)")
        w.emit(depth, f"if {var} is _MISSING:")
        w.emit(depth + 1, f"{var} = None")


def _leaf(w: _Writer, node: LeafNode, var: str, depth: int) -> None:
    shape = node.shape
    if shape is None or depth > _MAX_DEPTH:
        w.emit(depth, f"{var} = {w.bind('L', node.fast)}(f)")
        return
    kind = shape[0]
    if kind == "code":
        w.emit(depth, f"{var} = {int(shape[1])}")
        return
    v = w.local("v")
    _read(w, node.leaf.fact, v, depth)
    if kind == "presence":
        hit, miss = (PASS, FAIL) if shape[1] else (FAIL, PASS)
        w.emit(depth, f"{var} = {miss} if {v} is None else {hit}")
        return
    w.emit(depth, f"if {v} is None:")
    w.emit(depth + 1, f"{var} = {UNKNOWN}")
    if kind == "num":
        _, op, const = shape
        w.emit(depth, f"elif type({v}) is int or type({v}) is float:")
        w.emit(depth + 1, f"{var} = {PASS} if {v} {_ORDER[op]} {w.bind('c', const)} else {FAIL}")
        w.emit(depth, "else:")
        w.emit(depth + 1, f"{var} = {ERROR}")
    elif kind == "is":
        _, hit, miss, const = shape
        w.emit(depth, "else:")
        w.emit(depth + 1, f"{var} = {int(hit)} if {v} is {w.bind('c', const)} else {int(miss)}")
    elif kind in ("str_eq", "str_in"):
        _, hit, miss, const = shape
        test = "==" if kind == "str_eq" else "in"
        w.emit(depth, "else:")
        w.emit(depth + 1, f"{var} = {int(hit)} if type({v}) is str and {v} {test} {w.bind('c', const)} else {int(miss)}")
    elif kind == "num_in":
        # Numbers only (a bool is no number here, as `in` holds it); anything else is
        # never a member (and a list or an object is never hashed).
        _, hit, miss, const = shape
        w.emit(depth, f"elif (type({v}) is int or type({v}) is float) and {v} in {w.bind('c', const)}:")
        w.emit(depth + 1, f"{var} = {int(hit)}")
        w.emit(depth, "else:")
        w.emit(depth + 1, f"{var} = {int(miss)}")
    elif kind == "set":
        # A member that cannot be hashed (a list or an object inside the list) raises
        # TypeError in the set method, or, where the method stops early at a shared
        # member (``whole``), in frozenset(): the operator's error outcome.
        _, method, hit, miss, whole = shape
        w.emit(depth, f"elif type({v}) is not list:")
        w.emit(depth + 1, f"{var} = {ERROR}")
        w.emit(depth, "else:")
        w.emit(depth + 1, "try:")
        if whole:
            w.emit(depth + 2, f"if {w.bind('m', method)}({v}):")
            w.emit(depth + 3, f"{var} = {int(hit)}")
            w.emit(depth + 2, "else:")
            w.emit(depth + 3, f"{w.bind('W', frozenset)}({v})")
            w.emit(depth + 3, f"{var} = {int(miss)}")
        else:
            w.emit(depth + 2, f"{var} = {int(hit)} if {w.bind('m', method)}({v}) else {int(miss)}")
        w.emit(depth + 1, f"except {w.bind('X', TypeError)}:")
        w.emit(depth + 2, f"{var} = {ERROR}")
    elif kind == "memo":
        # The leaf's own memo of outcomes by string (version comparisons); a miss, or a
        # value that is no string, asks the leaf's closure, which fills the memo.
        _, memo, closure = shape
        w.emit(depth, "else:")
        w.emit(depth + 1, f"{var} = {w.bind('M', memo)}.get({v}) if type({v}) is str else None")
        w.emit(depth + 1, f"if {var} is None:")
        w.emit(depth + 2, f"{var} = {w.bind('L', closure)}(f)")
    elif kind == "fact_eq":
        # eq/ne of two facts: equal is == with the same type, or two numbers (1 == 1.0;
        # a bool is no number). Either fact absent: unknown.
        _, hit, miss, path = shape
        r = _second_fact(w, path, "o", var, depth)
        num_v = f"(type({v}) is int or type({v}) is float)"
        num_r = f"(type({r}) is int or type({r}) is float)"
        w.emit(depth + 1, f"elif type({v}) is type({r}) or {num_v} and {num_r}:")
        w.emit(depth + 2, f"{var} = {int(hit)} if {v} == {r} else {int(miss)}")
        w.emit(depth + 1, "else:")
        w.emit(depth + 2, f"{var} = {int(miss)}")
    elif kind == "pair_memo":
        # A version comparison of two facts: the leaf's memo of outcomes by pair of
        # strings; a miss, or a value that is no string, asks the leaf's closure.
        _, memo, closure, path = shape
        r = _second_fact(w, path, "o", var, depth)
        w.emit(depth + 1, "else:")
        w.emit(depth + 2, f"{var} = {w.bind('M', memo)}.get(({v}, {r})) if type({v}) is str and type({r}) is str else None")
        w.emit(depth + 2, f"if {var} is None:")
        w.emit(depth + 3, f"{var} = {w.bind('L', closure)}(f)")
    elif kind == "table_in":
        # in/not_in the column of the rows a key fact selects: the key's set of plain
        # values (a key with no rows: the empty set). A key of another type (a list, an
        # object) or a key whose values are not all plain: the closure decides.
        _, present, absent, sets, closure, path = shape
        k = _second_fact(w, path, "k", var, depth)
        e = w.local("e")
        w.emit(depth + 1, "else:")
        scalar = f"type({k}) is str or type({k}) is int or type({k}) is float or type({k}) is {w.bind('B', bool)}"
        w.emit(depth + 2, f"{e} = {w.bind('T', sets)}.get({k}, {w.bind('E', frozenset())}) if {scalar} else None")
        w.emit(depth + 2, f"if {e} is None:")
        w.emit(depth + 3, f"{var} = {w.bind('L', closure)}(f)")
        w.emit(depth + 2, f"elif (type({v}) is str or type({v}) is int or type({v}) is float) and {v} in {e}:")
        w.emit(depth + 3, f"{var} = {int(present)}")
        w.emit(depth + 2, "else:")
        w.emit(depth + 3, f"{var} = {int(absent)}")
    else:  # pragma: no cover - a shape this module does not know: its closure decides
        w.emit(depth, "else:")
        w.emit(depth + 1, f"{var} = {w.bind('L', node.fast)}(f)")


def _second_fact(w: _Writer, path: str, prefix: str, var: str, depth: int) -> str:
    """``else:`` the other fact a leaf reads into a fresh local; absent: ``var`` is unknown.
    The caller goes on at ``depth + 1`` with ``elif``/``else`` for a present value."""
    r = w.local(prefix)
    w.emit(depth, "else:")
    _read(w, path, r, depth + 1)
    w.emit(depth + 1, f"if {r} is None:")
    w.emit(depth + 2, f"{var} = {UNKNOWN}")
    return r


def _node(w: _Writer, node: Node, var: str, depth: int) -> None:
    """Code that leaves ``node``'s outcome (the value ``node.fast(f)`` returns) in ``var``."""
    if depth > _MAX_DEPTH:
        w.emit(depth, f"{var} = {w.bind('N', node.fast)}(f)")
        return
    if isinstance(node, LeafNode):
        _leaf(w, node, var, depth)
    elif isinstance(node, NotNode):
        _node(w, node.child, var, depth)
        w.emit(depth, f"if {var} < {UNKNOWN}:")  # pass <-> fail; unknown and error stay
        w.emit(depth + 1, f"{var} = {PASS + FAIL} - {var}")
    elif isinstance(node, (AllNode, AnyNode)):
        # all: the first fail decides; else the worst of pass < unknown < error.
        # any: the first pass decides; else the worst of fail < unknown < error.
        # Both stop at the deciding part, as the closures do.
        stop = FAIL if isinstance(node, AllNode) else PASS
        children = node.children
        _node(w, children[0], var, depth)
        d = depth
        for child in children[1:]:
            w.emit(d, f"if {var} != {stop}:")
            d += 1
            t = w.local("t")
            _node(w, child, t, d)
            w.emit(d, f"if {t} == {stop} or {t} > {var}:")
            w.emit(d + 1, f"{var} = {t}")
    else:  # pragma: no cover - a node type this module does not know
        w.emit(depth, f"{var} = {w.bind('N', node.fast)}(f)")


def _sections(nodes: Sequence[Node], out: dict[str, None]) -> None:
    """First parts of the two-part paths the templates read inline, in order."""
    for node in nodes:
        if isinstance(node, LeafNode):
            if node.shape is None or node.shape[0] == "code":
                continue
            paths = [node.leaf.fact] + ([node.shape[-1]] if node.shape[0] in ("fact_eq", "pair_memo", "table_in") else [])
            for path in paths:
                parts = path.split(".")
                if len(parts) == 2:
                    out.setdefault(parts[0], None)
        elif isinstance(node, NotNode):
            _sections([node.child], out)
        elif isinstance(node, (AllNode, AnyNode)):
            _sections(node.children, out)


@dataclass(frozen=True)
class RuleCode:
    """What a role set's rules are made of, for the generator: per rule, its
    applicability (``when``) and check nodes, or None for a rule whose outcome is
    fixed (``fixed``: unknown when the host's roles are not known)."""

    when: Node | None
    check: Node | None
    fixed: int | None = None


@dataclass(frozen=True)
class Generated:
    """Generated source, the namespace it runs in, and the function it defines."""

    source: str
    names: dict[str, Any]
    function: Callable[[Facts], list[int]]


def generate(rules: Sequence[RuleCode]) -> Generated:
    """One function ``rules(f) -> [outcome code per rule]`` for a role set's rules."""
    w = _Writer()
    sections: dict[str, None] = {}
    _sections([n for r in rules for n in (r.when, r.check) if n is not None], sections)
    w.emit(0, f"def {FUNCTION_NAME}(f):")
    for first in sections:
        sec = w.sections[first] = w.local("s")
        w.emit(1, f"{sec} = f.get({w.bind('p', first)})")
        w.emit(1, f"if type({sec}) is not dict:")
        w.emit(2, f"{sec} = None")
    out: list[str] = []
    for i, r in enumerate(rules):
        var = f"r{i}"
        out.append(var)
        if r.fixed is not None or r.check is None:
            w.emit(1, f"{var} = {int(r.fixed if r.fixed is not None else UNKNOWN)}")
            continue
        if r.when is None:
            _node(w, r.check, var, 1)
            continue
        _node(w, r.when, var, 1)
        w.emit(1, f"if {var} == {FAIL}:")
        w.emit(2, f"{var} = {NOT_APPLICABLE}")  # the rule does not apply
        w.emit(1, f"elif {var} == {PASS}:")
        _node(w, r.check, var, 2)
    w.emit(1, "return [" + ", ".join(out) + "]")
    return _load(w, FUNCTION_NAME)


def _load(w: _Writer, name: str) -> Generated:
    """Run the written source in its namespace; the function it defines."""
    source = "\n".join(w.lines) + "\n"
    namespace: dict[str, Any] = {"__builtins__": dict(_BUILTINS), "_MISSING": MISSING, **w.names}
    # The one exec site of the engine (allowed, with its reasons, in tests/test_hardening.py).
    exec(compile(source, "<sitegate generated rules>", "exec"), namespace)  # noqa: S102
    return Generated(source, w.names, namespace[name])


#: The name of a generated key reader (generate_reader).
READER_NAME = "read"


def generate_reader(paths: Sequence[str], *, roles_known: bool = False) -> Generated:
    """One function ``read(f) -> tuple`` of the values at ``paths`` (None where absent or
    null), for the finding memo's key (engine/rules.py): straight-line code instead of a
    loop over the paths.

    The tuple is a fixed permutation of the values: with ``roles_known`` first whether
    ``derived.roles`` is known, then the one-part paths, then the others grouped by
    their first part. Every object on the way (``iis``, ``iis.request_filtering``) is
    looked up once, None unless it is an object. Path parts are bound names, as in
    :func:`generate`.
    """
    w = _Writer()
    sections: dict[tuple[str, ...], str] = {}

    def section(prefix: tuple[str, ...]) -> str:
        """The local holding the object at ``prefix`` (None unless a dict), emitted once."""
        var = sections.get(prefix)
        if var is None:
            where = "f" if len(prefix) == 1 else section(prefix[:-1])
            var = sections[prefix] = w.local("s")
            get = f"{where}.get({w.bind('p', prefix[-1])})"
            w.emit(1, f"{var} = {get}" if where == "f" else f"{var} = {get} if {where} is not None else None")
            w.emit(1, f"if type({var}) is not dict:")
            w.emit(2, f"{var} = None")
        return var

    def value(parts: tuple[str, ...]) -> str:
        if len(parts) == 1:
            return f"f.get({w.bind('p', parts[0])})"
        sec = section(parts[:-1])
        return f"({sec}.get({w.bind('p', parts[-1])}) if {sec} is not None else None)"

    tops: list[tuple[str, ...]] = []
    groups: dict[str, tuple[list[tuple[str, ...]], list[tuple[str, ...]]]] = {}
    for path in paths:
        parts = tuple(path.split("."))
        if len(parts) == 1:
            tops.append(parts)
        else:
            two, deep = groups.setdefault(parts[0], ([], []))
            (two if len(parts) == 2 else deep).append(parts)
    w.emit(0, f"def {READER_NAME}(f):")
    items: list[str] = []
    if roles_known:
        items.append(f"{value(('derived', 'roles'))} is not None")
    items.extend(value(t) for t in tops)
    for two, deep in groups.values():
        items.extend(value(p) for p in two + deep)
    w.emit(1, "return (" + "".join(i + ", " for i in items) + ")")
    return _load(w, READER_NAME)


def review_text(generated: Generated) -> str:
    """The generated source followed by what each bound name holds, for a reviewer.

    The values are shown with repr() here, in text for people: in the code that
    runs they are only ever names.
    """
    lines = [generated.source.rstrip("\n"), "", "# Names bound in the namespace the function runs in:"]
    for name, value in generated.names.items():
        owner = getattr(value, "__self__", None)
        if isinstance(owner, frozenset):  # a set's bound method: show the set it tests, sorted
            text = f"<{value.__qualname__} of {{{', '.join(sorted(repr(x) for x in owner))}}}>"
        elif isinstance(value, type):
            text = f"<class {value.__name__}>"
        else:
            shown = getattr(value, "__qualname__", None) if callable(value) else None
            text = f"<closure {shown}>" if shown else repr(value)
        lines.append(f"#   {name} = {text}")
    return "\n".join(lines) + "\n"


def compiled_rule_source(policies: Any, rule_id: str, target: str | None = None) -> str:
    """The generated code of one rule, as ``sitegate policies show --compiled RULE`` prints it.

    ``target`` picks the packs (their tables) the rule is compiled against; by default
    the oldest known release whose packs hold the rule. Raises KeyError for a rule
    no pack (for that target) defines.
    """
    from .rules import Evaluator
    from .examples import KNOWN_RELEASES

    targets = [target] if target else list(KNOWN_RELEASES)
    ev = Evaluator(policies)
    for t in targets:
        rs = ev.ruleset(t)
        if rs is None:
            continue
        for cr in rs.rules:
            if cr.id == rule_id:
                head = f"# {rule_id}, compiled for ITMS {t} ({', '.join(rs.labels)})"
                if cr.roles is not None:
                    head += f"\n# Runs only for hosts with a role of: {', '.join(sorted(cr.roles))} (decided before this code)"
                return head + "\n" + review_text(generate([RuleCode(cr.when, cr.check)]))
    raise KeyError(rule_id)
