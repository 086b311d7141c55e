"""The cheaper building blocks of issue 18 (item 3) change no outcome.

- Version comparisons remember their outcome per version string (or pair of
  strings): every answer, first or remembered, is the one written here by hand.
- The finding memo's key: two hosts that differ in any value a rule reads never
  share evidence (the key tells 1 from 1.0 from true, -0.0 from 0.0, a list from
  a string, a missing fact from one of a missing section).
"""
from __future__ import annotations

from typing import Any

import pytest

from sitegate.engine import compiler as compiler_mod
from sitegate.engine.codegen import RuleCode, generate
from sitegate.engine.compiler import ERROR, FAIL, PASS, UNKNOWN, compile_condition
from sitegate.engine.policy import Confidence, Leaf, Table


def _table(rows: list[dict[str, Any]]) -> Table:
    return Table(description="t", confidence=Confidence.HIGH, source="https://example.invalid", rows=tuple(rows))


def _both(cond: dict[str, Any], tables: dict[str, Table] | None = None) -> list[Any]:
    """The closure and the generated code of one condition (each with its own memo)."""
    leaf = Leaf.model_validate(cond)
    closure = compile_condition(leaf, tables or {})
    node = compile_condition(leaf, tables or {})
    gen = generate([RuleCode(None, node)]).function
    return [closure.fast, lambda f: gen(f)[0]]


def _agent(v: Any) -> dict[str, Any]:
    return {"agent": {"version": v}} if v is not None else {"agent": {}}


# Written by hand from PEP 440: 8.10 is after 8.7.1, trailing zeros do not count.
GE_871 = [
    ("8.7.3", PASS), ("8.7.1", PASS), ("8.7.1.0", PASS), ("8.7.0.9999", FAIL), ("8.6", FAIL),
    ("8.10", PASS), ("8.7.1rc1", FAIL), ("junk", ERROR), ("", ERROR), (8.7, ERROR), (871, ERROR),
    (True, ERROR), (["8.7.3"], ERROR), (None, UNKNOWN),
]


@pytest.mark.parametrize("form", ["literal", "table"])
def test_a_version_constant_answers_the_same_the_first_time_and_after(form: str) -> None:
    if form == "literal":
        cond = {"fact": "agent.version", "op": "version_ge", "value": "8.7.1"}
        tables: dict[str, Table] = {}
    else:  # a lookup whose where-values are constants: looked up once, then a constant
        cond = {"fact": "agent.version", "op": "version_ge", "value": {"table": "t", "column": "c", "where": {"k": "x"}, "single": True}}
        tables = {"t": _table([{"k": "y", "c": "9.0"}, {"k": "x", "c": "8.7.1"}])}
    for fast in _both(cond, tables):
        for _ in range(3):  # the first answer is computed, the others remembered
            for value, want in GE_871:
                assert fast(_agent(value)) == want, (value, want)


def test_every_version_operator_through_the_memo() -> None:
    # (op, constant, value, outcome), by hand.
    rows = [
        ("version_eq", "8.7", "8.7.0", PASS), ("version_eq", "8.7", "8.7.1", FAIL),
        ("version_lt", "8.7", "8.6.9", PASS), ("version_lt", "8.7", "8.7", FAIL),
        ("version_le", "8.7", "8.7.0", PASS), ("version_le", "8.7", "8.7.1", FAIL),
        ("version_gt", "8.7", "8.10", PASS), ("version_gt", "8.7", "8.7.0", FAIL),
        ("version_in", ">=8.7,<8.8", "8.7.3", PASS), ("version_in", ">=8.7,<8.8", "8.8", FAIL),
        ("version_in", ">=8.7,<8.8", "8.7.5rc1", PASS),  # prereleases count, as the operator says
        ("version_in", ">=8.7,<8.8", "x.y", ERROR),
    ]
    for op, const, value, want in rows:
        for fast in _both({"fact": "agent.version", "op": op, "value": const}):
            assert [fast(_agent(value)) for _ in range(3)] == [want] * 3, (op, const, value)


