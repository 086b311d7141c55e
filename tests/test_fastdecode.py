"""The msgspec fast path for JSON Lines records (``facts.fastdecode``) against the exact path.

With the fast decoder, ``_parse_line`` must give exactly what it gives without
it (orjson, the generated check, the schema walk): the same kind of item, the
same facts with the same Python types (1 stays int, 1.0 float, True bool), the
same warnings and diagnostics, the same positions. The hosts come from the
schema-driven generators of test_fastcheck (valid, mutated, every single
edit), written compact, with spaces and with ASCII escapes; and from
hand-written lines for what a generator rarely hits (duplicate keys, unknown
fields, escaped colons, integers beyond 64 bits, invalid UTF-8).
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from sitegate.facts import load
from sitegate.facts.fastdecode import DECODE_ERRORS, compile_decoder
from sitegate.facts.load import HostRecord, Rejected, _parse_line, _same_keys, facts_schema, host_decoder

from .test_fastcheck import JSON, SETTINGS, VALID_HOST, _has_integral_float, _mutated, _neighbours


def _typed(x: Any) -> Any:
    """The value with every scalar tagged by its type: == then tells 1, 1.0 and True apart."""
    if type(x) is dict:
        return ("dict", [(k, _typed(v)) for k, v in x.items()])  # key order too
    if type(x) is list:
        return ("list", [_typed(v) for v in x])
    return (type(x).__name__, x)


def _item(line: bytes, fast: bool) -> Any:
    with pytest.MonkeyPatch.context() as m:
        if not fast:
            m.setattr(load, "_DECODE", None)
        return _parse_line("fleet.jsonl", 7, 8, line, True)


def _summary(item: Any) -> Any:
    if type(item) is HostRecord:
        pointers = ["", "/name", "/os/build", "/iis/request_filtering/allowed_verbs", "/site_services/installed/0/service", "/nope"]
        return (
            "host", item.name, item.source, item.index, item.line, _typed(item.facts),
            [d.to_dict() for d in item.warnings], [item.locate(p) for p in pointers],
        )
    assert type(item) is Rejected
    return ("rejected", item.source, item.index, item.host, [d.to_dict() for d in item.diagnostics])


def _lines(value: Any) -> list[bytes]:
    """One host written the ways exporters write it."""
    try:
        return [
            json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"),
            json.dumps(value).encode("ascii"),  # spaces after ':' and ',', \\u escapes
        ]
    except (TypeError, ValueError):  # not JSON at all (a tuple key, a circular value)
        return []


def _assert_same(value: Any) -> None:
    for line in _lines(value):
        assert _summary(_item(line, True)) == _summary(_item(line, False)), line


def test_the_shipped_schema_has_a_fast_decoder() -> None:
    """The shipped facts schema translates, and the decoder decodes what the schema
    accepts (same values, same Python types) and refuses what it rejects."""
    for decode in (host_decoder(), compile_decoder(facts_schema(), "#/$defs/HostFacts")):
        assert callable(decode)
        host = {"name": "h1", "os": {"build": 17763, "product_type": "server"}, "hardware": {"memory_mb": 8192, "system_drive_free_gb": 1.0, "virtual": True}, "iis": {"features": ["Web-ASP"]}}
        got = decode(json.dumps(host).encode())
        assert _typed(got) == _typed(host)  # 1.0 stays a float, True a bool, 8192 an int
        for bad in (
            {"name": "h1", "os": {"build": "17763"}},  # a string where the schema wants an integer
            {"name": "h1", "hardware": {"memory_mb": True}},  # a boolean is not an integer
            {"name": "h1", "os": {"build": -1}},  # below the minimum
            {"os": {"build": 1}},  # no name
        ):
            with pytest.raises(DECODE_ERRORS):
                decode(json.dumps(bad).encode())
        with pytest.raises(DECODE_ERRORS):
            decode(b'{"name": "h1",')  # not JSON


def test_a_schema_beyond_the_translation_has_none() -> None:
    root = {"$defs": {"H": {"type": "object", "properties": {"x": {"const": 1}}, "additionalProperties": False}}}
    assert compile_decoder(root, "#/$defs/H") is None
    recursive = {"$defs": {"T": {"type": "object", "additionalProperties": False, "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/T"}}}}}}
    assert compile_decoder(recursive, "#/$defs/T") is None


@SETTINGS
@given(value=VALID_HOST)
def test_valid_hosts_take_the_fast_path_and_agree(value: Any) -> None:
    _assert_same(value)
    compact = _lines(value)[0]
    decode = host_decoder()
    try:
        got = decode(compact)
    except DECODE_ERRORS:
        got = None
    # The fast path is used, not just harmless: only a float where an integer is
    # asked (4.0) or the free-form extensions leave a valid host to the exact path.
    if not _has_integral_float(value) and b'"extensions"' not in compact:
        assert got is not None and _same_keys(compact, got), compact


@SETTINGS
@given(value=_mutated(VALID_HOST))
def test_mutated_hosts_agree(value: Any) -> None:
    _assert_same(value)


@settings(SETTINGS, max_examples=10)
@given(value=VALID_HOST)
def test_every_single_edit_agrees(value: Any) -> None:
    for v in _neighbours(value):
        _assert_same(v)


@SETTINGS
@given(value=JSON)
def test_anything_agrees(value: Any) -> None:
    _assert_same(value)
    _assert_same({"name": "h", "os": value})


HOST = b'{"name":"h1","os":{"build":17763,"product_type":"server","architecture":"x64"},"site_services":{"planned":["task"]}}'


@pytest.mark.parametrize("line", [
    HOST,
    # a duplicate key, at the top and nested: the exact path reports it
    b'{"name":"h1","name":"h2"}',
    b'{"name":"h1","os":{"build":17763,"build":1}}',
    # unknown fields: msgspec drops them, so the exact path must warn about them
    b'{"name":"h1","memroy_mb":4096}',
    b'{"name":"h1","os":{"build":17763,"bulid":1}}',
    # an unknown field hidden behind an escaped colon elsewhere in the line
    b'{"name":"h\\u003a1","x":1}',
    b'{"name":"h\\u003A1","os":{"caption":"a\\u003ab","y":2}}',
    b'{"name":"h\\\\u003a1","x":1}',
    # integers around 64 bits, where msgspec and orjson read differently
    b'{"name":"h1","extensions":{"big":18446744073709551616,"neg":-9223372036854775809}}',
    b'{"name":"h1","dotnet":{"release":18446744073709551616}}',
    b'{"name":"h1","dotnet":{"release":4294967296}}',
    b'{"name":"h1","hardware":{"memory_mb":16384.0}}',
    b'{"name":"h1","hardware":{"package_store_free_gb":1E2}}',
    b'{"name":"h1","hardware":{"package_store_free_gb":1e400}}',
    b'{"name":"h1","agent":{"version":"8.7.3\\n"}}',
    b'{"name":"h1","agent":{"managed":1}}',
    b'{"name":"","os":null}',
    b'{"os":{"build":1}}',
    b'["h1"]',
    b'{"name":"h1","os":{"caption":"\\ud800"}}',
    b'{"name":"TS-\xc9T\xc9-02"}',
    b'{"name":"h1"} trailing',
    b'{"name":"h1","os":{"build":NaN}}',
    b'{"name":"h1","extensions":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}',
    # free-form data: null or empty, the word as a value, the key nested (unknown there)
    b'{"name":"h1","extensions":null}',
    b'{"name":"h1","extensions":{}}',
    b'{"name":"h1","extensions":{"x":1.5,"y":[1,"a",null]}}',
    b'{"name":"extensions","os":{"caption":"extensions"}}',
    b'{"name":"h1","os":{"extensions":{"big":18446744073709551616}}}',
])
def test_hand_written_lines_agree(line: bytes) -> None:
    assert _summary(_item(line, True)) == _summary(_item(line, False))


def test_unknown_field_is_still_reported() -> None:
    item = _item(b'{"name":"h1","os":{"build":17763,"bulid":1}}', True)
    assert type(item) is HostRecord
    assert [d.pointer for d in item.warnings] == ["/7/os/bulid"]
    assert item.facts["os"]["bulid"] == 1  # kept, not dropped with the warning


def test_duplicate_key_is_still_an_error() -> None:
    item = _item(b'{"name":"h1","os":{"build":17763,"build":1}}', True)
    assert type(item) is Rejected
    assert any("duplicate key 'build'" in d.message for d in item.diagnostics)


def test_clean_host_is_decoded_by_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast path really runs (orjson is not called): break orjson.loads and parse.
    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("orjson.loads called on the fast path")

    monkeypatch.setattr(load.orjson, "loads", boom)
    item = _parse_line("s", 0, 1, HOST, True)
    assert type(item) is HostRecord and item.facts["derived"]["roles"] == ["task"]


# Every string pattern of the facts schema, by where it sits in a host, with a
# value it accepts and one it refuses. The patterns are checked after msgspec
# (fastdecode.compile_after_check), each remembering the strings it matched.
PATTERN_SPOTS = [
    ({"agent": {"version": "8.7.3264.0"}}, {"agent": {"version": "8"}}),
    ({"os": {"version": "10.0.17763"}}, {"os": {"version": "10.0.17763.1"}}),
    ({"platform": {"itms_version": "8.7.3.1.2"}}, {"platform": {"itms_version": "8.x"}}),
    ({"platform": {"internet_gateway_version": "8.7"}}, {"platform": {"internet_gateway_version": "v8.7"}}),
    ({"platform": {"parent_notification_server_version": "8.6.1"}}, {"platform": {"parent_notification_server_version": "8"}}),
    ({"site_services": {"installed": [{"service": "task", "version": "8.7.1"}, {"service": "package", "version": "8.7.2.1"}]}},
     {"site_services": {"installed": [{"service": "task", "version": "8.7.1"}, {"service": "package", "version": "8.7.2.1.5"}]}}),
]


@pytest.mark.parametrize(("good", "bad"), PATTERN_SPOTS)
def test_every_pattern_is_checked_on_the_fast_path(good: dict[str, Any], bad: dict[str, Any]) -> None:
    decode = host_decoder()
    for _ in range(2):  # the second time the good value comes from the memo, the bad one must fail again
        ok = {"name": "h1", **good}
        assert _typed(decode(json.dumps(ok).encode())) == _typed(ok)
        with pytest.raises(DECODE_ERRORS):
            decode(json.dumps({"name": "h1", **bad}).encode())
    for value in ({"name": "h1", **good}, {"name": "h1", **bad}):
        _assert_same(value)


def test_a_string_one_pattern_matched_is_not_taken_for_another() -> None:
    """Each pattern keeps its own memo: 8.7.3.1.2 is a platform version (any number of
    parts) but not an agent version (two to four); 8.7.3264.0 an agent version but no
    OS version (two or three parts)."""
    decode = host_decoder()
    decode(b'{"name":"h1","platform":{"itms_version":"8.7.3.1.2"},"agent":{"version":"8.7.3264.0"}}')
    for line in (b'{"name":"h1","agent":{"version":"8.7.3.1.2"}}', b'{"name":"h1","os":{"version":"8.7.3264.0"}}'):
        with pytest.raises(DECODE_ERRORS):
            decode(line)
        assert type(_item(line, True)) is Rejected


def test_a_pattern_beside_other_types_in_a_union() -> None:
    """A pattern checked after decoding applies to strings only, wherever they sit."""
    root = {"$defs": {"H": {"type": "object", "additionalProperties": False, "properties": {
        "v": {"anyOf": [{"type": "string", "pattern": "^a+$"}, {"type": "integer", "minimum": 0, "maximum": 9}]},
        "l": {"type": "array", "items": {"type": "string", "pattern": "^b$"}},
    }}}}
    decode = compile_decoder(root, "#/$defs/H")
    assert decode is not None
    assert decode(b'{"v":"aa","l":["b","b"]}') == {"v": "aa", "l": ["b", "b"]}
    assert decode(b'{"v":5}') == {"v": 5}
    for bad in (b'{"v":"ab"}', b'{"l":["b","c"]}', b'{"v":"a\\n\\n"}', b'{"v":5.5}'):
        with pytest.raises(DECODE_ERRORS):
            decode(bad)
    plain = {"$defs": {"H": {"type": "object", "additionalProperties": False, "properties": {"v": {"type": "string"}}}}}
    assert compile_decoder(plain, "#/$defs/H") is not None


def test_free_form_data_is_left_to_the_exact_path() -> None:
    """msgspec reads free-form values (extensions) as it likes (integers beyond 64 bits
    differ from orjson): the decoder refuses any but null, wherever the schema puts them."""
    decode = host_decoder()
    for line in (b'{"name":"h1","extensions":{}}', b'{"name":"h1","extensions":{"big":18446744073709551616}}'):
        with pytest.raises(DECODE_ERRORS):
            decode(line)
    assert decode(b'{"name":"h1","extensions":null}') == {"name": "h1", "extensions": None}
    assert decode(b'{"name":"extensions"}') == {"name": "extensions"}
    root = {"$defs": {"H": {"type": "object", "additionalProperties": False, "properties": {
        "l": {"type": "array", "items": {"type": "object"}},
        "o": {"anyOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}]},
    }}}}
    nested = compile_decoder(root, "#/$defs/H")
    assert nested is not None
    assert nested(b'{"l":[],"o":null}') == {"l": [], "o": None}
    for bad in (b'{"l":[{}]}', b'{"o":{"a":1}}', b'{"l":[{"a":1}],"o":null}'):
        with pytest.raises(DECODE_ERRORS):
            nested(bad)
