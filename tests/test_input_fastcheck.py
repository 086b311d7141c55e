"""The generated first pass of the waivers and data overlay schemas against jsonschema.

Like the policy packs (tests/test_policy_fastcheck.py), a waivers file and a
``--data`` overlay are checked first by generated code (facts.fastcheck) and by
jsonschema only when it says False, so jsonschema still writes every message.
Here, "fast is True iff jsonschema reports no error" on the example files and
on every single edit of a file that uses every keyword of each schema.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest

from sitegate.base.yamlload import load_yaml_file, load_yaml_text
from sitegate.engine import overlays, waivers

from .test_policy_fastcheck import _neighbours

REPO = Path(__file__).resolve().parents[1]

WAIVERS_FULL = """
$schema: https://sitegate.dev/schemas/waivers.v1.schema.json
schema: sitegate/waivers/v1
waivers:
  - {id: CHG-1, rule: ITMS-NET-48, hosts: 'TS-*', reason: r, owner: o, expires: 2027-03-31}
  - {id: 'a.b_c:d/e-f', rule: 'ITMS-CAP-*', hosts: '*', reason: because, owner: team@example.com, expires: '2026-01-01'}
"""

DATA_FULL = """
schema: sitegate/data/v1
description: every keyword
tables:
  site_server_os:
    pack: itms-8.7.3
    mode: merge
    confirmed_by: me
    allow_empty: false
    rows:
      - {build: 17763, family: server, name: Windows Server 2019, ok: true, ratio: 0.5, list: [a, 1, true], none: null}
      - {itms: '8.7', min_version: ['8.6', '8.7'], version_x: null}
  agent_minimum:
    mode: replace
    confirmed_by: ticket
    rows: []
"""

CASES: list[tuple[str, Callable[[Any], bool], dict[str, Any], list[Any]]] = [
    ("waivers", waivers.schema_valid_fast, waivers.waivers_schema(), [
        load_yaml_text(WAIVERS_FULL, "w.yaml").data,
        load_yaml_file(str(REPO / "examples" / "waivers.yaml")).data,
        load_yaml_file(str(REPO / "tests" / "data" / "fleet-waivers.yaml")).data,
    ]),
    ("data", overlays.schema_valid_fast, overlays.data_schema(), [
        load_yaml_text(DATA_FULL, "d.yaml").data,
        load_yaml_file(str(REPO / "examples" / "data-overlay.yaml")).data,
    ]),
]


@pytest.mark.parametrize(("name", "fast", "schema", "docs"), CASES, ids=[c[0] for c in CASES])
def test_valid_files_take_the_fast_path(name: str, fast: Callable[[Any], bool], schema: dict[str, Any], docs: list[Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    for doc in docs:
        assert validator.is_valid(doc), [e.message for e in validator.iter_errors(doc)]
        assert fast(doc)


@pytest.mark.parametrize(("name", "fast", "schema", "docs"), CASES, ids=[c[0] for c in CASES])
def test_every_single_edit_agrees(name: str, fast: Callable[[Any], bool], schema: dict[str, Any], docs: list[Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    verdicts = []
    for value in _neighbours(docs[0]) + [None, [], {}, "x"]:
        exact = validator.is_valid(value)
        got = fast(value)
        assert fast(copy.deepcopy(value)) == got
        assert got == exact, (value, [e.message for e in validator.iter_errors(value)][:3])
        verdicts.append(exact)
    # Both answers occur many times, so the agreement above is not vacuous.
    assert sum(verdicts) > 20 and len(verdicts) - sum(verdicts) > 200, (sum(verdicts), len(verdicts))
