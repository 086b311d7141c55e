"""Data overlays (--data): an administrator's own numbers confirm or replace pack tables."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from sitegate.engine.model import OUTCOME_NAMES
from sitegate.base.diagnostics import InputError
from sitegate.engine.evaluate import evaluate
from sitegate.engine.options import Options
from sitegate.engine.overlays import data_schema
from sitegate.engine.packs import load_policies

from .conftest import EXAMPLES


def overlay(tmp_path: Path, text: str, name: str = "data.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def outcome(policies, host: dict, rule_id: str, target: str = "8.7.3") -> str:
    r = evaluate([{"name": "h", **host}], policies, Options(target=target, full_outcomes=True, audit_date="2026-11-25"))
    h = r.hosts[0]
    return OUTCOME_NAMES[dict(zip(h.rule_ids, h.outcomes))[rule_id]]


def errors_of(tmp_path: Path, text: str) -> list:
    p = overlay(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_policies(overlays=[str(p)])
    return [d for d in exc.value.diagnostics if d.source == str(p)]


AGENT_87 = """\
schema: sitegate/data/v1
tables:
  agent_minimum:
    mode: replace
    confirmed_by: "J. Admin, ITMS 8.7 release notes (ticket CHG-1234)"
    rows:
      - {min_version: "8.7"}
"""

MATRIX_873 = """\
schema: sitegate/data/v1
description: Our 8.7.3 matrix, from the release notes.
tables:
  site_server_os:
    pack: itms-8.7.3
    mode: merge
    confirmed_by: https://techdocs.broadcom.com/example/8-7-3/supported-platforms
    rows:
      - {build: 17763, family: server, name: Windows Server 2019}
      - {build: 9600, family: server, name: Windows Server 2012 R2}
"""


def test_valid_overlay_confirms_rows_and_changes_outcomes(tmp_path: Path) -> None:
    base, _ = load_policies()
    host = {"agent": {"version": "8.6.177.0"}, "site_services": {"planned": ["task"]}}
    assert outcome(base, host, "ITMS-PREREQ-AGENT-VERSION") == "pass"
    p = overlay(tmp_path, AGENT_87)
    ps, _ = load_policies(overlays=[str(p)])
    assert outcome(ps, host, "ITMS-PREREQ-AGENT-VERSION") == "fail"
    rows = ps.effective["itms-8.7.3"].tables["agent_minimum"].rows
    assert rows == ({"min_version": "8.7", "confirmed": True, "confirmed_by": "J. Admin, ITMS 8.7 release notes (ticket CHG-1234)"},)
    # Provenance: path and sha256 of the file, for the report header.
    assert [(o.path, o.digest) for o in ps.overlays] == [(str(p), hashlib.sha256(p.read_bytes()).hexdigest())]
    assert "agent_minimum@itms-base" in ps.overlays[0].tables


def test_merge_with_pack_touches_only_that_release(tmp_path: Path) -> None:
    ps, _ = load_policies(overlays=[str(overlay(tmp_path, MATRIX_873))])
    old = {"os": {"build": 9600, "product_type": "server", "architecture": "x64"}, "site_services": {"planned": ["package"]}}
    assert outcome(ps, old, "ITMS-PREREQ-OS-SUPPORTED", "8.7.3") == "pass"
    assert outcome(ps, old, "ITMS-PREREQ-OS-SUPPORTED", "8.8") == "fail"
    rows = {r["build"]: r for r in ps.effective["itms-8.7.3"].tables["site_server_os"].rows}
    assert rows[17763]["confirmed"] is True and rows[17763]["confirmed_by"].startswith("https://techdocs")
    assert rows[20348]["confirmed"] is False  # kept by merge, still unconfirmed
    assert rows[9600]["confirmed"] is True
    # 8.8 has its own table: untouched.
    assert all(r["confirmed"] is False for r in ps.effective["itms-8.8"].tables["site_server_os"].rows)


def test_overlay_without_pack_applies_to_every_pack_that_defines_the_table(tmp_path: Path) -> None:
    text = """\
schema: sitegate/data/v1
tables:
  task_server_limits:
    mode: replace
    confirmed_by: "registry of TS-LON-01, read 2026-11-20"
    rows: [{max_registered_clients: 20000}]
