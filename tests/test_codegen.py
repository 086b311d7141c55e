"""Generated rule code (engine/codegen.py): no policy value ever becomes source text,
and the generated function decides exactly as the reference closures do."""
from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitegate.engine.codegen import FUNCTION_NAME, RuleCode, compiled_rule_source, generate
from sitegate.engine.compiler import compile_condition
from sitegate.engine.evaluate import HostEvaluator, as_items
from sitegate.engine.options import EvalSettings, Options
from sitegate.engine.rules import Evaluator, plan_code, rule_reads
from sitegate.engine.examples import KNOWN_RELEASES, iter_examples
from sitegate.engine.packs import load_policies
from sitegate.engine.policy import AllOf, Lit, leaves, lookups
from .fact_paths import put

# ---------------------------------------------------------------- (a) values never enter the source

WEIRD = {
    "S1": "k'\"\n#}{",
    "S2": "__import__('os').system('echo pwned')",
    "S3": "title with \"quotes\" and 'single' and {braces} {0} {host!r:>{w}}",
    "S5": "caption\nwith newline # and a comment\\",
    "S6": "'''\"\"\"",
    "S7": "{__class__.__mro__}",
    "S8": "#\"'__import__\n",
    "S9": "message with 'quotes' and a # hash on {host}",
    "S10": ")\nimport os\n(",
}
PLAIN = {k: f"plain{i}" + (" {host}" if k == "S9" else "") for i, k in enumerate(WEIRD)}

PACK = """\
schema: sitegate/policy/v1
id: weird
version: "1.0.0"
title: Strings of every kind
applies_to: ">=8.0"
sources:
  - {id: s, title: S, url: "https://example.invalid/s", confidence: low}
tables:
  names:
    description: A table whose cells are policy strings too.
    confidence: low
    source: "https://example.invalid/s"
    key: [k]
    rows:
      - {k: S1, v: S2}
      - {k: S6, v: S7}
rules:
  - id: WEIRD-1
    title: S3
    description: S3
    severity: warning
    confidence: low
    source: "https://example.invalid/s"
    assert:
      all:
        - {fact: os.caption, op: eq, value: S5}
        - {fact: os.edition, op: in, value: [S6, S7]}
        - {fact: agent.version, op: version_ge, value: "8.7"}
        - {not: {fact: os.caption, op: eq, value: {table: names, column: v, where: {k: S1}, single: true}}}
        - {fact: os.caption, op: ne, value: {table: names, column: v, where: {k: S6}, single: true}}
        - {fact: os.caption, op: matches, value: S8}
        - {any: [{fact: iis.features, op: contains_all, value: [S1, S2]}, {fact: os.build, op: ge, value: 17763}]}
        - {any: [{fact: iis.features, op: contains_none, value: {table: names, column: v}}, {fact: os.build, op: not_in, value: [1, 2.5]}]}
    message: S9
    remediation: S10
    examples:
      pass: [{facts: {}}]
      fail: [{facts: {}}]
"""


def _pack(tmp_path: Path, strings: dict[str, str], name: str) -> Any:
    text = PACK
    for key in sorted(strings, key=len, reverse=True):  # S10 before S1
        text = text.replace(key, json.dumps(strings[key]))
    d = tmp_path / name
    d.mkdir()
    (d / "weird.yaml").write_text(text, "utf-8")
    ps, _ = load_policies([str(d)], include_bundled=False)
    return ps


def _generated(ps: Any) -> Any:
    rs = Evaluator(ps).ruleset("8.7.3")
    assert rs is not None
    plan = rs.plan(None)
    return generate(plan_code(plan.funcs, plan.rules))


def test_policy_strings_never_change_the_generated_source(tmp_path: Path) -> None:
    weird = _generated(_pack(tmp_path, WEIRD, "weird"))
    plain = _generated(_pack(tmp_path, PLAIN, "plain"))
    assert weird.source == plain.source
    # The values are there, as bound names only.
    bound = [v for v in weird.names.values() if isinstance(v, str)]
    bound += [x for v in weird.names.values() if isinstance(v, frozenset) for x in v]
    for text in (WEIRD["S5"], WEIRD["S6"], WEIRD["S7"]):
        assert text in bound
        assert text not in weird.source
    assert "__import__" not in weird.source and "#" not in weird.source and "'" not in weird.source


