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
from .formats_support import DATA, REPO, fleet_items, options, render_one, report_findings, report_validator


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
    new = [(f["host"], f["rule_id"]) for f in report_findings(report) if f.get("baseline") == "new"]
    assert new == [("TS-LON-01", "ITMS-NET-48")]
    fixed = [(f["host"], f["rule_id"]) for f in report["summary"]["fixed"]]
    assert fixed == [("PS-PAR-02", "ITMS-IIS-PACKAGE-FEATURES")]
    sarif = json.loads(out["sarif"].read_text())
    assert [(f["host"], f["rule_id"]) for f in sarif["runs"][0]["properties"]["sitegate"]["summary"]["fixed"]] == fixed
    assert "### Fixed since the baseline (1)" in out["md"].read_text()
    assert "FIXED    PS-PAR-02  ITMS-IIS-PACKAGE-FEATURES" in out["txt"].read_text()
    assert [r["baselineState"] for r in sarif["runs"][0]["results"] if r["properties"]["host"] == "TS-LON-01"] == ["new"]


# A v1 JSON report of examples/fleet.json at 8.7.3 (audit date 2026-11-25), written by the
# renderer before the report went to v2: baselines kept from earlier runs are v1 reports.
V1_REPORT = DATA / "fleet-report.v1.json"


def _finding_keys(r) -> set[tuple[str, str, str]]:
    return {(h.name, f.rule_id, f.setting) for h in r.hosts for f in h.findings}


def test_a_v1_report_is_a_baseline(policies) -> None:
    """The v1 fixture is a real v1 report (its own schema holds it), and as a baseline it
    matches every finding of the same fleet: the fingerprints it wrote are the engine's."""
    import jsonschema

    doc = json.loads(V1_REPORT.read_text("utf-8"))
    v1_schema = json.loads((REPO / "schemas" / "report.v1.schema.json").read_text("utf-8"))
    assert doc["schema"] == "sitegate/report/v1" and not list(jsonschema.Draft202012Validator(v1_schema).iter_errors(doc))
    b = load_baseline(str(V1_REPORT))
    assert b.kind == "json"
    r = evaluate(fleet_items(), policies, options(baseline=b, audit_date="2026-11-25"))
    assert len(b) == len(_finding_keys(r)) == 17
    assert set(b) == {f.fingerprint(h.name) for h in r.hosts for f in h.findings}
    assert all(f.baseline == "unchanged" and not f.gating for h in r.hosts for f in h.findings)
    # What it says of each finding comes from the v1 report, message included.
    nyc = [d for d in b.details.values() if d["host"] == "TS-NYC-03" and d["rule_id"] == "ITMS-NET-48"]
    assert [(d["setting"], d["message"].startswith("TS-NYC-03: cannot check")) for d in nyc] == [("dotnet.release", True)]


def test_a_v2_report_is_a_baseline_its_fingerprints_recomputed(policies, tmp_path: Path) -> None:
    """A v2 report writes no fingerprint: the baseline makes each one from rule, host and
    setting (the first evidence's fact), and gets the fingerprints the v1 report wrote."""
    text = render_one(Format.JSON, policies, options(audit_date="2026-11-25"))
    doc = json.loads(text)
    assert doc["schema"] == "sitegate/report/v2" and not list(report_validator().iter_errors(doc))
    assert not any("fingerprint" in f or "setting" in f for f in report_findings(doc))
    prev = tmp_path / "prev.json"
    prev.write_text(text, "utf-8")
    b2, b1 = load_baseline(str(prev)), load_baseline(str(V1_REPORT))
    assert b2.kind == "json" and set(b2) == set(b1) and len(b2) == 17
    assert {(d["host"], d["rule_id"], d["setting"]) for d in b2.details.values()} == {(d["host"], d["rule_id"], d["setting"]) for d in b1.details.values()}