"""
    ps, _ = load_policies(overlays=[str(overlay(tmp_path, text))])
    host = {"load": {"endpoints": 5001}, "site_services": {"installed": [{"service": "task"}]}}
    for target in ("8.5", "8.7.3", "8.8.1"):
        assert outcome(ps, host, "ITMS-CAP-TASK-REGISTRATION", target) == "pass"


def test_later_overlay_wins(tmp_path: Path) -> None:
    second = AGENT_87.replace('"8.7"', '"8.5"').replace("J. Admin", "K. Admin")
    ps, _ = load_policies(overlays=[str(overlay(tmp_path, AGENT_87, "a.yaml")), str(overlay(tmp_path, second, "b.yaml"))])
    assert ps.effective["itms-8.8.1"].tables["agent_minimum"].rows[0]["min_version"] == "8.5"
    assert len(ps.overlays) == 2


def test_unknown_table_is_a_located_error(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, "schema: sitegate/data/v1\ntables:\n  site_server_oss:\n    mode: replace\n    confirmed_by: me\n    rows: [{build: 1}]\n")
    assert len(errs) == 1 and (errs[0].line, errs[0].column) == (4, 5)  # the table's entry
    assert "unknown table 'site_server_oss'" in errs[0].message and "site_server_os" in errs[0].message


def test_wrong_types_are_located_errors(tmp_path: Path) -> None:
    text = """\
schema: sitegate/data/v1
tables:
  site_server_os:
    mode: merge
    confirmed_by: me
    rows:
      - {build: "17763", family: server}
      - {build: 20348, family: 3}
"""
    errs = errors_of(tmp_path, text)
    msgs = {(d.line, d.pointer): d.message for d in errs}
    assert "holds numbers" in msgs[(7, "/tables/site_server_os/rows/0/build")]
    assert "holds strings" in msgs[(8, "/tables/site_server_os/rows/1/family")]


def test_schema_errors_are_located(tmp_path: Path) -> None:
    text = "schema: sitegate/data/v1\ntables:\n  agent_minimum:\n    mode: overwrite\n    rows: {min_version: '8.7'}\n"
    errs = errors_of(tmp_path, text)
    where = {d.pointer: d for d in errs}
    assert "/tables/agent_minimum/mode" in where and where["/tables/agent_minimum/mode"].line == 4
    assert "/tables/agent_minimum/rows" in where and where["/tables/agent_minimum/rows"].line == 5
    assert any("confirmed_by" in d.message for d in errs)


def test_float_version_is_refused_with_a_hint(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, AGENT_87.replace('{min_version: "8.7"}', "{min_version: 8.10}"))
    assert len(errs) == 1 and errs[0].line == 7
    assert "8.10 is a YAML number" in errs[0].message and "'8.10'" in errs[0].message


def test_semantic_mistakes(tmp_path: Path) -> None:
    # merge on a table without key columns
    errs = errors_of(tmp_path, AGENT_87.replace("mode: replace", "mode: merge"))
    assert "no key columns" in errs[0].message and errs[0].line == 4
    # a pack that inherits the table rather than defining it
    errs = errors_of(tmp_path, AGENT_87.replace("  agent_minimum:\n", "  agent_minimum:\n    pack: itms-8.7.3\n"))
    assert "does not define table 'agent_minimum' itself" in errs[0].message and "itms-base" in errs[0].message
    # an unknown pack
    errs = errors_of(tmp_path, AGENT_87.replace("  agent_minimum:\n", "  agent_minimum:\n    pack: itms-9.9\n"))
    assert "unknown pack 'itms-9.9'" in errs[0].message
    # a row without a column a rule reads; the same key twice; 'confirmed' set by hand
    text = MATRIX_873.replace("      - {build: 9600, family: server, name: Windows Server 2012 R2}\n", "      - {build: 9600, name: x}\n      - {build: 17763, family: server, confirmed: false}\n")
    errs = errors_of(tmp_path, text)
    text_all = " | ".join(d.message for d in errs)
    assert "lacks column 'family'" in text_all and "ITMS-PREREQ-OS-SUPPORTED" in text_all
    assert "given twice" in text_all and "'confirmed' is set by sitegate" in text_all


def test_cli_data_overlay_errors_exit_2_with_positions(cli, tmp_path: Path) -> None:
    p = overlay(tmp_path, "schema: sitegate/data/v1\ntables:\n  nope:\n    mode: replace\n    confirmed_by: me\n    rows: [{a: 1}]\n")
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--data", str(p))
    assert code == 2 and f"{p}:4:5:" in err and "unknown table 'nope'" in err


def test_cli_data_overlay_in_report_and_policies_show(cli, tmp_path: Path) -> None:
    p = overlay(tmp_path, MATRIX_873)
    code, out, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--data", str(p), "-f", "json")
    assert code == 1
    report = json.loads(out)
    assert hashlib.sha256(p.read_bytes()).hexdigest() in json.dumps(report)
    code, out, _ = cli("policies", "show", "itms-8.7.3", "--data", str(p))
    assert code == 0
    matrix = out[out.index("  site_server_os:"):out.index("  task_iis_features:")]
    line = next(x for x in matrix.splitlines() if "build=9600" in x)
    assert "[confirmed by https://techdocs.broadcom.com/example/8-7-3/supported-platforms]" in line
    assert "UNCONFIRMED" in next(x for x in matrix.splitlines() if "build=20348" in x)


def test_data_schema_is_printed_and_documented(cli) -> None:
    code, out, _ = cli("schema", "data")
    assert code == 0 and json.loads(out) == data_schema()
    jsonschema.Draft202012Validator.check_schema(data_schema())
    # Titles and descriptions on every property: tests/test_cli.py checks every schema.


EMPTY_IIS = """\
schema: sitegate/data/v1
tables:
  task_iis_features:
    mode: replace
    confirmed_by: someone
    rows: []
