"""Property tests (hypothesis): the loaders, the compiled validator and the renderers.

Every property runs a modest, derandomized number of examples, so the suite
stays fast and CI runs are reproducible. ``HYPOTHESIS_PROFILE=deep`` runs more.
"""
from __future__ import annotations

import copy
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegate.engine.evaluate import evaluate
from sitegate.engine.options import Options
from sitegate.engine.model import Report
from sitegate.engine.render import Format, available_formats, render
from sitegate.facts.fastcheck import Walk
from sitegate.facts.load import HostRecord, Rejected, facts_schema, host_check, iter_document, iter_jsonl

REPO = Path(__file__).resolve().parents[1]

settings.register_profile("ci", max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

OPTIONS = Options(target="8.7.3", audit_date="2026-11-25", locate=True, full_outcomes=True)

# ------------------------------------------------------------------ strategies

# Any text, control characters, markup, ']]>' and ANSI escapes included (no lone surrogates:
# they cannot come out of a UTF-8 file, and the loader refuses their \u escapes).
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x1b[31mred\x1b[0m", "]]>", "<b>&amp;</b>", "\x00", "a\r\nb", "\u2028", "\ufffe", "\x7f\x9b", "${x}", "{host}"]),
    st.text(st.characters(codec="utf-8", max_codepoint=0x20), max_size=10),
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1), st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(JSON_SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(TEXT, kids, max_size=4)), max_leaves=20)


@lru_cache(maxsize=None)
def _schema() -> dict[str, Any]:
    return facts_schema()


