"""The evidence a non-passing condition carries, written out by hand.

Evidence is what reports show for a finding (fact, JSON pointer, observed and
expected values, detail) and what a baseline fingerprint keys on (the first
fact), so its content is pinned here field by field.
"""
from __future__ import annotations

from sitegate.engine.compiler import ERROR, FAIL, MISSING, PASS, UNKNOWN, compile_condition, fact_pointer, iter_leaves, operand_paths
from sitegate.engine.operators import describe_expected
from sitegate.engine.policy import AllOf, AnyOf, FactRef, Leaf, NotOf, Table

MAP = Table(description="d", confidence="low", source="https://example.invalid", rows=({"build": 17763, "family": "server"}, {"build": 19045, "family": "desktop"}))


def _explain(cond, facts, tables=None):
    code, ev = compile_condition(cond, tables or {}).explain(facts)
    return code, [e.to_dict() for e in ev]


def _ev(fact, pointer, observed, expected, op, outcome, detail="", label=""):
    return {"fact": fact, "pointer": pointer, "observed": observed, "expected": expected, "op": op, "outcome": outcome, "detail": detail, "label": label}


def test_a_failing_comparison() -> None:
    assert _explain(Leaf(fact="os.build", op="ge", value=17763), {"os": {"build": 7601}}) == (FAIL, [_ev("os.build", "/os/build", 7601, ">= 17763", "ge", "fail")])
    assert _explain(Leaf(fact="os.build", op="ge", value=17763), {"os": {"build": 17763}}) == (PASS, [])


def test_a_missing_fact_says_so() -> None:
    leaf = Leaf(fact="os.build", op="ge", value=17763, label="OS build")
    assert _explain(leaf, {"os": {}}) == (UNKNOWN, [_ev("os.build", "/os/build", None, ">= 17763", "ge", "unknown", "os.build is not recorded", "OS build")])


def test_a_lookup_without_a_row_says_so() -> None:
    ref = {"table": "m", "column": "build", "where": {"family": {"fact": "derived.os_family"}}, "single": True}
    leaf = Leaf(fact="os.build", op="eq", value=ref)
    facts = {"os": {"build": 17763}, "derived": {"os_family": "alien"}}
    assert _explain(leaf, facts, {"m": MAP}) == (UNKNOWN, [_ev("os.build", "/os/build", 17763, "= m.build where family=derived.os_family", "eq", "unknown", "no m row for family alien")])
    ref2 = {"table": "m", "column": "build", "where": {"family": "desktop", "build": {"fact": "os.build"}}}
    leaf2 = Leaf(fact="os.build", op="in", value=ref2)
    assert _explain(leaf2, {"os": {"build": 17763}}, {"m": MAP}) == (FAIL, [_ev("os.build", "/os/build", 17763, "one of []", "in", "fail")])
    assert _explain(leaf2, {"os": {"build": 19045}}, {"m": MAP}) == (PASS, [])


def test_a_lookup_whose_where_fact_is_absent_names_that_fact() -> None:
    # The row cannot be chosen because the host lacks the fact a where-value reads:
    # that fact is the cause, named as the user supplies it (os.product_type, not derived.os_family).
    ref = {"table": "m", "column": "build", "where": {"family": {"fact": "derived.os_family"}}, "single": True}
    leaf = Leaf(fact="os.build", op="eq", value=ref)
    code, ev = _explain(leaf, {"os": {"build": 17763}}, {"m": MAP})
    assert code == UNKNOWN and ev[0]["detail"] == "os.product_type is not recorded, so no m row can be chosen"
    # Two where-values: both named in the row that was not found.
    ref2 = {"table": "m", "column": "family", "where": {"build": {"fact": "os.build"}, "family": "server"}, "single": True}
    code, ev = _explain(Leaf(fact="x.y", op="eq", value=ref2), {"os": {"build": 19044}, "x": {"y": 1}}, {"m": MAP})
    assert code == UNKNOWN and ev[0]["detail"] == "no m row for build 19044 and family server"
    # A fact operand the host lacks.
    code, ev = _explain(Leaf(fact="x.y", op="eq", value={"fact": "derived.installed_services"}), {"x": {"y": 1}})
    assert code == UNKNOWN and ev[0]["detail"] == "site_services.installed is not recorded"