"""


def test_an_overlay_that_empties_a_table_a_rule_reads_is_an_error(tmp_path: Path) -> None:
    """'contains all of' an empty table passes: an overlay must not switch a rule off silently."""
    (d,) = errors_of(tmp_path, EMPTY_IIS)
    assert d.pointer == "/tables/task_iis_features/rows" and d.line == 6
    assert "switches off" in d.message and "ITMS-PREREQ-IIS-CONFIGURED" in d.message and "allow_empty: true" in d.message


def test_an_overlay_may_empty_a_table_when_it_says_so_and_the_report_names_the_rules(tmp_path: Path, cli) -> None:
    p = overlay(tmp_path, EMPTY_IIS.replace("    rows: []\n", "    rows: []\n    allow_empty: true\n"))
    ps, _ = load_policies(overlays=[str(p)])
    (ov,) = ps.overlays
    assert ov.rules == ("ITMS-PREREQ-IIS-CONFIGURED",)
    host = {"iis": {"installed": True, "features": []}, "site_services": {"planned": ["task"]}, "os": {"caption": "Windows Server 2019", "build": 17763, "product_type": "server"}}
    assert outcome(ps, host, "ITMS-PREREQ-IIS-CONFIGURED") == "pass"  # what allow_empty means: the list is switched off
    jsonschema.Draft202012Validator(data_schema()).validate(__import__("yaml").safe_load(p.read_text()))


def test_a_merge_with_no_rows_changes_nothing_and_is_allowed(tmp_path: Path) -> None:
    p = overlay(tmp_path, EMPTY_IIS.replace("mode: replace", "mode: merge").replace("task_iis_features:", "site_server_os:"))
    load_policies(overlays=[str(p)])


def test_every_output_names_each_overlay_its_digest_and_the_rules_it_changed(tmp_path: Path, cli) -> None:
    """Issue 16: the report's provenance records which rules an overlay changed, in every format."""
    import xml.etree.ElementTree as ET

    from .conftest import REPO

    first = EXAMPLES / "data-overlay.yaml"  # merges rows into site_server_os of itms-8.7.3
    second = overlay(tmp_path, EMPTY_IIS.replace("    rows: []\n", "    rows: []\n    allow_empty: true\n"))
    # Written out from the packs, not read from the code: the rules that read each table.
    expected = [
        {"path": str(first), "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
         "tables": ["site_server_os@itms-8.7.3"], "rules": ["ITMS-PREREQ-OS-SUPPORTED"]},
        {"path": str(second), "sha256": hashlib.sha256(second.read_bytes()).hexdigest(),
         "tables": ["task_iis_features@itms-base"], "rules": ["ITMS-PREREQ-IIS-CONFIGURED"]},
    ]
    out = {f: tmp_path / f"r.{f}" for f in ("json", "sarif", "junit", "markdown", "html")}
    code, table, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--audit-date", "2026-11-25",
                           "--data", str(first), "--data", str(second), *[a for f, p in out.items() for a in ("-o", f"{f}={p}")], "-o", "table=-")
    assert code == 1, err
    for o in expected:
        line = next(x for x in table.splitlines() if o["sha256"] in x)
        assert line.startswith(f"data overlay {o['path']}") and o["rules"][0] in line and o["tables"][0] in line
    report = json.loads(out["json"].read_text(encoding="utf-8"))
    assert report["run"]["overlays"] == expected
    schema = json.loads((REPO / "schemas" / "report.v2.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    sarif = json.loads(out["sarif"].read_text(encoding="utf-8"))
    assert sarif["runs"][0]["properties"]["sitegate"]["overlays"] == expected
    suites = {s.get("name"): s for s in ET.fromstring(out["junit"].read_bytes()).iter("testsuite")}
    props = {p.get("name"): p.get("value") for p in suites["sitegate"].iter("property")}
    for i, o in enumerate(expected, 1):
        assert props[f"overlay.{i}.path"] == o["path"] and props[f"overlay.{i}.sha256"] == o["sha256"]
        assert props[f"overlay.{i}.tables"] == ", ".join(o["tables"]) and props[f"overlay.{i}.rules"] == ", ".join(o["rules"])
    md = out["markdown"].read_text(encoding="utf-8")
    page = out["html"].read_text(encoding="utf-8")
    for o in expected:
        line = next(x for x in md.splitlines() if o["sha256"] in x)
        assert line.startswith("> **Data overlay**") and o["rules"][0] in line and o["tables"][0] in line
        line = next(x for x in page.split("<div") if o["sha256"] in x)
        assert o["rules"][0] in line and o["tables"][0] in line
    # Without --data the reports carry no overlay entry (and stay as they were).
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"json={out['json']}", "-o", f"sarif={out['sarif']}")
    assert "overlays" not in json.loads(out["json"].read_text(encoding="utf-8"))["run"]
    assert "overlays" not in json.loads(out["sarif"].read_text(encoding="utf-8"))["runs"][0]["properties"]["sitegate"]


def test_an_overlay_does_not_leak_into_the_cached_packs(tmp_path: Path) -> None:
    # load_pack_file remembers unchanged packs in the process; an overlay must
    # build new packs, never change the remembered ones: with, without, with again.
    host = {"agent": {"version": "8.6.177.0"}, "site_services": {"planned": ["task"]}}
    p = overlay(tmp_path, AGENT_87)
    before, _ = load_policies()
    rows_before = before.effective["itms-8.7.3"].tables["agent_minimum"].rows
    with_overlay, _ = load_policies(overlays=[str(p)])
    without, _ = load_policies()
    again, _ = load_policies(overlays=[str(p)])
    assert outcome(with_overlay, host, "ITMS-PREREQ-AGENT-VERSION") == "fail"
    assert outcome(without, host, "ITMS-PREREQ-AGENT-VERSION") == "pass"
    assert outcome(again, host, "ITMS-PREREQ-AGENT-VERSION") == "fail"
    assert without.effective["itms-8.7.3"].tables["agent_minimum"].rows == rows_before
    assert with_overlay.effective["itms-8.7.3"].tables["agent_minimum"].rows != rows_before
    assert without.overlays == []
    # The unchanged packs are the remembered objects; the overlaid one is new.
    assert without.by_id["itms-base"] is before.by_id["itms-base"]
    assert with_overlay.by_id["itms-base"] is not before.by_id["itms-base"]
    assert with_overlay.by_id["itms-8.7.3"] is before.by_id["itms-8.7.3"]  # agent_minimum is itms-base's table