def test_two_version_facts_are_remembered_as_a_pair() -> None:
    cond = {"fact": "platform.parent_notification_server_version", "op": "version_le", "value": {"fact": "platform.itms_version"}}
    rows = [
        (("8.7.1", "8.7.3"), PASS), (("8.7.3", "8.7.1"), FAIL), (("8.7.3", "8.7.3.0"), PASS),
        (("8.7", "8.10"), PASS), (("8.10", "8.7"), FAIL), (("bad", "8.7"), ERROR), (("8.7", "bad"), ERROR),
        ((8.7, "8.7"), ERROR), (("8.7", None), UNKNOWN), ((None, "8.7"), UNKNOWN),
    ]
    for fast in _both(cond):
        for _ in range(2):
            for (parent, own), want in rows:
                platform = {k: v for k, v in (("parent_notification_server_version", parent), ("itms_version", own)) if v is not None}
                assert fast({"platform": platform}) == want, (parent, own)


def test_the_version_memo_is_bounded_and_still_right_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler_mod, "VERSION_MEMO_LIMIT", 8)
    node = compile_condition(Leaf.model_validate({"fact": "agent.version", "op": "version_ge", "value": "8.7.10"}), {})
    assert node.shape is not None and node.shape[0] == "memo"
    memo = node.shape[1]
    values = [f"8.7.{i}" for i in range(30)]
    for _ in range(2):
        assert [node.fast(_agent(v)) for v in values] == [FAIL] * 10 + [PASS] * 20
    assert len(memo) == 8


# ---------------------------------------------------------------- the finding memo's key

import copy  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402

import orjson  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sitegate.engine import rules as rules_mod  # noqa: E402
from sitegate.engine.compiler import make_getter  # noqa: E402
from sitegate.engine.evaluate import evaluate  # noqa: E402
from sitegate.engine.model import MISSING  # noqa: E402
from sitegate.engine.options import Options  # noqa: E402
from sitegate.engine.packs import PolicySet  # noqa: E402
from sitegate.engine.render import Format, render  # noqa: E402

from .conftest import EXAMPLES  # noqa: E402
from .fact_paths import put  # noqa: E402

KEY_PATHS = ["name", "extensions", "os.build", "os.caption", "iis.request_filtering.max_query_string",
             "iis.request_filtering.allowed_verbs", "iis.version", "a.b.c.d", "a.b.x", "derived.os_display"]
leaf_values = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, 1, -0.0, 0.0, 1.0, 5, 5.0, 2**70, "1", "", "true", "null", "0"]),
    st.lists(st.sampled_from([1, 1.0, True, "1", None]), max_size=3),
    st.dictionaries(st.sampled_from(["k", "b"]), st.sampled_from([1, 1.0, True, None]), max_size=2),
)


@st.composite
def key_facts(draw: st.DrawFn) -> dict[str, Any]:
    f: dict[str, Any] = {"derived": {}}
    for path in draw(st.lists(st.sampled_from(KEY_PATHS), max_size=8, unique=True)):
        put(f, path, draw(leaf_values))
    if draw(st.booleans()):
        f["derived"]["roles"] = draw(st.sampled_from([[], ["task"], None]))
    if draw(st.booleans()):  # a section that is no object: every path below it is absent
        f[draw(st.sampled_from(["iis", "a", "os"]))] = draw(st.sampled_from([7, "x", [1], None]))
    return f


def _reference(paths: list[str], roles_known: bool, f: dict[str, Any]) -> list[bytes] | None:
    """What the key must tell apart, written from its definition: every value a rule reads
    (absent as null), each as JSON text, so 1, 1.0, true, -0.0 and "1" all differ."""
    vals = [MISSING if (g := make_getter(p)(f)) is MISSING else g for p in paths]
    try:
        out = [orjson.dumps(None if v is MISSING else v) for v in vals]
    except TypeError:  # an integer beyond 64 bits: no key, the finding is explained uncached
        return None
    if roles_known:
        out.insert(0, orjson.dumps(f["derived"].get("roles") is not None))
    return out


def _key(reader: Any, f: dict[str, Any]) -> bytes | None:
    try:
        return rules_mod._key_dumps(reader(f), default=rules_mod._key_default)
    except (TypeError, orjson.JSONEncodeError):
        return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=key_facts(), b=key_facts(), n=st.integers(1, len(KEY_PATHS)), roles_known=st.booleans())
