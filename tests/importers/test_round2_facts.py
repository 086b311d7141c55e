"""Facts added for issue 15: the NS's own task-service clients, the NS URL, HTTPS
reachability and certificate chain as seen from the host, and the parent NS's
version in a hierarchy. Each must be in the schema, importable from a CSV under
its standard column, and rejected with a pointer when its type is wrong."""
from __future__ import annotations

import json
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
