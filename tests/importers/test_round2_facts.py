"""Facts added for issue 15: the NS's own task-service clients, the NS URL, HTTPS
reachability and certificate chain as seen from the host, and the parent NS's
version in a hierarchy. Each must be in the schema, importable from a CSV under
its standard column, and rejected with a pointer when its type is wrong."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sitegate.facts.importers import import_inputs
from sitegate.facts.importers._columns import STANDARD_COLUMNS
from sitegate.facts.load import HostRecord, Rejected, iter_file

NEW_FACTS = {
    # column -> (fact path, a CSV cell, the fact value it must give)
    "ns_task_service_clients": ("load/ns_task_service_clients", "80", 80),
    "ns_url": ("network/ns_url", "https://ns01.corp.example.com/Altiris/", "https://ns01.corp.example.com/Altiris/"),
    "ns_https_reachable": ("network/ns_https_reachable", "Yes", True),
    "ns_certificate_chain_valid": ("network/ns_certificate_chain_valid", "0", False),
    "parent_notification_server_version": ("platform/parent_notification_server_version", "8.7.3", "8.7.3"),
}


def _get(facts: dict[str, Any], path: str) -> Any:
    node: Any = facts
    for part in path.split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize("column", sorted(NEW_FACTS))
def test_standard_column_names_the_fact(column: str) -> None:
    assert STANDARD_COLUMNS[column].path == NEW_FACTS[column][0]


def test_csv_import_fills_every_new_fact(tmp_path: Path, facts_validator: Draft202012Validator) -> None:
    header = ["name", *NEW_FACTS]
    row = ["NS01", *(cell for _, cell, _ in NEW_FACTS.values())]
    src = tmp_path / "ns.csv"
    src.write_text(",".join(header) + "\n" + ",".join(row) + "\n", "utf-8")
    items = list(import_inputs("csv", [str(src)]))
    assert [type(i) for i in items] == [HostRecord], [getattr(i, "diagnostics", i) for i in items]
    facts = items[0].facts  # type: ignore[union-attr]
    for column, (path, _, value) in NEW_FACTS.items():
        got = _get(facts, path)
        assert got == value and type(got) is type(value), (column, got)
    public = {k: v for k, v in facts.items() if k != "derived"}
    assert not list(facts_validator.iter_errors(public))


@pytest.mark.parametrize(
    "group,key,bad",
    [
        ("load", "ns_task_service_clients", "80"),
        ("load", "ns_task_service_clients", -1),
        ("network", "ns_url", 443),
        ("network", "ns_https_reachable", "yes"),
        ("network", "ns_certificate_chain_valid", 1),
        ("platform", "parent_notification_server_version", 8.7),
    ],
)
def test_wrong_type_is_rejected_with_its_pointer(tmp_path: Path, group: str, key: str, bad: Any) -> None:
    good = {"name": "good", group: {key: NEW_FACTS_JSON[(group, key)]}}
    wrong = {"name": "wrong", group: {key: bad}}
    f = tmp_path / "facts.jsonl"
    f.write_text(json.dumps(good) + "\n" + json.dumps(wrong) + "\n", "utf-8")
    items = list(iter_file(str(f), locate=True))
    accepted = [i for i in items if isinstance(i, HostRecord)]
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [h.name for h in accepted] == ["good"]  # one bad record never costs the others
    assert len(rejected) == 1
    d = rejected[0].diagnostics[0]
    assert d.pointer == f"/1/{group}/{key}" and d.line == 2, d


NEW_FACTS_JSON: dict[tuple[str, str], Any] = {
    ("load", "ns_task_service_clients"): 80,
    ("network", "ns_url"): "https://ns01.corp.example.com/Altiris/",
    ("network", "ns_https_reachable"): True,
    ("network", "ns_certificate_chain_valid"): False,
    ("platform", "parent_notification_server_version"): "8.7.3",
}


def test_misspelt_network_field_is_reported_with_the_right_name(tmp_path: Path) -> None:
    f = tmp_path / "facts.json"
    f.write_text(json.dumps({"name": "h", "network": {"ns_uri": "https://ns01/"}}), "utf-8")
    items = list(iter_file(str(f), locate=True))
    assert isinstance(items[0], HostRecord)
    w = items[0].warnings[0]
    assert w.pointer == "/network/ns_uri" and "ns_url" in w.message, w


# --- Done when (issue 15): the new rules' facts are in the schema, the collector and the importers.

REPO = Path(__file__).resolve().parents[2]
NEW_RULES = ("ITMS-PKG-NOT-ON-NS", "ITMS-SITE-MANAGED-BY-NS", "ITMS-NS-HIERARCHY-VERSION", "ITMS-NS-HTTPS-CERT",
             "ITMS-PREREQ-OS-X64", "ITMS-CAP-NS-TASK-CLIENTS")


def _new_rules() -> dict[str, Any]:
    from sitegate.engine.packs import load_policies

    ps, _ = load_policies()
    rules = {r.id: r for e in ps.effective.values() for r in e.rules}
    return {rid: rules[rid] for rid in NEW_RULES}


def _rule_facts(rule: Any) -> list[str]:
    """The facts a user supplies for a rule (derived facts by what they come from)."""
    from sitegate.engine.rules import rule_reads
    from sitegate.facts.normalize import user_fact

    facts = [user_fact(p) for p in rule_reads(rule) if not p.startswith("context.")]
    return [f for f in dict.fromkeys(facts) if f != "site_services"]  # roles: site_services.installed/planned, below


def _schema_has(schema: dict[str, Any], path: str) -> bool:
    node = schema["$defs"]["HostFacts"]
    for part in path.split("."):
        if "anyOf" in node:  # Optional[...]: the non-null branch
            node = next(b for b in node["anyOf"] if b.get("type") != "null")
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        props = node.get("properties", {})
        if part not in props:
            return False
        node = props[part]
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return True


def _collector_writes() -> set[str]:
    """Fact paths the collector produces: parse.py's b.put calls, and the standard
    columns collect.ps1 writes into host.json."""
    parse_py = (REPO / "facts" / "collector" / "parse.py").read_text("utf-8")
    ps1 = (REPO / "facts" / "collector" / "collect.ps1").read_text("utf-8")
    paths = {m.replace("/", ".") for m in re.findall(r'b\.put\(\s*"([a-z_]+/[a-z_/]+)"', parse_py)}
    for col in re.findall(r"\$hostInfo\['([a-z_]+)'\]", ps1):
        paths.add(STANDARD_COLUMNS[col].path.replace("/", "."))
    return paths


def test_collector_host_json_keys_are_standard_columns() -> None:
    ps1 = (REPO / "facts" / "collector" / "collect.ps1").read_text("utf-8")
    keys = set(re.findall(r"\$hostInfo\['([a-z_]+)'\]", ps1))
    assert {"ns_task_service_clients", "parent_notification_server_version", "itms_version"} <= keys
    assert keys <= set(STANDARD_COLUMNS), keys - set(STANDARD_COLUMNS)


@pytest.mark.parametrize("rule_id", NEW_RULES)
def test_new_rule_facts_are_in_schema_collector_and_importers(rule_id: str) -> None:
    rule = _new_rules()[rule_id]
    schema = json.loads((REPO / "schemas" / "facts.v1.schema.json").read_text("utf-8"))
    columns = {c.path.replace("/", ".") for c in STANDARD_COLUMNS.values()}
    collected = _collector_writes()
    facts = _rule_facts(rule)
    assert facts, rule_id
    for fact in facts:
        assert _schema_has(schema, fact), f"{rule_id}: {fact} is not in the facts schema"
        assert fact in columns or any(c.startswith(fact + ".") for c in columns), f"{rule_id}: no CSV column fills {fact}"
        # The CMDB-only agent facts (managed, local) come through the import, as for the older rules.
        if fact not in ("agent.managed", "agent.local"):
            assert fact in collected or any(c.startswith(fact + ".") for c in collected), f"{rule_id}: the collector does not produce {fact}"


@pytest.mark.parametrize("rule_id", NEW_RULES)
def test_new_rules_have_pass_fail_and_unknown_examples(rule_id: str) -> None:
    ex = _new_rules()[rule_id].examples
    assert ex.pass_ and ex.fail and ex.unknown, rule_id


def test_ns_capacity_rule_does_not_read_managed_endpoints() -> None:
    from sitegate.engine.rules import rule_reads

    reads = rule_reads(_new_rules()["ITMS-CAP-NS-TASK-CLIENTS"])
    assert "load.ns_task_service_clients" in reads and "load.endpoints" not in reads


def test_collected_operator_facts_reach_the_facts(tmp_path: Path, facts_validator: Draft202012Validator) -> None:
    """What collect.ps1 writes to host.json for -ItmsVersion, -ParentNsVersion and
    -NsTaskServiceClients becomes the facts the new rules read."""
    host = tmp_path / "NS01"
    host.mkdir()
    (host / "host.json").write_text(json.dumps({"itms_version": "8.7.3", "parent_notification_server_version": "8.8",
                                                "ns_task_service_clients": 80}), "utf-8")
    (host / "collection.json").write_text(json.dumps({"ComputerName": "NS01", "CollectorName": "sitegate-collect.ps1", "CollectorVersion": "2.1.0"}), "utf-8")
    items = list(import_inputs("powershell", [str(tmp_path)]))
    assert [type(i) for i in items] == [HostRecord], items
    facts = items[0].facts  # type: ignore[union-attr]
    assert facts["platform"] == {"itms_version": "8.7.3", "parent_notification_server_version": "8.8"}
    assert facts["load"] == {"ns_task_service_clients": 80}
    public = {k: v for k, v in facts.items() if k != "derived"}
    assert not list(facts_validator.iter_errors(public))