def test_an_uncomparable_value_says_why() -> None:
    assert _explain(Leaf(fact="os.caption", op="version_ge", value="8.7"), {"os": {"caption": "Windows"}}) == (
        3, [_ev("os.caption", "/os/caption", "Windows", ">= 8.7", "version_ge", "error", "'Windows' is not a version")])
    assert _explain(Leaf(fact="iis.features", op="contains_all", value=["Web-ASP"]), {"iis": {"features": "Web-ASP"}}) == (
        3, [_ev("iis.features", "/iis/features", "Web-ASP", "contains all of [Web-ASP]", "contains_all", "error", "'Web-ASP' is not a list")])


def test_list_operators_name_what_is_missing_or_present() -> None:
    want = ["Web-WMI", "Web-ASP", "Web-Metabase"]
    facts = {"iis": {"features": ["Web-Metabase", "Web-Filtering"]}}
    assert _explain(Leaf(fact="iis.features", op="contains_all", value=want), facts) == (
        FAIL, [_ev("iis.features", "/iis/features", facts["iis"]["features"], "contains all of [Web-WMI, Web-ASP, Web-Metabase]", "contains_all", "fail", "missing: Web-ASP, Web-WMI")])
    assert _explain(Leaf(fact="iis.features", op="contains_none", value=want), facts) == (
        FAIL, [_ev("iis.features", "/iis/features", facts["iis"]["features"], "contains none of [Web-WMI, Web-ASP, Web-Metabase]", "contains_none", "fail", "present: Web-Metabase")])
    assert _explain(Leaf(fact="iis.features", op="contains_any", value=["Web-ASP"]), facts)[1][0]["detail"] == ""


def test_pointers_of_facts() -> None:
    assert fact_pointer("os.build") == "/os/build"
    assert fact_pointer("iis.request_filtering.max_url") == "/iis/request_filtering/max_url"
    assert fact_pointer("name") == "/name"
    assert fact_pointer("derived.dotnet_version") == "/dotnet/release"
    assert fact_pointer("derived.roles") == "/site_services"
    assert fact_pointer("derived.no_such") == ""
    assert fact_pointer("context.target") == ""
    assert _explain(Leaf(fact="derived.dotnet_version", op="version_ge", value="4.8"), {"derived": {"dotnet_version": "4.7.2"}})[1][0]["pointer"] == "/dotnet/release"


def test_composites_keep_the_deciding_evidence() -> None:
    p = Leaf(fact="a.p", op="eq", value=True)
    f = Leaf(fact="a.f", op="eq", value=True)
    u = Leaf(fact="a.u", op="eq", value=True)
    facts = {"a": {"p": True, "f": False}}
    # all: the failing parts decide; an unknown part beside a fail is not shown
    code, ev = _explain(AllOf(all=(p, u, f, f)), facts)
    assert code == FAIL and [e["fact"] for e in ev] == ["a.f", "a.f"]
    code, ev = _explain(AllOf(all=(p, u, p)), facts)
    assert code == UNKNOWN and [e["fact"] for e in ev] == ["a.u"]
    # any: every part that did not pass
    code, ev = _explain(AnyOf(any=(f, u, f)), facts)
    assert code == UNKNOWN and [e["fact"] for e in ev] == ["a.f", "a.u", "a.f"]
    assert _explain(AnyOf(any=(f, u, p)), facts) == (PASS, [])
    # not over a comparison: the comparison, negated
    assert _explain(NotOf(**{"not": p}), facts) == (FAIL, [_ev("a.p", "/a/p", True, "not (= true)", "not eq", "fail")])
    assert _explain(NotOf(**{"not": u}), facts) == (UNKNOWN, [_ev("a.u", "/a/u", None, "not (= true)", "not eq", "unknown")])
    # not over a composite that does not pass: its evidence, negated
    code, ev = _explain(NotOf(**{"not": AllOf(all=(p, u))}), facts)
    assert code == UNKNOWN and ev == [_ev("a.u", "/a/u", None, "not (= true)", "not eq", "unknown", "a.u is not recorded")]


