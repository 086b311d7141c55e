"""Waivers: loading (schema, located errors), matching, expiry, unused, and the gate."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from sitegate.base.diagnostics import InputError
from sitegate.engine.evaluate import evaluate
from sitegate.engine.model import Finding, Location, Outcome
from sitegate.engine.waivers import load_waivers

from .conftest import EXAMPLES
from .formats_support import AUDIT_DATE, DATA, fleet_items, options

HEAD = "schema: sitegate/waivers/v1\nwaivers:\n"


def write(tmp_path: Path, body: str, name: str = "w.yaml") -> str:
    p = tmp_path / name
    p.write_text(HEAD + body, encoding="utf-8")
    return str(p)


def waiver(id="W-1", rule="ITMS-NET-48", hosts="*", expires="2027-01-01", reason="r", owner="o") -> str:
    return f"  - id: {id}\n    rule: \"{rule}\"\n    hosts: \"{hosts}\"\n    reason: {reason}\n    owner: {owner}\n    expires: {expires}\n"


def finding(rule: str = "ITMS-NET-48") -> Finding:
    return Finding(rule, Outcome.FAIL, "error", "high", "m", (), Location("f.json", 1, 1, ""), "dotnet.release", True)


def test_active_match_with_glob_and_case_insensitive_host(tmp_path: Path) -> None:
    ws = load_waivers(write(tmp_path, waiver(rule="itms-net-*", hosts="ts-*")), today="2026-11-20")
    w = ws.match("TS-LON-01", finding())
    assert w is not None and w.waiver_id == "W-1" and w.expires == "2027-01-01"
    assert ws.match("PS-PAR-02", finding()) is None
    assert ws.match("TS-LON-01", finding("ITMS-CAP-DESKTOP-SITE")) is None
    (rep,) = ws.report()
    assert rep["status"] == "active" and rep["matched"] == 1 and rep["line"] == 3 and rep["owner"] == "o"
    assert len(ws.digest) == 64


def test_expired_never_matches_and_next_waiver_applies(tmp_path: Path) -> None:
    body = waiver(id="OLD", expires='"2026-01-31"') + waiver(id="NEW", expires="2026-11-20")
    ws = load_waivers(write(tmp_path, body), today="2026-11-20")
    w = ws.match("h", finding())
    assert w is not None and w.waiver_id == "NEW"  # expires is the last day it applies
    rep = {r["id"]: r for r in ws.report()}
    assert rep["OLD"]["status"] == "expired" and rep["OLD"]["matched"] == 1
    assert rep["NEW"]["status"] == "active"
    ws2 = load_waivers(write(tmp_path, waiver(expires="2026-11-19"), "w2.yaml"), today="2026-11-20")
    assert ws2.match("h", finding()) is None and ws2.report()[0]["status"] == "expired"


def test_unused_waiver_reported(tmp_path: Path) -> None:
    ws = load_waivers(write(tmp_path, waiver(hosts="LAB-*")), today="2026-11-20")
    assert ws.match("TS-1", finding()) is None
    assert ws.report()[0]["status"] == "unused" and ws.report()[0]["matched"] == 0


@pytest.mark.parametrize(
    "body,line,needle",
    [
        (waiver().replace("    owner: o\n", ""), 3, "'owner' is a required property"),
        (waiver(expires="2026-13-45"), 8, "not a real date"),
        (waiver(expires="soon"), 8, "is not a date"),
        (waiver(expires="20270101"), 8, "is not a date"),
        (waiver() + waiver(), 9, "duplicate waiver id 'W-1' (first at line 3)"),
        (waiver() + "    color: red\n", 3, "Additional properties are not allowed ('color'"),
        (waiver(id="bad id!"), 3, "does not match"),
    ],
)
def test_bad_waivers_are_located(tmp_path: Path, body: str, line: int, needle: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(InputError) as exc:
        load_waivers(path, today="2026-11-20")
    (d,) = exc.value.diagnostics
    assert d.source == path and d.line == line and needle in d.message, d.format()


@pytest.mark.parametrize("field", ["rule", "hosts"])
@pytest.mark.parametrize("blank", ["", "   ", "\\t"])
def test_a_blank_rule_or_hosts_pattern_is_refused(tmp_path: Path, cli, field: str, blank: str) -> None:
    # A blank pattern matches nothing (or, stripped, everything a glob would): never load it.
    line = {"rule": 4, "hosts": 5}[field]
    path = write(tmp_path, waiver(**{field: blank}) + waiver(id="W-2"))
    with pytest.raises(InputError) as exc:
        load_waivers(path, today="2026-11-20")
    (d,) = exc.value.diagnostics
    assert d.source == path and d.line == line and d.pointer == f"/waivers/0/{field}"
    # empty: the schema's minLength; only white space: the loader's own check
    message = "'' should be non-empty" if blank == "" else f"{field} is blank"
    assert d.message == message and d.level.value == "error"
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--waivers", path)
    assert code == 2 and f"{path}:{line}:" in err and message in err


def test_not_a_waivers_file(tmp_path: Path) -> None:
    p = tmp_path / "w.yaml"
    p.write_text("schema: sitegate/policy/v1\nwaivers: []\n")
    with pytest.raises(InputError) as exc:
        load_waivers(str(p))
    assert exc.value.diagnostics[0].line == 1 and "sitegate/waivers/v1" in exc.value.diagnostics[0].message
    p.write_text("waivers: [\n")
    with pytest.raises(InputError) as exc:
        load_waivers(str(p))
    assert "invalid YAML" in exc.value.diagnostics[0].message
    with pytest.raises(InputError):
        load_waivers(str(tmp_path / "missing.yaml"))
    with pytest.raises(InputError) as exc:
        load_waivers(write(tmp_path, waiver(), "ok.yaml"), today="20-11-2026")
    assert "--audit-date" in exc.value.diagnostics[0].source


def test_empty_waiver_list_is_fine(tmp_path: Path) -> None:
    p = tmp_path / "w.yaml"
    p.write_text(HEAD.replace("waivers:\n", "waivers: []\n"))
    assert load_waivers(str(p)).report() == []


def test_schema_has_title_and_description_everywhere() -> None:
    schema = json.loads(resources.files("sitegate.schemas").joinpath("waivers.v1.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "title" in sub and "description" in sub, f"{path}/{name}"
            for k, v in node.items():
                walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}/{i}")

    walk(schema, "waivers")
    assert "title" in schema["properties"]["waivers"]["items"]


def test_schema_command_prints_waivers_schema(cli) -> None:
    code, out, _ = cli("schema", "waivers")
    assert code == 0 and json.loads(out)["$id"].endswith("waivers.v1.schema.json")


def test_engine_counts_waived_and_expired(policies) -> None:
    ws = load_waivers(str(DATA / "fleet-waivers.yaml"), today=AUDIT_DATE)
    r = evaluate(fleet_items(), policies, options(waivers=ws))
    lyon = next(h for h in r.hosts if h.name == "WKS-LYON-07")
    waived = [f for f in lyon.findings if f.waived is not None]
    assert waived and all(not f.gating and f.waived.waiver_id == "CHG-1001" for f in waived)
    nyc = next(h for h in r.hosts if h.name == "TS-NYC-03")
    net = next(f for f in nyc.findings if f.rule_id == "ITMS-NET-48")
    assert net.waived is None and net.gating  # CHG-1002 expired: the finding counts again
    assert r.summary.waived_findings == len(waived)
    assert {w["id"]: w["status"] for w in r.summary.waivers} == {"CHG-1001": "active", "CHG-1002": "expired", "CHG-1003": "unused"}
    assert r.exit_code == 1
    assert "1 waiver(s) expired: the gate fails until each is renewed or removed" in r.summary.notices


def test_cli_waive_everything_exit_0_until_it_expires(cli, tmp_path: Path) -> None:
    path = write(tmp_path, waiver(id="ALL", rule="*", hosts="*", expires="2027-01-31"))
    code, out, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--waivers", path, "--audit-date", "2026-11-20", "-f", "json")
    report = json.loads(out)
    assert code == 0 and report["summary"]["gating_findings"] == 0 and report["summary"]["waived_findings"] > 0
    assert report["run"]["extra_inputs"][0]["kind"] == "waivers"
    code, out, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--waivers", path, "--audit-date", "2027-02-01")
    assert code == 1 and "waiver ALL is expired" in out + err


def test_cli_bad_waivers_file_exit_2(cli, tmp_path: Path) -> None:
    path = write(tmp_path, waiver(expires="nope"))
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--waivers", path)
    assert code == 2 and f"{path}:8:" in err and "is not a date" in err


def test_the_first_active_matching_waiver_wins_and_alone_is_counted(tmp_path: Path) -> None:
    body = (
        waiver(id="OLD", rule="ITMS-*", expires="2026-01-01")  # expired: never matches
        + waiver(id="FIRST", rule="itms-net-48", hosts="TS-*", reason="'  first reason  '", owner="'  a@example.com '")
        + waiver(id="SECOND", rule="ITMS-NET-*", hosts="*")
    )
    ws = load_waivers(write(tmp_path, body), today="2026-11-20")
    assert len(ws) == 3
    for _ in range(3):
        w = ws.match("ts-lon-01", finding())
        assert w is not None and (w.waiver_id, w.reason, w.owner, w.expires) == ("FIRST", "first reason", "a@example.com", "2027-01-01")
    w = ws.match("PS-PAR-02", finding())
    assert w is not None and w.waiver_id == "SECOND"
    assert ws.match("PS-PAR-02", finding("ITMS-CAP-DESKTOP-SITE")) is None
    rep = {r["id"]: (r["status"], r["matched"]) for r in ws.report()}
    assert rep == {"OLD": ("expired", 5), "FIRST": ("active", 3), "SECOND": ("active", 1)}


def test_a_waivers_file_of_4_mib_is_read_one_byte_more_is_refused(tmp_path: Path) -> None:
    # NUL padding: the file at the limit is read (and refused as binary, not for its size).
    head = b"schema: sitegate/waivers/v1\nwaivers: []\n"
    p = tmp_path / "w.yaml"
    for size, code in ((4 * 1024 * 1024, "binary"), (4 * 1024 * 1024 + 1, "too-large")):
        p.write_bytes(head + b"\0" * (size - len(head)))
        with pytest.raises(InputError) as exc:
            load_waivers(str(p), today="2026-11-20")
        (d,) = exc.value.diagnostics
        assert d.code == code, size
    assert "larger than the 4 MiB limit" in d.message


def test_every_bad_waiver_is_reported_not_only_the_first(tmp_path: Path) -> None:
    body = waiver(id="W-1", expires="2026-13-45") + waiver(id="W-2", rule="  ") + waiver(id="W-2") + waiver(id="W-4", hosts=" ") + waiver(id="W-5")
    path = write(tmp_path, body)
    with pytest.raises(InputError) as exc:
        load_waivers(path, today="2026-11-20")
    got = [(d.line, d.message) for d in exc.value.diagnostics]
    assert got == [
        (8, "expires '2026-13-45' is not a real date"),
        (10, "rule is blank"),
        (15, "duplicate waiver id 'W-2' (first at line 9)"),
        (23, "hosts is blank"),
    ]


def test_type_errors_name_the_field_and_a_file_without_waivers_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, waiver().replace("    owner: o\n", "    owner: 5\n"))
    with pytest.raises(InputError) as exc:
        load_waivers(path, today="2026-11-20")
    (d,) = exc.value.diagnostics
    assert d.pointer == "/waivers/0/owner" and d.message == "5 is not of type 'string'"
    p = tmp_path / "none.yaml"
    p.write_text("schema: sitegate/waivers/v1\n")
    with pytest.raises(InputError) as exc:
        load_waivers(str(p), today="2026-11-20")
    (d,) = exc.value.diagnostics
    assert d.message == "'waivers' is a required property" and d.line == 1