ALLOWED_BUILTINS = {"type", "int", "float", "str", "list", "dict"}


def _check_source_shape(source: str, names: dict[str, Any]) -> None:
    """Only template constructs: no string constant at all, ints 0..4 only, every
    name a local, a bound value or an allowed builtin, one attribute (.get)."""
    tree = ast.parse(source)
    (fn,) = tree.body
    assert isinstance(fn, ast.FunctionDef) and fn.name == FUNCTION_NAME and [a.arg for a in fn.args.args] == ["f"]
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            assert node.value is None or (type(node.value) is int and 0 <= node.value <= 4), ast.dump(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            assert node.id in stored or node.id == "f" or node.id in names or node.id == "_MISSING" or node.id in ALLOWED_BUILTINS, node.id
        elif isinstance(node, ast.Attribute):
            assert node.attr == "get", node.attr
        elif isinstance(node, ast.Call):
            # Calls of bound closures and methods, type(), and .get(): nothing else.
            assert isinstance(node.func, (ast.Name, ast.Attribute)), ast.dump(node)
            if isinstance(node.func, ast.Name):
                assert node.func.id in names or node.func.id == "type", node.func.id
        else:
            forbidden = (ast.Import, ast.ImportFrom, ast.Lambda, ast.JoinedStr, ast.Subscript, ast.ClassDef, ast.Global, ast.Nonlocal)
            assert not isinstance(node, forbidden), ast.dump(node)


def test_generated_source_is_only_templates(tmp_path: Path) -> None:
    g = _generated(_pack(tmp_path, WEIRD, "weird"))
    _check_source_shape(g.source, g.names)


@pytest.mark.parametrize("roles", [None, "all"])
def test_generated_code_gets_only_the_builtins_its_templates_use(roles: str | None) -> None:
    ps, _ = load_policies()
    rs = Evaluator(ps).ruleset("8.7.3")
    assert rs is not None
    # Without roles, role-bound rules are fixed outcomes; with every role, all are code.
    plan = rs.plan(None if roles is None else sorted({r for rule in RULES.values() for r in rule.roles or ()}))
    g = generate(plan_code(plan.funcs, plan.rules))
    _check_source_shape(g.source, g.names)
    builtins = g.function.__globals__["__builtins__"]
    assert set(builtins) == ALLOWED_BUILTINS
    assert "__import__" not in builtins and "open" not in builtins and "eval" not in builtins


# ---------------------------------------------------------------- (b) generated == reference

PS, _ = load_policies()
TARGETS = [t for t in KNOWN_RELEASES if PS.select(t)]
RULES = {r.id: r for e in PS.effective.values() for r in e.rules}
PATHS = sorted({p for r in RULES.values() for p in rule_reads(r)})
EXAMPLE_FACTS = [dict(ex.facts) for r in RULES.values() for _, _, ex in iter_examples(r)]


def _values_seen() -> dict[str, list[Any]]:
    """For each fact path, the values the bundled examples give it: realistic values, so
    the random hosts reach past the first comparison of a rule."""
    seen: dict[str, list[Any]] = {p: [] for p in PATHS}
    for facts in EXAMPLE_FACTS:
        for p in PATHS:
            o: Any = facts
            for part in p.split("."):
                o = o.get(part) if isinstance(o, dict) else None
            if o is not None and o not in seen[p]:
                seen[p].append(o)
    return seen


def _constants() -> dict[str, list[Any]]:
    """For each fact path, the constants rules compare it with (literals and table cells):
    the boundaries where < and <=, == and != part."""
    out: dict[str, list[Any]] = {}
    for e in PS.effective.values():
        for r in e.rules:
            for cond in (r.when, r.assert_):
                for _, leaf in leaves(cond):
                    vals = out.setdefault(leaf.fact, [])
                    if isinstance(leaf.value, Lit):
                        lit = leaf.value.value
                        vals.extend([lit] + (list(lit) if isinstance(lit, list) else []))
                    for ref in lookups(leaf.value):
                        vals.extend(row[ref.column] for row in e.tables[ref.table].rows if row.get(ref.column) is not None)
    return out


SEEN = _values_seen()
for _path, _consts in _constants().items():
    SEEN.setdefault(_path, []).extend(c for c in _consts if c not in SEEN[_path])
ROLES = sorted({r for rule in RULES.values() for r in rule.roles or ()} | {"notification_server", "sql"})
anything = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2_000_000), st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "8.7", "8.7.3", "8.10", "not-a-version", "2025-10-14", "2027-01-12T00:00:00Z", "x86", "x64", "Standard", "server", "desktop"]),
    st.lists(st.sampled_from(["Web-ASP", "Web-WMI", "NET-Framework-45-ASPNET", "a", ""]), max_size=4),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
)