def test_describe_expected() -> None:
    assert describe_expected("ge", 528040) == ">= 528040"
    assert describe_expected("eq", True) == "= true"
    assert describe_expected("eq", False) == "= false"
    assert describe_expected("version_in", ">=8.7,<8.9") == "in >=8.7,<8.9"
    assert describe_expected("exists", None) == "exists"
    assert describe_expected("missing", None) == "is missing"
    assert describe_expected("in", list(range(12))) == "one of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]"
    assert describe_expected("in", list(range(13))) == "one of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...]"
    assert describe_expected("contains_any", ["a"]) == "contains at least one of [a]"


def test_leaves_and_operand_paths() -> None:
    a, b, c = (Leaf(fact=x, op="exists") for x in ("x.a", "x.b", "x.c"))
    assert iter_leaves(None) == []
    assert iter_leaves(AllOf(all=(a, AnyOf(any=(b, NotOf(**{"not": c})))))) == [a, b, c]
    assert operand_paths(FactRef(fact="o.v")) == ["o.v"]


def test_evidence_to_dict_shows_missing_as_null() -> None:
    code, ev = compile_condition(Leaf(fact="x.y", op="eq", value="a"), {}).explain({})
    assert code == UNKNOWN and ev[0].observed is MISSING
    assert list(ev[0].to_dict()) == ["fact", "pointer", "observed", "expected", "op", "outcome", "detail", "label"]
    assert ev[0].to_dict()["observed"] is None


def test_not_over_a_passing_composite_shows_its_comparisons() -> None:
    p = Leaf(fact="a.p", op="eq", value=True)
    f = Leaf(fact="a.f", op="eq", value=True, label="local")
    facts = {"a": {"p": True, "f": False}}
    code, ev = _explain(NotOf(**{"not": AnyOf(any=(f, p))}), facts)
    assert code == FAIL and ev == [
        _ev("a.f", "/a/f", False, "not (= true)", "not eq", "fail", "", "local"),
        _ev("a.p", "/a/p", True, "not (= true)", "not eq", "fail"),
    ]
    code, ev = _explain(NotOf(**{"not": NotOf(**{"not": f})}), facts)
    assert code == FAIL and ev == [_ev("a.f", "/a/f", False, "not (= true)", "not eq", "fail", "", "local")]


def test_not_over_a_comparison_with_another_fact_names_its_value() -> None:
    """`not (a eq {fact: b})`: the evidence shows b's value when the host has it, and
    names b ("the value of x.r") when it does not."""
    leaf = Leaf(fact="x.v", op="eq", value={"fact": "x.r"})
    assert _explain(NotOf(**{"not": leaf}), {"x": {"v": "a", "r": "a"}}) == (
        FAIL, [_ev("x.v", "/x/v", "a", "not (= a)", "not eq", "fail")])
    assert _explain(NotOf(**{"not": leaf}), {"x": {"v": "a"}}) == (
        UNKNOWN, [_ev("x.v", "/x/v", "a", "not (= the value of x.r)", "not eq", "unknown")])
    ge = Leaf(fact="os.build", op="ge", value={"fact": "x.min"})
    assert _explain(NotOf(**{"not": ge}), {"os": {"build": 20348}, "x": {"min": 17763}}) == (
        FAIL, [_ev("os.build", "/os/build", 20348, "not (>= 17763)", "not ge", "fail")])
    assert _explain(NotOf(**{"not": ge}), {"os": {"build": 20348}}) == (
        UNKNOWN, [_ev("os.build", "/os/build", 20348, "not (>= the value of x.min)", "not ge", "unknown")])