def test_two_hosts_share_a_key_exactly_when_every_value_read_agrees(a: dict[str, Any], b: dict[str, Any], n: int, roles_known: bool) -> None:
    paths = KEY_PATHS[:n]
    reader = rules_mod.key_reader(paths, roles_known=roles_known)
    ka, kb = _key(reader, a), _key(reader, b)
    ra, rb = _reference(paths, roles_known, a), _reference(paths, roles_known, b)
    assert (ka is None) == (ra is None) and (kb is None) == (rb is None)
    if ka is not None and kb is not None:
        assert (ka == kb) == (ra == rb), (paths, a, b)


def test_a_key_reader_holds_no_policy_text_in_its_source() -> None:
    plain = rules_mod.key_reader(["a.b", "a.c.d", "e"], roles_known=True)
    weird = ["x'\n__import__('os')#{}.b", "x'\n__import__('os')#{}.c\"\".d", "e\\"]
    odd = rules_mod.key_reader(weird, roles_known=True)
    from sitegate.engine.codegen import generate_reader

    assert generate_reader(weird, roles_known=True).source == generate_reader(["a.b", "a.c.d", "e"], roles_known=True).source
    f = {"x'\n__import__('os')#{}": {"b": 1, "c\"\"": {"d": [2]}}, "e\\": "3", "derived": {"roles": ["task"]}}
    assert odd(f) == (True, "3", 1, [2])
    assert plain({"a": {"b": 1, "c": {"d": [2]}}, "e": "3", "derived": {}}) == (False, "3", 1, [2])


POLICIES_OPTIONS = Options(target="8.7.3", locate=True, full_outcomes=True, audit_date="2026-11-25")
STAMP = re.compile(r'"(started_at|finished_at)": "[^"]*"')


def _findings(hosts: list[dict[str, Any]], policies: PolicySet, rule: str, memo: bool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(rules_mod, "MEMO_LIMIT", 512 if memo else 0)
    report = json.loads(STAMP.sub(r'"\1": "T"', render(Format.JSON, evaluate(copy.deepcopy(hosts), policies, POLICIES_OPTIONS))))
    return [[f for f in h["findings"] if f["rule_id"] == rule] for h in report["hosts"]]


def test_hosts_that_differ_only_in_a_value_a_tuple_would_mix_up_keep_their_own_evidence(policies: PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    """-0.0 == 0.0 and hash alike, so a key of plain values would hand the second host the
    first one's evidence; and a three-part path (iis.request_filtering...) must be read
    as deep as it goes. Each host's finding must show its own value."""
    base = next(h for h in json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))["hosts"]
                if "package" in json.dumps(h.get("site_services")))
    hosts = []
    for i, (free, verbs) in enumerate(((0.0, ["GET"]), (-0.0, ["GET"]), (0.0, ["GET", "POST"]), (-0.0, ["GET", "POST"]))):
        h = copy.deepcopy(base)
        h["name"] = f"HOST{i}"
        h.setdefault("hardware", {})["package_store_free_gb"] = free
        # Only the denied verbs decide: every other fact the rule reads is the same.
        h.setdefault("iis", {})["request_filtering"] = {"max_query_string": 4096, "allowed_verbs": [], "allow_unlisted_verbs": True, "denied_verbs": verbs}
        hosts.append(h)
    space = _findings(hosts, policies, "ITMS-PKG-STORE-FREE-SPACE", True, monkeypatch)
    observed = [[e["observed"] for f in fs for e in f["evidence"] if e["fact"] == "hardware.package_store_free_gb"] for fs in space]
    assert [repr(v) for (v,) in observed] == ["0.0", "-0.0", "0.0", "-0.0"]
    assert space == _findings(hosts, policies, "ITMS-PKG-STORE-FREE-SPACE", False, monkeypatch)
    filtering = _findings(hosts, policies, "ITMS-IIS-REQUEST-FILTERING", True, monkeypatch)
    assert filtering == _findings(hosts, policies, "ITMS-IIS-REQUEST-FILTERING", False, monkeypatch)
    verbs = [[e["observed"] for f in fs for e in f["evidence"] if e["fact"] == "iis.request_filtering.denied_verbs"] for fs in filtering]
    assert verbs == [[["GET"]], [["GET"]], [["GET", "POST"]], [["GET", "POST"]]]
