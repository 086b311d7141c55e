"""The importer registry, the accounting and the round trip to the published schema."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sitegate.facts.importers import IMPORTERS, ImportStats, UnknownFormat, import_inputs, import_to_jsonl, write_jsonl
from sitegate.facts.load import HostRecord, Rejected, iter_paths


def test_registry() -> None:
    assert set(IMPORTERS) == {"json", "jsonl", "csv", "powershell"}
    assert IMPORTERS["csv"].takes_mapping and not IMPORTERS["powershell"].takes_mapping
    with pytest.raises(UnknownFormat, match="use one of"):
        import_inputs("xlsx", ["x"])


def test_mapping_only_for_csv(data_dir: Path) -> None:
    (item,) = list(import_inputs("powershell", [str(data_dir / "ps")], mapping="m.yaml"))
    assert isinstance(item, Rejected) and "--from csv" in item.diagnostics[0].message


@pytest.mark.parametrize(
    ("fmt", "inputs", "mapping"),
    [
        ("csv", ["csv/messy.csv", "csv/excel-unicode.txt"], None),
        ("csv", ["csv/custom.csv"], "csv/mapping.yaml"),
        ("powershell", ["ps"], None),
        ("json", ["collector-output.json"], None),
    ],
)
def test_round_trip_validates_against_schema(
    data_dir: Path, tmp_path: Path, facts_validator: Draft202012Validator, fmt: str, inputs: list[str], mapping: str | None
) -> None:
    """Import, write JSON Lines, validate every line with jsonschema, and load it back."""
    out = tmp_path / "facts.jsonl"
    with out.open("wb") as fh:
        stats = import_to_jsonl(fmt, [str(data_dir / p) for p in inputs], fh, mapping=str(data_dir / mapping) if mapping else None)
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) == stats.written == stats.accepted > 0
    for line in lines:
        doc = json.loads(line)
        assert "derived" not in doc
        errors = list(facts_validator.iter_errors(doc))
        assert not errors, [e.message for e in errors]
    again = list(iter_paths([str(out)]))
    assert all(isinstance(i, HostRecord) and not i.warnings for i in again)
    assert [i.name for i in again] == [json.loads(x)["name"] for x in lines]  # type: ignore[union-attr]


def test_jsonl_passthrough_and_accounting(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"name": "A"}\n{"name": "B", "os": {"build": -1}}\nnot json\n', "utf-8")
    stats = ImportStats()
    buf = io.BytesIO()
    write_jsonl(import_inputs("jsonl", [str(f)]), buf, stats)
    assert (stats.read, stats.written, stats.rejected) == (3, 1, 2)
    reasons = stats.reasons()
    assert reasons[0].startswith(f"{f}:2:") and "/os/build" in reasons[0]
    assert reasons[1].startswith(f"{f}:3:1: error: invalid JSON")
    assert buf.getvalue() == b'{"name":"A"}\n'
    assert stats.summary() == "3 record(s) read, 1 written, 2 rejected"
    assert not stats.ok
    d = stats.to_dict()
    assert d["rejected"] == 2 and d["rejections"][0]["line"] == 2


def test_every_importer_output_goes_through_the_schema_check(tmp_path: Path) -> None:
    """A value the importer passes through unchanged still meets the facts schema."""
    f = tmp_path / "x.csv"
    f.write_text("name,os_version,itms_version\n" + "A" * 300 + ",10.0.17763,8.7\n", "utf-8")
    (item,) = list(import_inputs("csv", [str(f)]))
    assert isinstance(item, Rejected)
    assert item.diagnostics[0].pointer == "/name" and (item.diagnostics[0].line, item.diagnostics[0].column) == (2, 1)