# A comparison with another fact whose value has the wrong shape (a number where a
# list is expected, a list holding an object, an object) gives error with evidence,
# never a traceback: the compiler takes validated policies, but the other fact's value
# is whatever the host has.
def test_list_operators_with_an_operand_fact_of_the_wrong_shape_give_error() -> None:
    for op in ("in", "not_in"):
        code, ev = _explain(Leaf(fact="x.v", op=op, value={"fact": "x.r"}), {"x": {"v": 1, "r": 5}})
        assert code == ERROR and ev[0]["expected"] == {"in": "in 5", "not_in": "not in 5"}[op], op
    for op in ("contains_all", "contains_any", "contains_none"):
        code, ev = _explain(Leaf(fact="x.v", op=op, value={"fact": "x.r"}), {"x": {"v": ["a"], "r": 5}})
        assert code == ERROR and ev[0]["observed"] == ["a"], op
        code, _ = _explain(Leaf(fact="x.v", op=op, value={"fact": "x.r"}), {"x": {"v": ["a"], "r": [["a"]]}})
        assert code == ERROR, op
        # The host's list holds an object: with text members (set operations) and with typed members.
        for members in (["a"], [1]):
            code, ev = _explain(Leaf(fact="x.v", op=op, value={"fact": "x.r"}), {"x": {"v": [{"k": 1}], "r": members}})
            assert code == ERROR and ev[0]["observed"] == [{"k": 1}], (op, members)


def test_in_with_an_operand_fact_holding_a_string_is_an_error_not_a_character_search() -> None:
    """`in`/`not_in` take a list: a string operand is not searched character by character
    ("P" is not "in" "Pro"); the host gets error, as the contains_* operators give."""
    for op in ("in", "not_in"):
        for v in ("P", "Pro", "x", 1):
            node = compile_condition(Leaf(fact="x.v", op=op, value={"fact": "x.r"}), {})
            facts = {"x": {"v": v, "r": "Pro"}}
            assert node.fast(facts) == ERROR, (op, v)
            code, ev = node.explain(facts)
            assert code == ERROR and ev[0].outcome == "error", (op, v)
        # A list operand still works, both ways round.
        node = compile_condition(Leaf(fact="x.v", op=op, value={"fact": "x.r"}), {})
        assert node.fast({"x": {"v": "P", "r": ["P", "Q"]}}) == (PASS if op == "in" else FAIL)
        assert node.fast({"x": {"v": "R", "r": ["P", "Q"]}}) == (FAIL if op == "in" else PASS)


def test_a_version_comparison_with_an_operand_fact_of_the_wrong_shape_gives_error() -> None:
    """A version operator against another fact holding a list or a number: error, every
    time (the pair memo keeps only pairs of strings)."""
    for op in ("version_ge", "version_lt", "version_eq"):
        node = compile_condition(Leaf(fact="x.v", op=op, value={"fact": "x.r"}), {})
        for r in (["8.7"], 8.7, {"v": "8.7"}):
            for _ in range(2):  # the second time from any memo
                assert node.fast({"x": {"v": "8.7.3", "r": r}}) == ERROR, (op, r)
        assert node.fast({"x": {"v": "8.7.3", "r": "8.7"}}) == (FAIL if op == "version_lt" else PASS if op == "version_ge" else FAIL)


def test_an_operand_fact_holding_an_object_is_shown_as_it_is() -> None:
    leaf = Leaf(fact="x.v", op="eq", value={"fact": "x.r"})
    assert _explain(leaf, {"x": {"v": "a", "r": {"k": 1}}}) == (FAIL, [_ev("x.v", "/x/v", "a", "= {'k': 1}", "eq", "fail")])
    leaf = Leaf(fact="x.v", op="in", value={"fact": "x.r"})
    assert _explain(leaf, {"x": {"v": "a", "r": [{"k": 1}, "b"]}}) == (FAIL, [_ev("x.v", "/x/v", "a", "one of [{'k': 1}, b]", "in", "fail")])


def test_each_host_sees_its_own_operand_object_in_the_evidence() -> None:
    # The expected text is remembered per operand value; two objects with the same
    # keys are different values.
    node = compile_condition(Leaf(fact="x.v", op="eq", value={"fact": "x.r"}), {})
    for r, want in (({"k": 1}, "= {'k': 1}"), ({"k": 2}, "= {'k': 2}"), ({"k": 1}, "= {'k': 1}")):
        code, ev = node.explain({"x": {"v": "a", "r": r}})
        assert code == FAIL and ev[0].expected == want, r
