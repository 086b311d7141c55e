"""Versions stay strings everywhere a pack, an overlay or a column mapping gives one,
and a skipped or missing pack is never a green run.

Every case is a user's pack (a renamed copy of itms-8.8.1 extending it) in a
temporary --policy-dir, as an administrator would write one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sitegate.base.diagnostics import InputError, Level
from sitegate.engine.packs import load_policies
from sitegate.facts.importers import load_mapping

from .conftest import EXAMPLES, REPO, run_sitegate

BASE = (REPO / "policies" / "itms-8.8.1.yaml").read_text("utf-8")

AGENT_TABLE = """\
  agent_minimum:
    description: Our agent floor.
    confidence: low
    source: TODO
    rows:
      - {min_version: MINIMUM, confirmed: false}
"""


def custom_pack(replace: dict[str, str] | None = None, tables: str = "") -> str:
    """itms-8.8.1 renamed custom-8.8.1 (extending it), its rule renamed, with edits."""
    text = BASE.replace("id: itms-8.8.1\n", "id: custom-8.8.1\n", 1).replace("extends: itms-8.8\n", "extends: itms-8.8.1\n", 1)
    text = text.replace("- id: ITMS-CEM-IG-VERSION", "- id: CUSTOM-CEM-IG-VERSION")
    text = text.replace("tables:\n", "tables:\n" + tables, 1)
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def pack_dir(tmp_path: Path, text: str, name: str = "custom.yaml") -> Path:
    d = tmp_path / "pol"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text, "utf-8")
    return d


def load_errors(*dirs: Path, overlays: tuple[str, ...] = ()) -> list:
    with pytest.raises(InputError) as exc:
        load_policies([str(d) for d in dirs], overlays=overlays)
    return [d for d in exc.value.diagnostics if d.level is Level.ERROR]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# 1a. table rows --------------------------------------------------------------


def test_float_min_version_in_a_pack_table_is_a_located_load_error(tmp_path: Path) -> None:
    text = custom_pack(tables=AGENT_TABLE.replace("MINIMUM", "8.10"))
    d = pack_dir(tmp_path, text)
    (e,) = load_errors(d)
    assert e.source.endswith("custom.yaml") and e.pointer == "/tables/agent_minimum/rows/0/min_version"
    assert e.line == line_of(text, "min_version: 8.10") and e.column == text.splitlines()[e.line - 1].index("8.10") + 1
    assert "8.10 is a YAML number" in e.message and "'8.10'" in e.message


def test_float_itms_in_site_server_os_is_a_load_error(tmp_path: Path) -> None:
    text = custom_pack({'{itms: "8.8.1", build: 14393': "{itms: 8.10, build: 14393"})
    (e,) = load_errors(pack_dir(tmp_path, text))
    assert e.pointer == "/tables/site_server_os/rows/0/itms" and e.line == line_of(text, "itms: 8.10")
    assert "read as 8.1" in e.message and "'8.10'" in e.message


@pytest.mark.parametrize("cell", ["9", "8.10", "true", "[\"8.8\", 8.10]"])
def test_version_columns_take_strings_only(tmp_path: Path, cell: str) -> None:
    text = custom_pack(tables=AGENT_TABLE.replace("MINIMUM", cell))
    errs = load_errors(pack_dir(tmp_path, text))
    assert len(errs) == 1 and errs[0].pointer.startswith("/tables/agent_minimum/rows/0/min_version"), [x.format() for x in errs]
    assert errs[0].line == line_of(text, "min_version:")


def test_quoted_versions_in_tables_still_load(tmp_path: Path) -> None:
    ps, warnings = load_policies([str(pack_dir(tmp_path, custom_pack(tables=AGENT_TABLE.replace("MINIMUM", '"8.10"'))))])
    assert ps.effective["custom-8.8.1"].tables["agent_minimum"].rows[0]["min_version"] == "8.10" and not warnings


def test_a_column_a_rule_compares_with_a_version_takes_strings_only(tmp_path: Path) -> None:
    # The column's name says nothing; version_ge reading it does.
    text = custom_pack(
        {
            "    when: {fact: platform.internet_gateway_version, op: exists}\n"
            "    assert: {fact: platform.internet_gateway_version, op: version_eq, value: {fact: context.target}, label: Internet Gateway version}\n":
            "    when: {fact: platform.internet_gateway_version, op: exists}\n"
            "    assert: {fact: platform.internet_gateway_version, op: version_ge, value: {table: gateway_floor, column: lowest, single: true}}\n",
            'fail: [{target: "8.8.1", facts: {platform: {internet_gateway_version: "8.8"}}}]':
            'fail: [{target: "8.8.1", facts: {platform: {internet_gateway_version: "8.7"}}}]',
        },
        tables="  gateway_floor:\n    description: d\n    confidence: low\n    source: TODO\n    rows: [{lowest: 8.10}]\n",
    )
    (e,) = load_errors(pack_dir(tmp_path, text))
    assert e.pointer == "/tables/gateway_floor/rows/0/lowest" and e.line == line_of(text, "lowest: 8.10")
    assert "read as 8.1" in e.message and "CUSTOM-CEM-IG-VERSION" in e.message and "'8.10'" in e.message


def test_a_column_that_holds_strings_in_the_parent_takes_strings(tmp_path: Path) -> None:
    # As a --data overlay refuses {family: 3}: the inherited table holds strings there.
    text = custom_pack({"family: server, name: Windows Server 2019": "family: server, name: 2019"})
    (e,) = load_errors(pack_dir(tmp_path, text))
    assert e.pointer == "/tables/site_server_os/rows/1/name" and "holds strings" in e.message


def test_where_literal_number_against_a_version_column(tmp_path: Path) -> None:
    text = custom_pack(
        {"value: {fact: context.target}, label: Internet Gateway version}": "value: {table: site_server_os, column: itms, where: {itms: 8.10}, single: true}}"},
    )
    (e,) = load_errors(pack_dir(tmp_path, text))
    assert e.pointer.endswith("/value/where/itms") and "read as 8.1" in e.message and "'8.10'" in e.message


def test_overlay_version_columns_by_name_too(tmp_path: Path) -> None:
    ov = tmp_path / "data.yaml"
    ov.write_text(
        "schema: sitegate/data/v1\ntables:\n  site_server_os:\n    pack: itms-8.8.1\n    mode: merge\n    confirmed_by: me\n"
        "    rows:\n      - {itms: 8.10, build: 17763, family: server, name: Windows Server 2019}\n", "utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_policies(overlays=[str(ov)])
    (e,) = exc.value.diagnostics
    assert (e.line, e.pointer) == (8, "/tables/site_server_os/rows/0/itms") and "8.10 is a YAML number" in e.message


def test_cli_table_float_is_exit_2_everywhere(tmp_path: Path) -> None:
    d = pack_dir(tmp_path, custom_pack(tables=AGENT_TABLE.replace("MINIMUM", "8.10")))
    where = f"custom.yaml:{line_of(custom_pack(tables=AGENT_TABLE), 'min_version:')}:"
    proc = run_sitegate("policies", "validate", str(d))
    assert proc.returncode == 2 and where in proc.stderr and "valid:" not in proc.stdout
    proc = run_sitegate("policies", "show", "custom-8.8.1", "--policy-dir", str(d))
    assert proc.returncode == 2 and "min_version=8.1" not in proc.stdout
    proc = run_sitegate("check", str(EXAMPLES / "fleet.json"), "--target", "8.8.1", "--policy-dir", str(d))
    assert proc.returncode == 2 and where in proc.stderr and "nothing was evaluated" in proc.stderr


# 1b. list operands -----------------------------------------------------------

WHEN = "when: {fact: platform.internet_gateway_version, op: exists}"


@pytest.mark.parametrize(
    "when, bad",
    [
        ('when: {fact: platform.itms_version, op: in, value: ["8.8", 8.10]}', "8.10"),
        ('when: {fact: platform.itms_version, op: not_in, value: [8.10, "8.8"]}', "8.10"),
        ('when: {fact: agent.version, op: in, value: ["8.7.3264.0", 8]}', "8"),
        ("when: {fact: platform.itms_version, op: eq, value: 9}", "9"),
        ("when: {not: {fact: context.target, op: in, value: [8.10]}}", "8.10"),
    ],
)
def test_numbers_compared_with_a_version_fact_are_load_errors(tmp_path: Path, when: str, bad: str) -> None:
    text = custom_pack({WHEN: when})
    (e,) = load_errors(pack_dir(tmp_path, text))
    assert e.line == line_of(text, when) and e.column == text.splitlines()[e.line - 1].rindex(bad) + 1
    assert "/when/" in e.pointer and f"'{bad}'" in e.message


def test_numbers_stay_allowed_against_number_facts(tmp_path: Path) -> None:
    text = custom_pack({WHEN: "when: {fact: hardware.system_drive_free_gb, op: in, value: [1.5, 20, 40.25]}"})
    ps, _ = load_policies([str(pack_dir(tmp_path, text))])
    assert "custom-8.8.1" in ps.effective


def test_cli_list_float_is_exit_2(tmp_path: Path) -> None:
    d = pack_dir(tmp_path, custom_pack({WHEN: 'when: {fact: platform.itms_version, op: in, value: ["8.8", 8.10]}'}))
    proc = run_sitegate("policies", "validate", str(d))
    assert proc.returncode == 2 and "read as 8.1" in proc.stderr


# 1c. CSV mapping constants ---------------------------------------------------

CSV = "Computer Name,Build\nTS1,17763\n"


def mapping(tmp_path: Path, body: str) -> Path:
    (tmp_path / "x.csv").write_text(CSV, "utf-8")
    p = tmp_path / "map.yaml"
    p.write_text('columns:\n  "Computer Name": name\n  "Build": os_build\n' + body, "utf-8")
    return p


def test_mapping_constant_float_version_is_a_located_error(tmp_path: Path) -> None:
    p = mapping(tmp_path, "constants:\n  itms_version: 8.10\n  site: Berlin\n")
    with pytest.raises(InputError) as exc:
        load_mapping(str(p))
    (e,) = exc.value.diagnostics
    assert (e.line, e.column, e.pointer) == (5, 17, "/constants/itms_version")
    assert "read as 8.1" in e.message and "'8.10'" in e.message and "platform.itms_version" in e.message


def test_mapping_value_map_number_for_a_version_is_an_error(tmp_path: Path) -> None:
    p = mapping(tmp_path, "")
    p.write_text(p.read_text("utf-8").replace("columns:\n", 'columns:\n  "NS": {column: itms_version, values: {"eight-ten": 8.10}}\n'), "utf-8")
    with pytest.raises(InputError) as exc:
        load_mapping(str(p))
    (e,) = exc.value.diagnostics
    assert e.line == 2 and e.pointer == "/columns/NS/values/eight-ten" and "'8.10'" in e.message


def test_mapping_quoted_constants_and_converted_numbers_still_load(tmp_path: Path) -> None:
    m = load_mapping(str(mapping(tmp_path, 'constants:\n  itms_version: "8.10"\n  os_product_type: 3\n  endpoints: 40\n')))
    assert m.constants == {"itms_version": "8.10", "os_product_type": 3, "endpoints": 40}


def test_cli_import_float_constant_exit_2_and_nothing_written(tmp_path: Path) -> None:
    p = mapping(tmp_path, "constants:\n  itms_version: 8.10\n")
    out = tmp_path / "facts.jsonl"
    proc = run_sitegate("import", str(tmp_path / "x.csv"), "--from", "csv", "--mapping", str(p), "-o", str(out))
    assert proc.returncode == 2 and "map.yaml:5:17:" in proc.stderr
    assert not out.exists() or '"8.1"' not in out.read_text("utf-8")
    p.write_text(p.read_text("utf-8").replace("8.10", '"8.10"'), "utf-8")
    proc = run_sitegate("import", str(tmp_path / "x.csv"), "--from", "csv", "--mapping", str(p), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text("utf-8").splitlines()[0])["platform"]["itms_version"] == "8.10"


# 2. skipped and missing packs -----------------------------------------------


@pytest.fixture()
def outside_link(tmp_path: Path) -> Path:
    outside = tmp_path / "elsewhere" / "custom.yaml"
    outside.parent.mkdir()
    outside.write_text(custom_pack(), "utf-8")
    d = tmp_path / "pol"
    d.mkdir()
    (d / "link.yaml").symlink_to(outside)
    return d


def test_symlink_out_of_the_policy_dir_is_an_error(outside_link: Path) -> None:
    (e,) = load_errors(outside_link)
    assert e.source == str(outside_link / "link.yaml") and "out of the policy directory" in e.message


def test_cli_symlink_out_of_the_policy_dir_is_never_green(outside_link: Path) -> None:
    proc = run_sitegate("check", str(EXAMPLES / "fleet.json"), "--target", "8.8.1", "--policy-dir", str(outside_link))
    assert proc.returncode == 2 and "link.yaml" in proc.stderr and "nothing was evaluated" in proc.stderr
    proc = run_sitegate("policies", "validate", str(outside_link))
    assert proc.returncode == 2 and "link.yaml" in proc.stderr and "valid:" not in proc.stdout


def test_symlink_inside_the_policy_dir_loads(tmp_path: Path) -> None:
    d = pack_dir(tmp_path, custom_pack(), name="real.yaml")
    sub = d / "sub"
    sub.mkdir()
    (sub / "notes.txt").write_text("x")
    (d / "alias").symlink_to(sub, target_is_directory=True)
    ps, warnings = load_policies([str(d)])
    assert "custom-8.8.1" in ps.effective and all(w.level is Level.WARNING for w in warnings)


@pytest.mark.parametrize("name", ["my.YAML", "my.Yml", "MY.yaml"])
def test_upper_case_extensions_are_packs(tmp_path: Path, name: str) -> None:
    d = pack_dir(tmp_path, custom_pack(), name=name)
    ps, warnings = load_policies([str(d)])
    assert "custom-8.8.1" in ps.effective and not warnings
    proc = run_sitegate("policies", "validate", str(d))
    assert proc.returncode == 0 and "valid: 10 pack(s)" in proc.stdout, proc.stderr


@pytest.mark.parametrize("content", [{}, {"notes.txt": "hello", "README.md": "# packs"}])
def test_a_policy_dir_without_packs_is_an_error(tmp_path: Path, content: dict[str, str]) -> None:
    d = tmp_path / "empty"
    d.mkdir()
    for name, text in content.items():
        (d / name).write_text(text)
    (e,) = load_errors(d)
    assert e.message.startswith(f"no policy files in {d}")
    proc = run_sitegate("check", str(EXAMPLES / "fleet.json"), "--target", "8.8.1", "--policy-dir", str(d))
    assert proc.returncode == 2 and "no policy files in" in proc.stderr and "nothing was evaluated" in proc.stderr
    proc = run_sitegate("policies", "validate", str(d))
    assert proc.returncode == 2 and "no policy files in" in proc.stderr


def test_bundled_packs_still_validate() -> None:
    ps, warnings = load_policies()
    assert len(ps.loaded) == 9 and not warnings
    assert os.path.basename(ps.by_id["itms-base"].path) == "itms-base.yaml"


def test_version_column_pattern_is_one_in_schemas_and_model() -> None:
    from sitegate.engine.policy import VERSION_COLUMN, Table

    policy = json.loads((REPO / "schemas" / "policy.v1.schema.json").read_text("utf-8"))
    data = json.loads((REPO / "schemas" / "data.v1.schema.json").read_text("utf-8"))
    rows = policy["$defs"]["table"]["properties"]["rows"]["items"]["patternProperties"]
    assert list(rows) == [VERSION_COLUMN.pattern] == list(data["$defs"]["row"]["patternProperties"])
    assert all(VERSION_COLUMN.match(c) for c in ("itms", "version", "min_version", "agent_version", "itms_release"))
    assert not any(VERSION_COLUMN.match(c) for c in ("build", "family", "name", "versions_note", "min_free_gb"))
    with pytest.raises(ValueError, match="holds versions"):
        Table(description="d", confidence="low", source="TODO", rows=({"min_version": 8.1},))


def test_in_with_an_operand_fact_that_is_not_a_list_is_a_load_error(tmp_path: Path) -> None:
    """`in`/`not_in` take a list: a fact operand the facts schema types as a string is refused
    at load, where it is (it would otherwise be an error on every host)."""
    for op in ("in", "not_in"):
        when = f"when: {{fact: os.edition, op: {op}, value: {{fact: os.caption}}}}"
        text = custom_pack({WHEN: when})
        (e,) = load_errors(pack_dir(tmp_path, text))
        assert e.line == line_of(text, when) and "/when/value/fact" in e.pointer, e
        assert f"operator {op} needs a list; os.caption is a string" in e.message, e
    # A list fact as the operand loads.
    text = custom_pack({WHEN: "when: {fact: os.edition, op: in, value: {fact: iis.features}}"})
    ps, _ = load_policies([str(pack_dir(tmp_path, text))])
    assert "custom-8.8.1" in ps.effective
