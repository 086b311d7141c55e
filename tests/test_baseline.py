"""Baselines: JSON report or SARIF in, new / unchanged / fixed out; only new findings gate."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegate.engine.baseline import Baseline, load_baseline
from sitegate.base.diagnostics import InputError
from sitegate.engine.evaluate import evaluate
from sitegate.engine.render import Format

from .conftest import EXAMPLES
from .formats_support import DATA, fleet_items, options, render_one


def _fleet_json(policies) -> str:
    return render_one(Format.JSON, policies)


def test_static_baseline_new_unchanged_fixed(policies) -> None:
    b = load_baseline(str(DATA / "fleet-baseline.json"))
    assert isinstance(b, frozenset) and isinstance(b, Baseline) and len(b) == 3 and len(b.digest) == 64
    r = evaluate(fleet_items(), policies, options(baseline=b))
    states = {(h.name, f.rule_id): f.baseline for h in r.hosts for f in h.findings}
    assert states[("PS-PAR-02", "ITMS-IIS-PACKAGE-FEATURES")] == "unchanged"
    assert states[("WKS-LYON-07", "ITMS-CAP-DESKTOP-SITE")] == "new"
    assert [(f["host"], f["rule_id"], f["setting"]) for f in r.summary.fixed] == [("TS-LON-01", "ITMS-NET-48", "dotnet.release")]
    gating = {(h.name, f.rule_id) for h in r.hosts for f in h.findings if f.gating}
    assert ("PS-PAR-02", "ITMS-IIS-PACKAGE-FEATURES") not in gating


@pytest.mark.parametrize("fmt,profile", [(Format.JSON, "github"), (Format.SARIF, "github"), (Format.SARIF, "full")])
def test_previous_run_as_baseline_makes_everything_unchanged(policies, tmp_path: Path, fmt: Format, profile: str) -> None:
    prev = tmp_path / ("prev.json" if fmt is Format.JSON else "prev.sarif")
    prev.write_text(render_one(fmt, policies, sarif_profile=profile))
    b = load_baseline(str(prev))
    assert b.kind == ("json" if fmt is Format.JSON else "sarif")
    r = evaluate(fleet_items(), policies, options(baseline=b))
    findings = [f for h in r.hosts for f in h.findings]
    assert findings and all(f.baseline == "unchanged" and not f.gating for f in findings)
    assert r.summary.fixed == () and r.exit_code == 0
    assert set(b.details) == {f.fingerprint(h.name) for h in r.hosts for f in h.findings}
    d = next(iter(b.details.values()))
    assert {"host", "rule_id", "setting", "message"} <= set(d)


def test_baseline_matches_across_reformatted_facts(policies, tmp_path: Path) -> None:
    prev = tmp_path / "prev.json"
    prev.write_text(_fleet_json(policies))
    doc = json.loads((EXAMPLES / "fleet.json").read_text())
    jsonl = tmp_path / "fleet.jsonl"
    jsonl.write_text("\n".join(json.dumps(h) for h in reversed(doc["hosts"])) + "\n")
    b = load_baseline(str(prev))
    r = evaluate(fleet_items(jsonl, "other/place.jsonl"), policies, options(baseline=b))
    findings = [(h.name, f) for h in r.hosts for f in h.findings]
    # Same hosts, reordered and from another path: every previous finding found again, none new.
    assert len(findings) == len(b.details) > 0
    assert {f.fingerprint(name) for name, f in findings} == set(b.details)
    assert all(f.baseline == "unchanged" and not f.gating for _, f in findings)
    assert r.summary.fixed == () and r.exit_code == 0


def test_new_finding_fails_fixed_listed_in_every_format(policies, tmp_path: Path, cli) -> None:
    prev = tmp_path / "prev.json"
    prev.write_text(_fleet_json(policies))
    doc = json.loads((EXAMPLES / "fleet.json").read_text())
    par = next(h for h in doc["hosts"] if h["name"] == "PS-PAR-02")
    par["iis"]["features"] += ["Web-Metabase", "Web-WMI", "Web-Lgcy-Scripting", "Web-Lgcy-Mgmt-Console"]  # fixed
    lon = next(h for h in doc["hosts"] if h["name"] == "TS-LON-01")
    lon["dotnet"]["release"] = 461814  # new failure
    facts = tmp_path / "fleet.json"
    facts.write_text(json.dumps(doc, indent=2))
    out = {k: tmp_path / f"o.{k}" for k in ("json", "sarif", "md", "txt")}
    code, _, _ = cli("check", str(facts), "--target", "8.7.3", "--baseline", str(prev),
                     "-o", f"json={out['json']}", "-o", f"sarif={out['sarif']}", "-o", f"markdown={out['md']}", "-o", f"table={out['txt']}")
    assert code == 1
    report = json.loads(out["json"].read_text())
    new = [(h["name"], f["rule_id"]) for h in report["hosts"] for f in h["findings"] if f["baseline"] == "new"]
    assert new == [("TS-LON-01", "ITMS-NET-48")]
    fixed = [(f["host"], f["rule_id"]) for f in report["summary"]["fixed"]]
    assert fixed == [("PS-PAR-02", "ITMS-IIS-PACKAGE-FEATURES")]
    sarif = json.loads(out["sarif"].read_text())
    assert [(f["host"], f["rule_id"]) for f in sarif["runs"][0]["properties"]["sitegate"]["summary"]["fixed"]] == fixed
    assert "### Fixed since the baseline (1)" in out["md"].read_text()
    assert "FIXED    PS-PAR-02  ITMS-IIS-PACKAGE-FEATURES" in out["txt"].read_text()
    assert [r["baselineState"] for r in sarif["runs"][0]["results"] if r["properties"]["host"] == "TS-LON-01"] == ["new"]


def _bad(tmp_path: Path, text: str, name: str = "b.json") -> InputError:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(InputError) as exc:
        load_baseline(str(p))
    return exc.value


def test_bad_baselines_are_located(tmp_path: Path) -> None:
    e = _bad(tmp_path, '{"schema": "sitegate/report/v1",\n "hosts": [\n  {"name": "a", "findings": [{"rule_id": "X"}]}\n ]\n}\n')
    (d,) = e.diagnostics
    assert d.line == 3 and d.pointer == "/hosts/0/findings/0/fingerprint" and "fingerprint" in d.message
    e = _bad(tmp_path, '{"schema": "sitegate/report/v1",\n  "hosts": [}\n')
    assert e.diagnostics[0].line == 2 and "not a sitegate JSON report or SARIF" in e.diagnostics[0].message
    e = _bad(tmp_path, '{"hello": 1}')
    assert "not a sitegate JSON report" in e.diagnostics[0].message
    e = _bad(tmp_path, "")
    assert "empty" in e.diagnostics[0].message
    e = _bad(tmp_path, json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "bandit"}}, "results": []}]}), "b.sarif")
    assert "no run of tool 'sitegate'" in e.diagnostics[0].message
    e = _bad(tmp_path, json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "sitegate"}}, "results": [{"ruleId": "X", "message": {"text": "m"}}]}]}, indent=1), "c.sarif")
    assert "sitegateFinding/v1" in e.diagnostics[0].message and e.diagnostics[0].line > 1
    with pytest.raises(InputError):
        load_baseline(str(tmp_path / "missing.json"))


def test_cli_bad_baseline_exit_2(cli, tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text("[1, 2")
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--baseline", str(p))
    assert code == 2 and f"{p}:1:" in err