def test_a_sarif_log_is_a_baseline_like_the_reports(policies, tmp_path: Path) -> None:
    prev = tmp_path / "prev.sarif"
    prev.write_text(render_one(Format.SARIF, policies, options(audit_date="2026-11-25")), "utf-8")
    b = load_baseline(str(prev))
    assert b.kind == "sarif" and set(b) == set(load_baseline(str(V1_REPORT)))


def test_a_v2_finding_with_a_setting_of_its_own_or_a_written_fingerprint(tmp_path: Path) -> None:
    """``setting`` when a finding gives one (not the first evidence's fact); ``fingerprint``
    when the report wrote it (a name it had to escape) is taken as written."""
    from sitegate.engine.model import fingerprint

    fp = "ab" * 32
    doc = {"schema": "sitegate/report/v2", "hosts": [
        {"name": "h1", "findings": [
            {"rule_id": "R1", "evidence": [{"fact": "a.b"}]},
            {"rule_id": "R2", "setting": "c.d", "evidence": [{"fact": "a.b"}]},
            {"rule_id": "R3", "evidence": []},
        ]},
        {"name": "WKS-\\ud800-07", "findings": [{"rule_id": "R1", "fingerprint": fp, "evidence": [{"fact": "a.b"}]}]},
        {"name": "bad", "rejected": True, "diagnostics": [{"code": "facts-schema"}]},
    ]}
    p = tmp_path / "v2.json"
    p.write_text(json.dumps(doc), "utf-8")
    b = load_baseline(str(p))
    assert set(b) == {fingerprint("R1", "h1", "a.b"), fingerprint("R2", "h1", "c.d"), fingerprint("R3", "h1", ""), fp}
    assert b.details[fingerprint("R2", "h1", "c.d")]["setting"] == "c.d"


def test_bad_v2_baselines_are_located(tmp_path: Path) -> None:
    e = _bad(tmp_path, '{"schema": "sitegate/report/v2",\n "hosts": [\n  {"name": "a", "findings": [{"rule_id": "X"}]}\n ]\n}\n')
    (d,) = e.diagnostics
    assert d.line == 3 and d.pointer == "/hosts/0/findings/0/evidence" and "evidence" in d.message
    e = _bad(tmp_path, '{"schema": "sitegate/report/v2",\n "hosts": [\n  {"name": "a", "findings": [{"evidence": []}]}\n ]\n}\n')
    assert e.diagnostics[0].pointer == "/hosts/0/findings/0/rule_id"
    e = _bad(tmp_path, '{"schema": "sitegate/report/v2", "hosts": [{"name": "a", "findings": [{"rule_id": "X", "fingerprint": "no", "evidence": []}]}]}')
    assert e.diagnostics[0].pointer == "/hosts/0/findings/0/fingerprint"
    e = _bad(tmp_path, '{"schema": "sitegate/report/v2", "hosts": [{"name": "a", "findings": [{"rule_id": "X", "evidence": [{"fact": 3}]}]}]}')
    assert e.diagnostics[0].pointer == "/hosts/0/findings/0/evidence/0/fact"
    e = _bad(tmp_path, '{"schema": "sitegate/report/v3", "hosts": []}')
    assert "sitegate/report/v2" in e.diagnostics[0].message


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


def test_a_v2_report_of_a_name_it_had_to_escape_is_a_baseline(policies, tmp_path: Path) -> None:
    """A lone surrogate in a host name is written escaped, so the report writes that host's
    fingerprints (made from the name as given): the next run matches them."""
    host = json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))["hosts"][2]  # WKS-LYON-07
    host["name"] = "WKS-\ud800-07"
    opts = options(audit_date="2026-11-25")
    prev = tmp_path / "prev.json"
    prev.write_text(render_one(Format.JSON, policies, opts, items=[dict(host)]), "utf-8")
    assert all("fingerprint" in f for f in report_findings(json.loads(prev.read_text("utf-8"))))
    r = evaluate([host], policies, options(audit_date="2026-11-25", baseline=load_baseline(str(prev))))
    assert len(r.hosts[0].findings) == 3 and all(f.baseline == "unchanged" for f in r.hosts[0].findings)
