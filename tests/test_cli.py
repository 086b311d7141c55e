"""The CLI's smaller commands, packaging, and schema consistency."""
from __future__ import annotations

import json
import zipfile
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from sitegate.engine.render import Format, RENDERERS, available_formats
from sitegate.facts.models import build_schema

from .conftest import EXAMPLES, run_sitegate


def schema(name: str) -> dict:
    version = "v2" if name == "report" else "v1"  # the report is at v2 (report.v1 stays for v1 reports)
    return json.loads(resources.files("sitegate.schemas").joinpath(f"{name}.{version}.schema.json").read_text())


def test_json_report_validates_against_report_schema(cli) -> None:
    code, out, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", "json")
    jsonschema.Draft202012Validator(schema("report")).validate(json.loads(out))


def test_json_report_of_rejected_hosts_validates(cli, tmp_path: Path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_text('{"name": "a", "os": {"build": "x"}}\nnot json\n')
    code, out, _ = cli("check", str(p), "--target", "8.7.3", "-f", "json")
    assert code == 2
    doc = json.loads(out)
    jsonschema.Draft202012Validator(schema("report")).validate(doc)
    assert [(h.get("rejected"), "state" in h, [d["code"] for d in h["diagnostics"]]) for h in doc["hosts"]] == [
        (True, False, ["facts-schema"]), (True, False, ["json-syntax"])]


def _nulls(node: object, path: str = "") -> list[str]:
    if node is None:
        return [path]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _nulls(v, f"{path}/{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _nulls(v, f"{path}/{i}")]
    return []


@pytest.mark.parametrize("extra", [[], ["--sarif-profile", "full", "--waivers", "tests/data/fleet-waivers.yaml"], ["--capacity"]])
def test_the_json_report_v2_has_no_null_and_says_each_rule_once(cli, extra: list[str]) -> None:
    """v2 writes no null anywhere; severity and confidence only in the rules table (the
    engine's findings have their rule's); the run's one input is not repeated per host."""
    repo = EXAMPLES.parent
    code, out, err = cli("audit", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--audit-date", "2026-11-25", "-f", "json", "--no-progress",
                         *[str(repo / a) if a.startswith("tests/") else a for a in extra])
    assert code in (0, 1), err
    doc = json.loads(out)
    jsonschema.Draft202012Validator(schema("report")).validate(doc)
    assert doc["schema"] == "sitegate/report/v2" and _nulls(doc) == []
    findings = [f for h in doc["hosts"] for f in h.get("findings", ())]
    assert findings and not any(k in f for f in findings for k in ("severity", "confidence", "message", "fingerprint", "source", "setting", "pointer"))
    assert not any("source" in h or "target" in h or "packs" in h for h in doc["hosts"])
    assert doc["run"]["target_packs"] == ["itms-8.7.3@1.1.0"] and doc["run"]["inputs"] == [str(EXAMPLES / "fleet.json")]
    assert doc["run"]["source"] in (str(EXAMPLES / "fleet.json"), "examples/fleet.json")  # relative when below the working directory
    # A READY host is its name, place, state and counts.
    ready = [h for h in doc["hosts"] if h["state"] == "READY"]
    assert ready and all(set(h) <= {"name", "line", "index", "state", "counts", "outcomes"} for h in ready)
    if "--waivers" in extra:
        assert any("waived" in f for f in findings) and all("outcomes" in h for h in doc["hosts"])


def test_facts_schema_file_is_generated_from_the_models() -> None:
    assert schema("facts") == build_schema()


def test_every_schema_property_has_title_and_description() -> None:
    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if isinstance(sub, dict) and set(sub) != {"$ref"}:
                    assert "title" in sub and "description" in sub, f"{path}/{name}"
            for k, v in node.items():
                walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}/{i}")

    for name in ("facts", "policy", "data", "waivers"):
        walk(schema(name), name)


def test_example_fleet_validates_against_facts_schema() -> None:
    doc = json.loads((EXAMPLES / "fleet.json").read_text())
    jsonschema.Draft202012Validator(schema("facts")).validate(doc)


@pytest.mark.parametrize("name", ["facts", "policy", "report"])
def test_schema_command(cli, name: str) -> None:
    code, out, _ = cli("schema", name)
    assert code == 0 and json.loads(out) == schema(name)


def test_version(cli) -> None:
    code, out, _ = cli("--version")
    assert code == 0 and "sitegate " in out and "itms-base 2.1.0" in out and "itms-8.7.3 1.1.0" in out


def test_policies_list_show_validate(cli) -> None:
    code, out, _ = cli("policies", "list")
    assert code == 0 and "itms-base" in out and "itms-8.7.1" in out
    code, out, _ = cli("policies", "show", "itms-8.7.1")
    assert code == 0 and "ITMS-NET-48" in out and "UNCONFIRMED" in out
    code, out, _ = cli("policies", "validate")
    assert code == 0 and "valid:" in out
    assert cli("policies", "show", "nope")[0] == 2


def test_explain_every_bundled_rule(cli, policies) -> None:
    ids = {r.id for e in policies.effective.values() for r in e.rules}
    assert ids
    for rid in sorted(ids):
        code, out, _ = cli("explain", rid)
        assert code == 0, rid
        assert out.startswith(rid) and "source" in out and "confidence" in out and "Examples:" in out
        assert "MISMATCH" not in out
    assert cli("explain", "NOPE-1")[0] == 2


def test_every_format_is_wired() -> None:
    for fmt in available_formats():
        assert fmt in RENDERERS
    assert Format.TABLE in RENDERERS and Format.JSON in RENDERERS


def test_results_on_stdout_logs_on_stderr(tmp_path: Path) -> None:
    proc = run_sitegate("-v", "--log-format", "json", "check", "examples/fleet.json", "--target", "8.7.3", "-f", "json")
    json.loads(proc.stdout)  # stdout is only the report
    assert '"event": "done"' in proc.stderr


def test_output_file_written_and_not_over_input(tmp_path: Path, cli) -> None:
    out = tmp_path / "r.json"
    code, stdout, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", "json", "--output", str(out))
    assert code == 1 and json.loads(out.read_text())["summary"]["exit_code"] == 1 and stdout == ""
    facts = tmp_path / "f.json"
    facts.write_text((EXAMPLES / "fleet.json").read_text())
    code, _, err = cli("check", str(facts), "--target", "8.7.3", "--output", str(facts))
    assert code == 2 and "overwrite an input" in err
    assert json.loads(facts.read_text())["hosts"]


def test_wheel_installs_only_the_sitegate_namespace(sitegate_wheel: Path) -> None:
    names = zipfile.ZipFile(sitegate_wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"sitegate"}, tops
    for needed in ("sitegate/engine/__init__.py", "sitegate/cli/main.py", "sitegate/policies/itms-base.yaml", "sitegate/schemas/facts.v1.schema.json", "sitegate/schemas/__init__.py", "sitegate/policies/__init__.py"):
        assert needed in names, needed