def _from_schema(s: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values valid against the facts-schema subset (what fastcheck compiles)."""
    defs = _schema()["$defs"]
    if "$ref" in s:
        return _from_schema(defs[s["$ref"].split("/")[-1]], depth)
    if "anyOf" in s:
        return st.one_of([_from_schema(a, depth) for a in s["anyOf"]])
    if "enum" in s:
        return st.sampled_from(s["enum"])
    t = s.get("type")
    if t == "null":
        return st.none()
    if t == "boolean":
        return st.booleans()
    if t in ("integer", "number"):
        lo, hi = s.get("minimum"), s.get("maximum")
        ints = st.integers(min_value=lo, max_value=hi)
        return ints if t == "integer" else st.one_of(ints, st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False))
    if t == "string":
        if "pattern" in s:
            return st.from_regex(s["pattern"], fullmatch=True).filter(lambda x: len(x) <= s.get("maxLength", 10**9))
        return st.text(min_size=s.get("minLength", 0), max_size=min(s.get("maxLength", 30), 30))
    if t == "array":
        return st.lists(_from_schema(s.get("items", {}), depth + 1), max_size=3)
    if t == "object":
        props = s.get("properties", {})
        if not props:
            return st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=3)
        required = set(s.get("required", ()))
        return st.fixed_dictionaries(
            {k: _from_schema(v, depth + 1) for k, v in props.items() if k in required},
            optional={k: _from_schema(v, depth + 1) for k, v in props.items() if k not in required},
        )
    return JSON


VALID_HOST = st.deferred(lambda: _from_schema({"$ref": "#/$defs/HostFacts"}))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def near_valid_host(draw: st.DrawFn) -> Any:
    """A valid host with one thing changed: a value replaced, a key added or removed."""
    host = copy.deepcopy(draw(VALID_HOST))
    paths = [p for p in _paths(host) if p]
    kind = draw(st.sampled_from(["replace", "add", "remove", "bad-number", "bad-string"]))
    if not paths or kind == "add":
        target = host
        if paths:
            parent = draw(st.sampled_from([p for p in paths] + [()]))
            t = host
            for k in parent:
                t = t[k]
            target = t if isinstance(t, dict) else host
        target[draw(st.sampled_from(["buidl", "colour", "name", "extra", "version", ""]))] = draw(JSON)
        return host
    path = draw(st.sampled_from(paths))
    parent = host
    for k in path[:-1]:
        parent = parent[k]
    if kind == "remove":
        del parent[path[-1]]
    elif kind == "bad-number":
        parent[path[-1]] = draw(st.sampled_from([-1, 10**18, 1.5, "16384", True, 2**64]))
    elif kind == "bad-string":
        parent[path[-1]] = draw(st.sampled_from(["", "x" * 5000, "8.x", 5, None, [], {}]))
    else:
        parent[path[-1]] = draw(JSON)
    return host


# ------------------------------------------------------------------ any JSON never crashes

def _check_report(report: Report) -> None:
    assert isinstance(report, Report)
    assert report.summary.exit_code in (0, 1, 2)
    s = report.summary
    assert s.hosts_read == s.hosts_evaluated + s.hosts_rejected - sum(1 for h in report.hosts if h.rejected and h.index < 0)


@given(value=JSON)
def test_any_json_value_as_facts_never_crashes_the_library(value: Any, policies) -> None:
    _check_report(evaluate([value], policies, OPTIONS))


@given(value=st.one_of(JSON, near_valid_host()))
def test_any_json_document_never_crashes_the_loader(value: Any, policies) -> None:
    text = json.dumps(value, ensure_ascii=False)
    items = list(iter_document(text, "<doc>", locate=True))
    assert all(isinstance(i, (HostRecord, Rejected)) for i in items)
    lines = io.BytesIO(text.encode("utf-8", "surrogatepass") + b"\n" + text.encode("utf-8", "surrogatepass") + b"\n")
    items += list(iter_jsonl(lines, "<jsonl>", locate=True))
    for item in items:
        if isinstance(item, Rejected):
            assert item.diagnostics and all(d.line >= 1 for d in item.diagnostics if item.index >= 0)
    _check_report(evaluate(items, policies, OPTIONS))


@given(data=st.binary(max_size=300))
def test_any_bytes_never_crash_the_loader(data: bytes, tmp_path_factory, policies) -> None:
    from sitegate.facts.load import iter_file

    d = tmp_path_factory.mktemp("bytes")
    for name in ("f.json", "f.jsonl"):
        p = d / name
        p.write_bytes(data)
        items = list(iter_file(str(p), name, locate=True))
        _check_report(evaluate(items, policies, OPTIONS))


# ------------------------------------------------------------------ fastcheck == jsonschema

@lru_cache(maxsize=None)
def _reference() -> jsonschema.Draft202012Validator:
    s = dict(_schema())
    s.pop("oneOf", None)
    return jsonschema.Draft202012Validator({**s, "$ref": "#/$defs/HostFacts"})


def _fast_accepts(value: Any) -> bool:
    w = Walk()
    ok = host_check()(value, "", w)
    return bool(ok) and not w.errors and not w.warnings  # an unknown field is a warning, not accepted as is


@given(value=st.one_of(VALID_HOST, near_valid_host(), near_valid_host()))
def test_fastcheck_agrees_with_jsonschema(value: Any) -> None:
    expected = _reference().is_valid(value)
    assert _fast_accepts(value) == expected, (value, [e.message for e in _reference().iter_errors(value)])
    try:
        from sitegate.facts.load import host_fast_check
    except ImportError:
        return
    if host_fast_check()(value):  # the generated fast path may only say yes when the exact check does
        assert expected, value


# ------------------------------------------------------------------ round trips through the writers

def _strip(facts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in facts.items() if k != "derived"}


@given(hosts=st.lists(VALID_HOST, min_size=1, max_size=3))
def test_valid_facts_survive_the_writers(hosts: list[dict[str, Any]], tmp_path_factory) -> None:
    hosts = [{**h, "name": f"h{i}-{h['name']}"[:255]} for i, h in enumerate(hosts)]
    d = tmp_path_factory.mktemp("rt")
    docs = {
        "doc.json": json.dumps({"hosts": hosts}, indent=2, ensure_ascii=False).encode("utf-8"),
        "arr.json": orjson.dumps(hosts),
        "lines.jsonl": b"".join(orjson.dumps(h) + b"\n" for h in hosts),
        "crlf-utf16.json": b"\xff\xfe" + json.dumps(hosts, indent=1).replace("\n", "\r\n").encode("utf-16-le"),
    }
    try:
        from sitegate.facts.importers import ImportStats, write_jsonl
    except ImportError:
        write_jsonl = None
    if write_jsonl is not None:
        buf = io.BytesIO()
        records = [HostRecord(h["name"], copy.deepcopy(h), "<mem>", i, 0) for i, h in enumerate(hosts)]
        write_jsonl(records, buf, ImportStats())
        docs["exported.jsonl"] = buf.getvalue()
    from sitegate.facts.load import iter_file

    for name, data in docs.items():
        p = d / name
        p.write_bytes(data)
        got = list(iter_file(str(p), name, locate=True))
        assert all(isinstance(g, HostRecord) for g in got), (name, [g.diagnostics for g in got if isinstance(g, Rejected)])
        assert [_strip(g.facts) for g in got] == [json.loads(json.dumps(h)) for h in hosts], name


# ------------------------------------------------------------------ renderers

@lru_cache(maxsize=None)
def _report_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((REPO / "schemas" / "report.v2.schema.json").read_text(encoding="utf-8")))


@lru_cache(maxsize=None)
def _sarif_validator() -> Any:
    path = REPO / "schemas" / "vendor" / "sarif-schema-2.1.0.json"
    if not path.exists():
        path = REPO.parent / "shared" / "format-schemas" / "sarif-schema-2.1.0.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


@lru_cache(maxsize=None)
def _junit_schema() -> Any:
    import xmlschema

    xsd = REPO / "schemas" / "vendor" / "junit-10.xsd"
    return xmlschema.XMLSchema(str(xsd)) if xsd.exists() else None


# Host names through the library may hold lone surrogates (valid JSON escapes); every format
# must still give text a UTF-8 file holds (issue 16).
_SURROGATE_TEXT = st.tuples(st.text(max_size=10), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), st.text(max_size=10)).map("".join)
HOST_NAME = st.one_of(TEXT, st.text(min_size=1, max_size=60), _SURROGATE_TEXT).map(lambda s: (s or "x")[:255])


@settings(max_examples=15)  # each example renders every format and validates SARIF: keep it short
@given(names=st.lists(HOST_NAME, min_size=1, max_size=3), caption=TEXT, features=st.lists(TEXT, max_size=3))
def test_renderers_give_valid_output_for_any_text(names: list[str], caption: str, features: list[str], policies) -> None:
    _POLICIES[:] = [policies]
    hosts: list[Any] = []
    for i, n in enumerate(names):
        hosts.append({"name": n, "os": {"caption": caption, "build": 17763, "product_type": "workstation"}, "iis": {"installed": True, "features": features}, "load": {"endpoints": 500}, "platform": {"itms_version": "8.7.3"}})
    hosts.append({"name": names[0] + "-bad", "hardware": {"memory_mb": caption}})  # a rejected record, its name in diagnostics
    report = evaluate(hosts, policies, OPTIONS)
    for fmt in available_formats():
        render(fmt, report).encode("utf-8")  # strict: no lone surrogate left in any format
    _report_validator().validate(json.loads(render(Format.JSON, report)))
    formats = available_formats()
    if Format.SARIF in formats:
        _sarif_validator().validate(json.loads(render(Format.SARIF, report)))
    if Format.JUNIT in formats:
        xml = render(Format.JUNIT, report)
        ET.fromstring(xml)
        schema = _junit_schema()
        if schema is not None:
            schema.validate(xml)
    table = render(Format.TABLE, report)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u2028\u2029]", table), table
    if Format.MARKDOWN in formats:
        md = render(Format.MARKDOWN, report)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", md)
    if Format.HTML in formats:
        html = render(Format.HTML, report)
        plain = render(Format.HTML, evaluate([{"name": "x", "platform": {"itms_version": "8.7.3"}}], _policies_of(report), OPTIONS))
        assert html.count("<script") == plain.count("<script"), "markup from facts reached the HTML"
        assert "<b>&amp;" not in html and not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", html)


_POLICIES: list[Any] = []


def _policies_of(report: Report) -> Any:
    return _POLICIES[0]


@pytest.mark.parametrize("fmt", [f for f in Format if f in available_formats()])
def test_every_available_renderer_handles_an_empty_report(fmt: Format, policies) -> None:
    report = evaluate([], policies, OPTIONS)
    assert report.summary.exit_code == 2
    assert isinstance(render(fmt, report), str)