def _value(path: str) -> st.SearchStrategy[Any]:
    seen = SEEN.get(path) or []
    return st.one_of(st.sampled_from(seen), anything) if seen else anything


@st.composite
def raw_hosts(draw: st.DrawFn) -> dict[str, Any]:
    facts = copy.deepcopy(draw(st.sampled_from(EXAMPLE_FACTS)))
    for path in draw(st.lists(st.sampled_from(PATHS), max_size=12, unique=True)):
        put(facts, path, draw(_value(path)), none_removes=True)
    facts.setdefault("derived", {})
    if not isinstance(facts["derived"], dict):
        facts["derived"] = {}
    facts["derived"]["roles"] = draw(st.one_of(st.none(), st.lists(st.sampled_from(ROLES), max_size=3, unique=True)))
    return facts


def _outcomes(run: Any, f: dict[str, Any]) -> Any:
    try:
        return run(f)
    except Exception as exc:  # noqa: BLE001 - both sides must fail alike
        return ("raised", type(exc).__name__)


GEN = Evaluator(PS)
REF = Evaluator(PS, generated=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(f=raw_hosts(), target=st.sampled_from(TARGETS))
def test_generated_outcomes_equal_the_closures_on_random_facts(f: dict[str, Any], target: str) -> None:
    """Every bundled rule, every target: raw facts of any type, straight into the plan."""
    f["context"] = {"target": target, "audit_date": "2026-11-29"}
    roles = f["derived"].get("roles")
    gen, ref = GEN.ruleset(target), REF.ruleset(target)
    assert gen is not None and ref is not None
    g, r = gen.plan(roles), ref.plan(roles)
    assert [c.id for c in g.rules] == [c.id for c in r.rules]
    assert g.run is not r.run
    assert _outcomes(g.run, f) == _outcomes(r.run, f) == _outcomes(lambda h: [fn(h) for fn in r.funcs], f)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hosts=st.lists(raw_hosts(), min_size=1, max_size=4), target=st.sampled_from(TARGETS))
def test_generated_findings_evidence_and_messages_equal_the_closures(hosts: list[dict[str, Any]], target: str) -> None:
    """Whole host results (outcomes, evidence, messages, counts) through the evaluator."""
    s = EvalSettings.from_options(Options(target=target, audit_date="2026-11-29", full_outcomes=True))
    gen, ref = HostEvaluator(PS, s), HostEvaluator(PS, s)
    ref.ev = Evaluator(PS, generated=False)
    for i, h in enumerate(hosts):
        h = {k: v for k, v in h.items() if k != "derived"}  # the loader derives its own
        h["name"] = f"host-{i}"
        (a,) = list(as_items([copy.deepcopy(h)]))
        (b,) = list(as_items([copy.deepcopy(h)]))
        assert gen.evaluate(a) == ref.evaluate(b)


def test_every_bundled_rule_is_covered_by_the_generated_plans() -> None:
    covered = set()
    for t in TARGETS:
        rs = GEN.ruleset(t)
        assert rs is not None
        plan = rs.plan(ROLES)
        covered.update(cr.id for cr in plan.rules)
    assert covered == set(RULES)


