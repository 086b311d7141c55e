"""Every operator passes and fails where it should; the schema lists exactly the table."""
from __future__ import annotations

import json
from importlib import resources

import pytest

from sitegate.engine.compiler import ERROR, FAIL, PASS, UNKNOWN, compile_condition
from sitegate.engine.operators import OPERATORS
from sitegate.engine.policy import Leaf, Table

# (op, fact path, fact value, operand, expected with that value)
CASES = [
    ("eq", "os.edition", "Standard", "Standard", PASS),
    ("eq", "os.edition", "Datacenter", "Standard", FAIL),
    ("ne", "os.edition", "Datacenter", "Standard", PASS),
    ("ne", "os.edition", "Standard", "Standard", FAIL),
    ("in", "os.build", 17763, [14393, 17763], PASS),
    ("in", "os.build", 7601, [14393, 17763], FAIL),
    ("not_in", "os.build", 7601, [14393, 17763], PASS),
    ("not_in", "os.build", 17763, [14393, 17763], FAIL),
    ("lt", "load.endpoints", 99, 100, PASS),
    ("lt", "load.endpoints", 100, 100, FAIL),
    ("le", "load.endpoints", 100, 100, PASS),
    ("le", "load.endpoints", 101, 100, FAIL),
    ("gt", "hardware.memory_mb", 8193, 8192, PASS),
    ("gt", "hardware.memory_mb", 8192, 8192, FAIL),
    ("ge", "dotnet.release", 528040, 528040, PASS),
    ("ge", "dotnet.release", 528039, 528040, FAIL),
    ("version_eq", "platform.itms_version", "8.7.3", "8.7.3.0", PASS),
    ("version_eq", "platform.itms_version", "8.7.2", "8.7.3", FAIL),
    ("version_lt", "agent.version", "8.6.4081.0", "8.7", PASS),
    ("version_lt", "agent.version", "8.10.1.0", "8.9", FAIL),  # 8.10 > 8.9: versions, not floats
    ("version_le", "agent.version", "8.7", "8.7.0", PASS),
    ("version_le", "agent.version", "8.7.1", "8.7", FAIL),
    ("version_gt", "agent.version", "8.7.3264.0", "8.7.3", PASS),
    ("version_gt", "agent.version", "8.7.3", "8.7.3", FAIL),
    ("version_ge", "agent.version", "8.7.3", "8.7.3", PASS),
    ("version_ge", "agent.version", "8.6.9999.0", "8.7", FAIL),
    ("version_in", "platform.itms_version", "8.7.2", ">=8.7.1,<8.8", PASS),
    ("version_in", "platform.itms_version", "8.8", ">=8.7.1,<8.8", FAIL),
    ("contains_all", "iis.features", ["Web-ASP", "Web-Windows-Auth", "Web-WMI"], ["Web-ASP", "Web-WMI"], PASS),
    ("contains_all", "iis.features", ["Web-ASP"], ["Web-ASP", "Web-WMI"], FAIL),
    ("contains_any", "iis.features", ["Web-ASP"], ["Web-ASP", "Web-WMI"], PASS),
    ("contains_any", "iis.features", ["Web-Filtering"], ["Web-ASP", "Web-WMI"], FAIL),
    ("contains_none", "iis.features", ["Web-Filtering"], ["Web-ASP", "Web-WMI"], PASS),
    ("contains_none", "iis.features", ["Web-WMI"], ["Web-ASP", "Web-WMI"], FAIL),
    ("exists", "agent.version", "8.7", None, PASS),
    ("exists", "agent.version", None, None, FAIL),
    ("missing", "agent.version", None, None, PASS),
    ("missing", "agent.version", "8.7", None, FAIL),
    ("matches", "os.caption", "Microsoft Windows Server 2019 Standard", r"Server 20(19|22)", PASS),
    ("matches", "os.caption", "Microsoft Windows 10 Enterprise", r"Server 20(19|22)", FAIL),
    ("date_before", "provenance.collected_at", "2026-11-20T09:12:00Z", "2027-01-12", PASS),
    ("date_before", "provenance.collected_at", "2027-01-12", "2027-01-12", FAIL),
    ("date_on_or_after", "provenance.collected_at", "2027-01-12", "2027-01-12", PASS),
    ("date_on_or_after", "provenance.collected_at", "2027-01-11", "2027-01-12", FAIL),
]


def _facts(path: str, value: object) -> dict:
    a, b = path.split(".")
    return {"name": "h", a: {b: value}, "derived": {}}


@pytest.mark.parametrize("op,path,value,operand,expected", CASES, ids=[f"{c[0]}-{'pass' if c[4] == PASS else 'fail'}" for c in CASES])
def test_operator(op: str, path: str, value: object, operand: object, expected: int) -> None:
    node = compile_condition(Leaf(fact=path, op=op, value=operand), {})
    assert node.fast(_facts(path, value)) == expected
    code, evidence = node.explain(_facts(path, value))
    assert code == expected
    assert (evidence == []) == (expected == PASS)


def test_every_operator_has_a_pass_and_a_fail_case() -> None:
    seen = {(c[0], c[4]) for c in CASES}
    for op in OPERATORS:
        assert (op, PASS) in seen and (op, FAIL) in seen, op


def test_schema_operator_list_equals_the_table() -> None:
    schema = json.loads(resources.files("sitegate.schemas").joinpath("policy.v1.schema.json").read_text())
    assert schema["$defs"]["leaf"]["properties"]["op"]["enum"] == list(OPERATORS)


