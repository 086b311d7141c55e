"""SARIF 2.1.0: goldens, schema validity, GitHub's rules, stable fingerprints, profiles.

Regenerate the goldens after a policy change (and review the diff):
``python -m pytest tests/test_sarif.py --snapshot-update``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegate.engine.baseline import load_baseline
from sitegate.engine.render import Format
from sitegate.engine.render.sarif import SarifRenderer, artifact_location, message_text
from sitegate.engine.waivers import load_waivers

from .formats_support import (
    AUDIT_DATE,
    DATA,
    EXAMPLES,
    SARIF_SCHEMA_SHA256,
    VENDOR,
    SarifSnapshot,
    assert_valid_sarif,
    fleet_items,
    options,
    render_one,
    sha256,
)


@pytest.fixture()
def golden(snapshot):
    return snapshot.use_extension(SarifSnapshot)


def _waivers():
    return load_waivers(str(DATA / "fleet-waivers.yaml"), today=AUDIT_DATE, display="tests/data/fleet-waivers.yaml")


def _baseline():
    return load_baseline(str(DATA / "fleet-baseline.json"), display="tests/data/fleet-baseline.json")


def _extra(kind: str, obj) -> tuple[tuple[str, str], ...]:
    return ((kind, f"tests/data/{'fleet-waivers.yaml' if kind == 'waivers' else 'fleet-baseline.json'}@sha256:{obj.digest}"),)


CASES = {
    "default": lambda: (options(), "github"),
    "full_profile": lambda: (options(), "full"),
    "waivers": lambda: ((lambda w: options(waivers=w, extra_inputs=_extra("waivers", w)))(_waivers()), "github"),
    "waivers_full_profile": lambda: ((lambda w: options(waivers=w, extra_inputs=_extra("waivers", w)))(_waivers()), "full"),
    "baseline": lambda: ((lambda b: options(baseline=b, extra_inputs=_extra("baseline", b)))(_baseline()), "github"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_sarif(case: str, policies, golden) -> None:
    opts, profile = CASES[case]()
    text = render_one(Format.SARIF, policies, opts, sarif_profile=profile)
    assert_valid_sarif(text)
    assert text == golden


def test_vendored_schema_is_the_oasis_file() -> None:
    assert sha256(VENDOR / "sarif-schema-2.1.0.json") == SARIF_SCHEMA_SHA256


def _results(text: str) -> list[dict]:
    return json.loads(text)["runs"][0]["results"]


def _identity(text: str) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (r["properties"]["host"], r["ruleId"]): (r["partialFingerprints"]["primaryLocationLineHash"], r["partialFingerprints"]["sitegateFinding/v1"])
        for r in _results(text)
    }


def test_fingerprints_survive_reformatting_and_reordering(policies, tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "fleet.json").read_text())
    hosts = doc["hosts"]
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(doc, indent=4))
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(doc, separators=(",", ":")))
    jsonl = tmp_path / "fleet.jsonl"
    jsonl.write_text("\n".join(json.dumps(h) for h in reversed(hosts)) + "\n")
    shuffled = tmp_path / "shuffled.json"
    shuffled.write_text(json.dumps({"hosts": hosts[2:] + hosts[:2]}, indent=1))
    base = _identity(render_one(Format.SARIF, policies))
    assert base
    lines = set()
    for p in (pretty, compact, jsonl, shuffled):
        text = render_one(Format.SARIF, policies, items=fleet_items(p, "examples/fleet.json"))
        assert_valid_sarif(text)
        assert _identity(text) == base, p.name
        lines.add(tuple(sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in _results(text))))
    assert len(lines) > 1  # the lines did move; the fingerprints did not


def test_fingerprint_ignores_the_observed_value(policies) -> None:
    doc = json.loads((EXAMPLES / "fleet.json").read_text())
    before = _identity(render_one(Format.SARIF, policies))
    lyon = next(h for h in doc["hosts"] if h["name"] == "WKS-LYON-07")
    lyon["load"]["endpoints"] = 900
    after_text = render_one(Format.SARIF, policies, items=doc["hosts"])
    after = _identity(after_text)
    key = ("WKS-LYON-07", "ITMS-CAP-DESKTOP-SITE")
    assert after[key] == before[key]
    (res,) = [r for r in _results(after_text) if (r["properties"]["host"], r["ruleId"]) == key]
    assert "900" in res["message"]["text"] and res["properties"]["observed"] == "900"


def test_results_are_failures_and_unknowns_with_the_rule_level(policies) -> None:
    text = render_one(Format.SARIF, policies)
    results = _results(text)
    rules = {r["id"]: r for r in json.loads(text)["runs"][0]["tool"]["driver"]["rules"]}
    outcomes = {r["properties"]["outcome"] for r in results}
    assert outcomes <= {"fail", "unknown", "error"} and {"fail", "unknown"} <= outcomes
    for r in results:
        assert r["kind"] == "fail"
        assert r["level"] == rules[r["ruleId"]]["defaultConfiguration"]["level"]
        p = r["properties"]
        assert {"host", "os", "roles", "observed", "expected", "confidence", "outcome"} <= set(p)
        # Brackets in message text are escaped (SARIF 3.11.6).
        assert message_text(p["host"]) in r["message"]["text"] and message_text(p["expected"]) in r["message"]["text"]
        assert r["locations"][0]["logicalLocations"][0]["name"] == p["host"]
        assert r["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "examples/fleet.json", "uriBaseId": "%SRCROOT%"}
    nyc = [r for r in results if r["properties"]["host"] == "TS-NYC-03"]
    assert nyc and all(r["properties"]["outcome"] == "unknown" for r in nyc)
    assert nyc[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "New York/NS-US-01/TS-NYC-03"


def test_every_rule_is_listed_with_precision_from_confidence(policies) -> None:
    doc = json.loads(render_one(Format.SARIF, policies))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    from sitegate.engine.header import build_header

    header = build_header(policies, options(), "x")
    assert [r["id"] for r in rules] == [r.id for r in header.rules]
    for r, info in zip(rules, header.rules):
        assert r["properties"]["precision"] == info.confidence
        assert r["properties"]["confidence"] == info.confidence
        assert r["properties"]["problem.severity"] == {"error": "error", "warning": "warning", "note": "recommendation"}[info.severity]
        assert info.remediation.split()[0] in r["help"]["text"] and info.source in r["help"]["markdown"]


def test_each_rule_carries_the_version_of_the_pack_that_defines_it(policies) -> None:
    """A rule inherited from itms-base reports itms-base's version, not the selected pack's."""
    rules = json.loads(render_one(Format.SARIF, policies))["runs"][0]["tool"]["driver"]["rules"]
    versions = {pid: e.version for pid, e in policies.effective.items()}
    assert len({versions[r["properties"]["pack"]] for r in rules}) > 1  # the example spans packs of different versions
    for r in rules:
        assert r["properties"]["packVersion"] == versions[r["properties"]["pack"]], r["id"]


def test_full_profile_adds_pass_and_not_applicable(policies) -> None:
    from sitegate.engine.evaluate import evaluate

    summary = evaluate(fleet_items(), policies, options()).summary
    results = _results(render_one(Format.SARIF, policies, sarif_profile="full"))
    kinds = {}
    for r in results:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        if r["kind"] in ("pass", "notApplicable"):
            assert r["level"] == "none"
    o = summary.outcomes
    assert kinds.get("pass", 0) == o["pass"] and kinds.get("notApplicable", 0) == o["not_applicable"]
    assert kinds["fail"] == o["fail"] + o["unknown"] + o["error"]


def test_waived_findings_left_out_of_github_profile_kept_suppressed_in_full(policies) -> None:
    gh = json.loads(render_one(Format.SARIF, policies, options(waivers=_waivers())))
    full = json.loads(render_one(Format.SARIF, policies, options(waivers=_waivers()), sarif_profile="full"))
    key = ("WKS-LYON-07", "ITMS-CAP-DESKTOP-SITE")
    assert key not in {(r["properties"]["host"], r["ruleId"]) for r in gh["runs"][0]["results"]}
    assert gh["runs"][0]["properties"]["sitegate"]["waived_left_out"] >= 1
    (res,) = [r for r in full["runs"][0]["results"] if (r["properties"]["host"], r["ruleId"]) == key]
    (sup,) = res["suppressions"]
    assert sup["kind"] == "external" and sup["status"] == "accepted" and "CHG-1001" in sup["justification"]
    # The expired waiver never matches: the finding is a normal result, and a warning notification says so.
    nyc = [r for r in gh["runs"][0]["results"] if (r["properties"]["host"], r["ruleId"]) == ("TS-NYC-03", "ITMS-NET-48")]
    assert nyc and "suppressions" not in nyc[0]
    notes = gh["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("CHG-1002 is expired" in n["message"]["text"] for n in notes)
    assert any("CHG-1003 is unused" in n["message"]["text"] for n in notes)
    statuses = {w["id"]: w["status"] for w in gh["runs"][0]["properties"]["sitegate"]["summary"]["waivers"]}
    assert statuses == {"CHG-1001": "active", "CHG-1002": "expired", "CHG-1003": "unused"}


def test_baseline_states_and_fixed(policies) -> None:
    doc = json.loads(render_one(Format.SARIF, policies, options(baseline=_baseline())))
    run = doc["runs"][0]
    states = {(r["properties"]["host"], r["ruleId"]): r["baselineState"] for r in run["results"]}
    assert states[("PS-PAR-02", "ITMS-IIS-PACKAGE-FEATURES")] == "unchanged"
    assert states[("TS-NYC-03", "ITMS-NET-48")] == "unchanged"
    assert states[("WKS-LYON-07", "ITMS-CAP-DESKTOP-SITE")] == "new"
    fixed = run["properties"]["sitegate"]["summary"]["fixed"]
    assert [(f["host"], f["rule_id"]) for f in fixed] == [("TS-LON-01", "ITMS-NET-48")]


def test_rejected_records_are_notifications_not_results(policies, tmp_path: Path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_text('{"name": "ok", "dotnet": {"release": 1}}\n{"name": "bad", "os": {"build": "x"}}\nnot json\n')
    text = render_one(Format.SARIF, policies, items=fleet_items(p, "inv/f.jsonl"))
    doc = assert_valid_sarif(text)
    run = doc["runs"][0]
    assert {r["properties"]["host"] for r in run["results"]} == {"ok"}
    inv = run["invocations"][0]
    assert inv["exitCode"] == 2 and inv["executionSuccessful"] is False
    errors = [n for n in inv["toolExecutionNotifications"] if n["level"] == "error"]
    assert len(errors) >= 2
    for n in errors:
        phys = n["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == "inv/f.jsonl" and phys["region"]["startLine"] in (2, 3)


def test_result_limit_keeps_a_valid_log_and_says_how_many_were_dropped(policies, monkeypatch) -> None:
    monkeypatch.setattr(SarifRenderer, "max_results", 2)
    doc = assert_valid_sarif(render_one(Format.SARIF, policies))
    run = doc["runs"][0]
    assert len(run["results"]) == 2
    dropped = run["properties"]["sitegate"]["results_dropped"]
    assert dropped > 0
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any(n["descriptor"]["id"] == "results-truncated" and f"{dropped} result(s)" in n["message"]["text"] for n in notes)


def test_zero_hosts_is_a_valid_log_with_exit_2(policies) -> None:
    doc = assert_valid_sarif(render_one(Format.SARIF, policies, items=[]))
    run = doc["runs"][0]
    assert run["results"] == [] and run["invocations"][0]["exitCode"] == 2


HOSTILE = [
    "web-01.corp.example.com",
    "Serveur Zürich Ω 1",
    "ctl\x01\x1b[31mred\x07<&>\"'",
    "tab\there\nnewline",
]


@pytest.mark.parametrize("profile", ["github", "full"])
def test_hostile_host_names_give_valid_sarif(policies, profile: str) -> None:
    hosts = [{"name": n, "dotnet": {"release": 1}, "site_services": {"planned": ["task"]}} for n in HOSTILE]
    doc = assert_valid_sarif(render_one(Format.SARIF, policies, items=hosts, sarif_profile=profile))
    seen = {r["properties"]["host"] for r in doc["runs"][0]["results"]}
    assert seen == set(HOSTILE)
    for r in doc["runs"][0]["results"]:
        assert "\x1b" not in r["message"]["text"] and "\x07" not in r["message"]["text"]


def test_artifact_locations() -> None:
    assert artifact_location("inv/a b.json", "%SRCROOT%") == {"uri": "inv/a%20b.json", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("./x.json", "%SRCROOT%")["uri"] == "x.json"
    assert artifact_location("/abs/x.json", "%SRCROOT%") == {"uri": "file:///abs/x.json"}
    assert artifact_location("C:\\inv\\x.json", "%SRCROOT%") == {"uri": "file:///C:/inv/x.json"}
    assert artifact_location("inv\\x.json", "%SRCROOT%")["uri"] == "inv/x.json"


def test_a_repeated_host_name_gets_its_own_line_hash(policies, tmp_path: Path) -> None:
    """Two records named PS-PAR-02: GitHub tells their alerts apart only by the ':N' suffix."""
    doc = json.loads((EXAMPLES / "fleet.json").read_text("utf-8"))
    doc["hosts"].append(next(h for h in doc["hosts"] if h["name"] == "PS-PAR-02"))
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(doc, indent=2), "utf-8")
    for profile in ("github", "full"):
        sarif = json.loads(render_one(Format.SARIF, policies, items=fleet_items(path, "dup.json"), sarif_profile=profile))
        hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif["runs"][0]["results"]]
        assert len(hashes) == len(set(hashes)), profile
        repeated = [h for h in hashes if h.endswith(":2")]
        assert repeated and all(h[:-2] + ":1" in hashes for h in repeated), profile