def test_a_condition_deeper_than_the_templates_go_falls_back_to_its_closure() -> None:
    leaf: Any = {"fact": "os.build", "op": "ge", "value": 1}
    for _ in range(60):
        leaf = {"not": leaf}
    cond = AllOf.model_validate({"all": [leaf, {"fact": "os.caption", "op": "exists"}]})
    node = compile_condition(cond, {})
    g = generate([RuleCode(None, node)])
    for f in ({"os": {"build": 5, "caption": "x"}}, {"os": {"build": 0}}, {"os": {"build": "x"}}, {}):
        assert g.function(f) == [node.fast(f)]


@pytest.mark.parametrize("fixed", [2])
def test_a_rule_whose_roles_are_unknown_is_unknown(fixed: int) -> None:
    assert generate([RuleCode(None, None, fixed)]).function({}) == [fixed]


def _probes(const: Any) -> list[Any]:
    """Values on and around a constant, of every JSON type."""
    out: list[Any] = [None, True, False, 0, 1, -1, 0.5, "", "x", [], ["x"], {"a": 1}, [["x"]], [{"a": 1}], 10**20, 2.0**70, const]
    if type(const) in (int, float):
        out += [const + 1, const - 1, float(const), const + 0.5, str(const)]
    if isinstance(const, (list, frozenset)):
        items = list(const)
        out += items + [items, items[:1], items[1:], items + ["zz"], [1], items + [["zz"]], items[:1] + [{"a": 1}]]
    if isinstance(const, str):
        out += [const + " ", const.upper(), [const]]
    return out


def test_every_bundled_leaf_at_its_boundaries() -> None:
    """Each comparison of every bundled rule alone, generated against its closure, with
    values on both sides of its constant, of the wrong types, absent, and under a
    section that is not an object."""
    checked = 0
    for e in PS.effective.values():
        for r in e.rules:
            for cond in (r.when, r.assert_):
                for _, leaf in leaves(cond):
                    node = compile_condition(leaf, e.tables)
                    run = generate([RuleCode(None, node)]).function
                    const = node.shape[-1] if node.shape and node.shape[0] in ("num", "is", "str_eq", "str_in", "num_in") else leaf.literal
                    probes = _probes(const) + SEEN.get(leaf.fact, [])
                    for v in probes:
                        f: dict[str, Any] = {"derived": {}, "context": {"target": "8.7.3", "audit_date": "2026-11-29"}}
                        put(f, leaf.fact, v, none_removes=True)
                        assert run(f) == [node.fast(f)], (r.id, leaf, v)
                    head = leaf.fact.split(".")[0]
                    for f in ({}, {head: 7}, {head: None}, {head: []}):
                        assert run(f) == [node.fast(f)], (r.id, leaf, f)
                    checked += 1
    assert checked > 50


def test_compiled_rule_source_for_review() -> None:
    text = compiled_rule_source(PS, "ITMS-HW-NETWORK-BOOT", "8.7.3")
    assert text.startswith("# ITMS-HW-NETWORK-BOOT, compiled for ITMS 8.7.3 (itms-8.7.3@")
    assert "network_boot" in text.splitlines()[1]
    assert "def rules(f):" in text and "# Names bound in the namespace" in text
    # The review text shows each bound value; the source part holds none of them.
    source = text.split("# Names bound", 1)[0]
    assert "'hardware'" not in source and "_p0 = 'hardware'" in text
    with pytest.raises(KeyError):
        compiled_rule_source(PS, "NO-SUCH-RULE")


def test_cli_prints_a_rules_compiled_code(cli: Any) -> None:
    code, out, _ = cli("policies", "show", "itms-8.7.3", "--compiled", "ITMS-HW-NETWORK-BOOT")
    assert code == 0, out
    assert out.startswith("# ITMS-HW-NETWORK-BOOT, compiled for ITMS 8.7.3 (itms-8.7.3@")
    assert "def rules(f):" in out and "# Names bound in the namespace" in out
    assert cli("policies", "show", "itms-8.7.3", "--compiled", "NO-SUCH-RULE")[0] == 2
    assert cli("policies", "show", "no-such-pack", "--compiled", "ITMS-HW-NETWORK-BOOT")[0] == 2