@pytest.mark.parametrize("op", [o for o in OPERATORS if o not in ("exists", "missing")])
def test_missing_fact_is_unknown_never_pass(op: str) -> None:
    case = next(c for c in CASES if c[0] == op)
    node = compile_condition(Leaf(fact=case[1], op=op, value=case[3]), {})
    assert node.fast({"name": "h", "derived": {}}) == UNKNOWN
    assert node.fast({"name": "h", case[1].split(".")[0]: {case[1].split(".")[1]: None}, "derived": {}}) == UNKNOWN


def test_missing_operator_passes_on_absent_fact() -> None:
    node = compile_condition(Leaf(fact="agent.version", op="missing"), {})
    assert node.fast({"name": "h", "derived": {}}) == PASS


def test_uncomparable_value_is_error_not_pass() -> None:
    node = compile_condition(Leaf(fact="agent.version", op="version_ge", value="8.7"), {})
    assert node.fast(_facts("agent.version", "not-a-version")) == ERROR
    code, ev = node.explain(_facts("agent.version", "not-a-version"))
    assert code == ERROR and "not a version" in ev[0].detail


def test_regex_is_linear_time_on_hostile_input() -> None:
    # (a+)+$ backtracks exponentially in Python's re; RE2 answers at once.
    node = compile_condition(Leaf(fact="os.caption", op="matches", value="(a+)+$"), {})
    assert node.fast(_facts("os.caption", "a" * 5000 + "!")) == FAIL


def test_table_lookup_operand() -> None:
    table = Table(description="d", confidence="low", source="TODO", rows=({"build": 17763, "family": "server"}, {"build": 19045, "family": "desktop"}))
    leaf = Leaf(fact="os.build", op="in", value={"table": "m", "column": "build", "where": {"family": {"fact": "derived.os_family"}}})
    node = compile_condition(leaf, {"m": table})
    assert node.fast({"os": {"build": 17763}, "derived": {"os_family": "server"}}) == PASS
    assert node.fast({"os": {"build": 19045}, "derived": {"os_family": "server"}}) == FAIL
    assert node.fast({"os": {"build": 19045}, "derived": {}}) == UNKNOWN


def test_fact_reference_operand() -> None:
    leaf = Leaf(fact="platform.internet_gateway_version", op="version_eq", value={"fact": "platform.itms_version"})
    node = compile_condition(leaf, {})
    assert node.fast({"platform": {"internet_gateway_version": "8.8.1", "itms_version": "8.8.1"}}) == PASS
    assert node.fast({"platform": {"internet_gateway_version": "8.8", "itms_version": "8.8.1"}}) == FAIL
    assert node.fast({"platform": {"internet_gateway_version": "8.8"}}) == UNKNOWN


def test_the_operator_table_cannot_be_changed_at_run_time() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        OPERATORS["eq"].fn = lambda a, b: True  # type: ignore[misc]


def test_an_invalid_policy_regex_prints_nothing_itself(capfd) -> None:
    # RE2 would print its own error line on stderr; the error is the outcome's evidence.
    node = compile_condition(Leaf(fact="os.caption", op="matches", value={"fact": "os.edition"}), {})
    assert node.fast({"os": {"caption": "x", "edition": "(unclosed"}}) == ERROR
    code, ev = node.explain({"os": {"caption": "x", "edition": "(unclosed"}})
    assert code == ERROR and ev[0].detail.startswith("invalid regular expression")
    assert capfd.readouterr().err == ""


def test_parsed_specifiers_and_regexes_stay_bounded() -> None:
    """Per-host patterns and ranges (from facts or tables) do not grow the caches past 1024."""
    from sitegate.engine.operators import compile_regex, parse_specifier

    for i in range(1100):
        parse_specifier(f">=8.{i}")
        compile_regex(f"^host-{i}$")
    assert parse_specifier.cache_info().currsize == 1024
    assert compile_regex.cache_info().currsize == 1024


def test_regex_memory_budget_refuses_a_large_automaton() -> None:
    """RE2 gets a 1 MiB budget: a 40-letter class repeat fits, a 60-letter one does not
    (with google-re2 as pinned; 512 KiB refuses the first, 2 MiB accepts the second)."""
    from sitegate.engine.operators import OperatorError, compile_regex

    assert compile_regex(r"\pL{40}").search("a" * 40) is not None
    with pytest.raises(OperatorError, match="invalid regular expression"):
        compile_regex(r"\pL{60}")


def test_regex_search_answers_by_the_whole_match_not_a_group() -> None:
    """The direct RE2 call reads the whole match's span: a group that took no part must not
    turn a match into a miss."""
    from sitegate.engine.operators import regex_search

    regex_search.cache_clear()
    assert regex_search("a(b)?")("xa") is True
    assert regex_search("a(b)?")("xyz") is False


def test_regex_search_without_the_direct_matcher_answers_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another google-re2 layout (no _Anchor/_NULL_SPAN): the public search() path."""
    from sitegate.engine import operators

    monkeypatch.setattr(operators, "_UNANCHORED", None)
    operators.regex_search.cache_clear()
    try:
        search = operators.regex_search("^Web-(ASP|WMI)$")
        assert search("Web-ASP") is True and search("Web-CGI") is False
    finally:
        operators.regex_search.cache_clear()
