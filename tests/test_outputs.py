"""Several outputs from one run: consistent counts and exit codes, atomic writes."""
from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sitegate.engine.render import RENDERERS, Format
from sitegate.engine.waivers import load_waivers

from .conftest import EXAMPLES
from .formats_support import AUDIT_DATE, DATA, assert_valid_junit, assert_valid_sarif, fleet_items, options, render_many, report_findings, report_validator
from sitegate.engine.render import RenderOptions
from sitegate.engine.model import FailOn


def test_new_formats_are_registered() -> None:
    for f in (Format.SARIF, Format.JUNIT, Format.MARKDOWN):
        assert f in RENDERERS


def test_sarif_junit_table_in_one_run(cli, tmp_path: Path) -> None:
    sarif, junit, md, js = tmp_path / "out.sarif", tmp_path / "TEST-sitegate.xml", tmp_path / "summary.md", tmp_path / "r.json"
    code, stdout, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3",
                          "--output", f"sarif={sarif}", "--output", f"junit={junit}", "--output", "table=-",
                          "--output", f"markdown={md}", "--output", f"json={js}")
    assert code == 1
    assert "verdict: NOT READY (exit code 1)" in stdout
    assert_valid_sarif(sarif.read_text())
    assert_valid_junit(junit.read_text())
    assert md.read_text().startswith("## sitegate: NOT READY (exit code 1)")
    assert json.loads(js.read_text())["summary"]["exit_code"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([sarif.name, junit.name, md.name, js.name])  # no temp files left


def _counts(texts: dict[str, str]) -> dict[str, dict[str, int]]:
    """What each format says about the same run, in the terms that format can express."""
    js = json.loads(texts["json"])
    s = js["summary"]
    assert not list(report_validator().iter_errors(js))
    findings = report_findings(js)
    from_json = {
        "exit_code": s["exit_code"],
        "hosts": s["hosts_evaluated"],
        "pass": s["outcomes"]["pass"],
        "not_applicable": s["outcomes"]["not_applicable"],
        "fail": s["outcomes"]["fail"],
        "unknown+error": s["outcomes"]["unknown"] + s["outcomes"]["error"],
        "fail_unwaived": sum(1 for f in findings if f["outcome"] == "fail" and "waived" not in f),
        "unknown+error_unwaived": sum(1 for f in findings if f["outcome"] != "fail" and "waived" not in f),
        "waived": s["waived_findings"],
        "gating": s["gating_findings"],
        # JUnit follows the gate: a failure or error only for gating findings,
        # a non-gating finding is a passing case.
        "fail_gating": sum(1 for f in findings if f["outcome"] == "fail" and f["gating"]),
        "unknown+error_gating": sum(1 for f in findings if f["outcome"] != "fail" and f["gating"]),
        "pass+not_gating": s["outcomes"]["pass"] + sum(1 for f in findings if not f["gating"] and "waived" not in f and f.get("baseline") != "unchanged"),
        "states": s["states"],
        # Counted from each host's own state, not taken from the summary.
        "host_states": _per_state(h["state"] for h in js["hosts"] if not h.get("rejected")),
    }
    run = json.loads(texts["sarif"])["runs"][0]
    res = run["results"]

    def outcome(r: dict) -> str:
        return r["properties"]["outcome"]

    from_sarif = {
        "exit_code": run["invocations"][0]["exitCode"],
        "hosts": len({r["properties"]["host"] for r in res}),
        "pass": sum(1 for r in res if r["kind"] == "pass"),
        "not_applicable": sum(1 for r in res if r["kind"] == "notApplicable"),
        "fail": sum(1 for r in res if outcome(r) == "fail"),
        "unknown+error": sum(1 for r in res if outcome(r) in ("unknown", "error")),
        "fail_unwaived": sum(1 for r in res if outcome(r) == "fail" and not r.get("suppressions")),
        "unknown+error_unwaived": sum(1 for r in res if outcome(r) in ("unknown", "error") and not r.get("suppressions")),
        "waived": sum(1 for r in res if r.get("suppressions")),
        "gating": sum(1 for r in res if r["properties"].get("gating")),
        "states": run["properties"]["sitegate"]["summary"]["states"],
        "host_states": _per_state({r["properties"]["host"]: r["properties"]["host_state"] for r in res}.values()),
    }
    root = ET.fromstring(texts["junit"].encode())
    hosts = [x for x in root.findall("testsuite") if x.get("name") != "sitegate"]
    gate = {p.get("name"): p.get("value") for p in root.find("testsuite[@name='sitegate']/properties")}
    cases = [tc for x in hosts for tc in x.findall("testcase")]

    def n(tag: str, prefix: str = "") -> int:
        return sum(1 for tc in cases for e in tc if e.tag == tag and e.get("message", "").startswith(prefix))

    from_junit = {
        "exit_code": int(gate["exit_code"]),
        "hosts": len(hosts),
        # A passing case has no outcome element (a non-gating finding's case carries only its system-out).
        "pass+not_gating": sum(1 for tc in cases if all(e.tag == "system-out" for e in tc)),
        "not_applicable": n("skipped", "not applicable"),
        "fail_gating": n("failure"),
        "unknown+error_gating": n("error"),
        "waived": n("skipped", "waived"),
        "gating": int(gate["findings.gating"]),
        "states": {state: int(gate[f"hosts.{state.lower().replace(' ', '_')}"]) for state in STATES},
        "host_states": _per_state(next(p.get("value") for p in x.find("properties") if p.get("name") == "host.state") for x in hosts),
    }
    md = texts["markdown"]
    table = {k: int(v) for k, v in re.findall(r"^\| (pass|fail|unknown|error|not applicable) \| (\d+) \|$", md, re.M)}
    m = re.search(r"Findings: (\d+) gating, (\d+) waived", md)
    from_md = {
        "exit_code": int(re.search(r"\(exit code (\d)\)", md).group(1)),
        "hosts": int(re.search(r"(\d+) host\(s\) evaluated", md).group(1)),
        "pass": table["pass"],
        "not_applicable": table["not applicable"],
        "fail": table["fail"],
        "unknown+error": table["unknown"] + table["error"],
        "waived": int(m.group(2)),
        "gating": int(m.group(1)),
        "states": {state: int(n) for n, state in re.findall(r"(\d+) (READY WITH WARNINGS|READY|NOT READY|CANNOT TELL)(?=[,.])", md)},
    }
    out = {"json": from_json, "sarif": from_sarif, "junit": from_junit, "markdown": from_md}
    if "table" in texts:
        line = texts["table"].splitlines()[-2]
        out["table"] = {
            "exit_code": int(re.search(r"\(exit code (\d)\)", texts["table"].splitlines()[-1]).group(1)),
            "hosts": int(re.search(r"(\d+) host\(s\) evaluated", line).group(1)),
            "gating": int(re.search(r"(\d+) gating", line).group(1)),
            "states": {state: int(n) for n, state in re.findall(r"(\d+) (READY WITH WARNINGS|READY|NOT READY|CANNOT TELL)(?=[,;])", line)},
        }
    if "html" in texts:
        page = texts["html"]
        cards = dict((k, int(v.replace(",", ""))) for v, k in re.findall(r'<div class="card"><b>([\d,]+)</b>([^<]+)</div>', page))
        rows = re.findall(r'<span class="tag (?:pass|fail)">([^<]+)</span></td>', page.split('<table id="hosts"', 1)[1])
        out["html"] = {
            "exit_code": int(re.search(r'<div class="verdict v\d">[^<]*\(exit code (\d)\)', page).group(1)),
            "hosts": cards["evaluated"],
            "gating": cards["gating findings"],
            "waived": cards["waived"],
            "states": {state: cards[state] for state in STATES},
            "host_states": _per_state(rows),
        }
    return out


STATES = ("READY", "READY WITH WARNINGS", "NOT READY", "CANNOT TELL")


def _per_state(states: Any) -> dict[str, int]:
    """Hosts per state, every state named (0 when none)."""
    counted = Counter(states)
    assert set(counted) <= set(STATES), counted
    return {state: counted.get(state, 0) for state in STATES}


@pytest.mark.parametrize("with_waivers", [False, True])
@pytest.mark.parametrize("fail_on", ["error", "never"])
def test_every_format_tells_the_same_counts(policies, with_waivers: bool, fail_on: str) -> None:
    ws = load_waivers(str(DATA / "fleet-waivers.yaml"), today=AUDIT_DATE) if with_waivers else None
    texts = render_many(fleet_items(), policies, options(waivers=ws, fail_on=FailOn(fail_on)), {
        "json": (Format.JSON, RenderOptions()),
        "sarif": (Format.SARIF, RenderOptions(sarif_profile="full")),
        "junit": (Format.JUNIT, RenderOptions()),
        "markdown": (Format.MARKDOWN, RenderOptions()),
        "table": (Format.TABLE, RenderOptions()),
        "html": (Format.HTML, RenderOptions()),
    })
    counts = _counts(texts)
    ref = counts["json"]
    assert ref["fail"] > 0 and ref["unknown+error"] > 0 and ref["pass"] > 0 and ref["not_applicable"] > 0
    # Hosts per state: every format, from its summary and (where it lists hosts) from each host's own state.
    assert ref["host_states"] == ref["states"]
    for fmt in ("sarif", "junit", "markdown", "table", "html"):
        assert counts[fmt]["states"] == ref["states"], fmt
        if "host_states" in counts[fmt]:
            assert counts[fmt]["host_states"] == ref["states"], fmt
    for fmt in ("sarif", "junit", "markdown"):
        assert len(counts[fmt]) >= 8
        assert counts[fmt] == {k: ref[k] for k in counts[fmt]}, fmt
    for fmt in ("table", "html"):
        assert counts[fmt] == {k: ref[k] for k in counts[fmt]}, fmt
    if with_waivers:
        assert counts["json"]["waived"] >= 1
    assert sum(ref["states"].values()) == ref["hosts"] and len(ref["states"]) == 4
    if fail_on == "never" and not with_waivers:
        # The gate passes: JUnit has no failure or error, and every state is READY or READY WITH WARNINGS.
        assert ref["exit_code"] == 0 and ref["fail_gating"] == ref["unknown+error_gating"] == 0
        assert "<failure" not in texts["junit"] and "<error" not in texts["junit"]
        assert ref["states"]["NOT READY"] == ref["states"]["CANNOT TELL"] == 0


def test_github_profile_result_count_matches_unwaived_findings(policies) -> None:
    ws = load_waivers(str(DATA / "fleet-waivers.yaml"), today=AUDIT_DATE)
    texts = render_many(fleet_items(), policies, options(waivers=ws), {"json": (Format.JSON, RenderOptions()), "sarif": (Format.SARIF, RenderOptions())})
    js = json.loads(texts["json"])
    unwaived = sum(1 for f in report_findings(js) if "waived" not in f)
    run = json.loads(texts["sarif"])["runs"][0]
    assert len(run["results"]) == unwaived
    assert run["properties"]["sitegate"]["waived_left_out"] == js["summary"]["waived_findings"]


@pytest.mark.parametrize(
    "fail_on,allow_unknown,expected",
    [("error", False, 1), ("error", True, 1), ("warning", False, 1), ("note", False, 1), ("never", False, 0), ("never", True, 0)],
)
def test_exit_code_for_each_fail_on_is_recorded_in_every_output(cli, tmp_path: Path, fail_on: str, allow_unknown: bool, expected: int) -> None:
    outs = {"sarif": tmp_path / "o.sarif", "junit": tmp_path / "o.xml", "json": tmp_path / "o.json", "markdown": tmp_path / "o.md"}
    args = ["check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--fail-on", fail_on, *[f"--output={k}={v}" for k, v in outs.items()]]
    if allow_unknown:
        args.append("--allow-unknown")
    code, _, _ = cli(*args)
    assert code == expected
    assert json.loads(outs["json"].read_text())["summary"]["exit_code"] == code
    assert json.loads(outs["sarif"].read_text())["runs"][0]["invocations"][0]["exitCode"] == code
    root = ET.fromstring(outs["junit"].read_bytes())
    assert root.find("testsuite[@name='sitegate']/properties/property[@name='exit_code']").get("value") == str(code)
    assert f"(exit code {code})" in outs["markdown"].read_text().splitlines()[0]


def test_fail_on_warning_gates_warnings_only_with_threshold(cli, tmp_path: Path) -> None:
    # The fleet without its one error-severity fail (PS-PAR-02): only warnings and notes fail
    # or are unknown. With unknowns allowed, --fail-on error passes and --fail-on warning
    # gates exactly the warning-severity fails; notes and unknowns never gate.
    doc = json.loads((EXAMPLES / "fleet.json").read_text())
    doc["hosts"] = [h for h in doc["hosts"] if h["name"] != "PS-PAR-02"]
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps(doc))
    runs = {}
    for fail_on in ("error", "warning", "note"):
        code, out, _ = cli("check", str(fleet), "--target", "8.7.3", "--allow-unknown", "--fail-on", fail_on, "-f", "json")
        runs[fail_on] = (code, json.loads(out))
    code, js = runs["error"]
    assert code == 0 and js["summary"]["gating_findings"] == 0 and js["summary"]["exit_code"] == 0
    findings = report_findings(js)
    assert not any(f["severity"] == "error" and f["outcome"] == "fail" for f in findings)
    warning_fails = [(f["rule_id"], f["outcome"]) for f in findings if f["severity"] == "warning" and f["outcome"] == "fail"]
    assert len(warning_fails) >= 1
    for fail_on in ("warning", "note"):
        code, js = runs[fail_on]
        gating = [(f["rule_id"], f["outcome"]) for f in report_findings(js) if f["gating"]]
        assert code == 1 and js["summary"]["exit_code"] == 1
        assert sorted(gating) == sorted(warning_fails)  # no note fails in this fleet; unknowns allowed
        assert js["summary"]["gating_findings"] == len(warning_fails)


def test_renderer_crash_leaves_no_file_and_no_temp_file(cli, tmp_path: Path, monkeypatch) -> None:
    from sitegate.engine.render import junit

    calls = {"n": 0}
    original = junit.JunitRenderer.host

    def crash(self, result):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("renderer crashed mid-way")
        return original(self, result)

    monkeypatch.setattr(junit.JunitRenderer, "host", crash)
    keep = tmp_path / "old.sarif"
    keep.write_text("previous run")
    with pytest.raises(RuntimeError, match="mid-way"):
        cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3",
            "--output", f"sarif={keep}", "--output", f"junit={tmp_path / 'out.xml'}", "--output", f"json={tmp_path / 'out.json'}")
    assert sorted(os.listdir(tmp_path)) == ["old.sarif"]  # no partial output, no .sitegate-*.tmp
    assert keep.read_text() == "previous run"  # an existing output is not truncated


def test_crash_in_a_real_process_exits_2_without_partial_files(tmp_path: Path) -> None:
    """Through the console entry point: an internal error is exit 2, and nothing half-written stays."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from sitegate.engine.render import sarif\n"
        "def boom(self, s): raise RuntimeError('boom')\n"
        "sarif.SarifRenderer.finish = boom\n"
        "from sitegate.cli.main import run\n"
        f"sys.argv = ['sitegate', 'check', {str(EXAMPLES / 'fleet.json')!r}, '--target', '8.7.3', '--output', 'sarif={tmp_path / 'o.sarif'}', '--output', 'junit={tmp_path / 'o.xml'}']\n"
        "run()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "internal error" in proc.stderr
    assert os.listdir(tmp_path) == []


def test_unknown_sarif_profile_is_a_usage_error(cli) -> None:
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--sarif-profile", "nope")
    assert code == 2 and "github or full" in err


def test_table_without_a_target_names_the_packs_each_host_was_checked_against(cli) -> None:
    code, stdout, _ = cli("check", str(EXAMPLES / "fleet.json"))
    assert code == 1
    first, *_, last = stdout.rstrip("\n").splitlines()
    assert "packs chosen per host" in first and "itms-8.8.1" not in first
    assert "packs used: itms-8.6@1.1.0 (4 hosts)" in stdout


def test_json_report_does_not_change_with_the_other_outputs(cli, tmp_path: Path) -> None:
    """JUnit makes the engine keep every outcome; the JSON report shows them only with --sarif-profile full."""
    stamp = re.compile(r'"(started_at|finished_at)": "[^"]*"')
    texts = {}
    for case, extra in {"alone": [], "with_junit": ["-o", f"junit={tmp_path / 'TEST-x.xml'}"],
                        "full": ["--sarif-profile", "full"]}.items():
        out = tmp_path / f"{case}.json"
        code, _, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"json={out}", *extra)
        assert code == 1
        texts[case] = stamp.sub("", out.read_text("utf-8"))
    assert texts["alone"] == texts["with_junit"]
    alone = json.loads((tmp_path / "alone.json").read_text("utf-8"))["hosts"]
    full = json.loads((tmp_path / "full.json").read_text("utf-8"))["hosts"]
    assert not any("outcomes" in h for h in alone)
    assert all(h["outcomes"] and set(h["outcomes"].values()) <= {"pass", "fail", "unknown", "error", "not_applicable"} for h in full)
    assert len(full) == len(alone) == 4


SETUP_ERRORS = {
    "no pack for the target": (["--target", "7.1"], "no policy pack applies to ITMS 7.1"),
    "target not a version": (["--target", "abc"], "'abc' is not a version"),
    "audit date": (["--target", "8.7.3", "--audit-date", "2026-02-30"], "is not a date: write YYYY-MM-DD"),
    "input format": (["--target", "8.7.3", "--input-format", "yaml"], "unknown input format 'yaml'"),
    "waivers": (["--target", "8.7.3", "--waivers", str(DATA / "does-not-exist.yaml")], "does-not-exist.yaml"),
}


@pytest.mark.parametrize("case", sorted(SETUP_ERRORS))
def test_an_error_before_any_host_is_read_is_written_into_every_output(cli, tmp_path: Path, case: str) -> None:
    """A report left from an earlier, passing run must not survive a run that failed to start."""
    outs = {"json": tmp_path / "r.json", "sarif": tmp_path / "r.sarif", "junit": tmp_path / "TEST-r.xml", "markdown": tmp_path / "r.md"}
    args = [a for f, p in outs.items() for a in ("-o", f"{f}={p}")]
    code, _, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--fail-on", "never", *args)
    assert code == 0 and '"exit_code": 0' in outs["json"].read_text("utf-8")
    extra, message = SETUP_ERRORS[case]
    code, stdout, stderr = cli("check", str(EXAMPLES / "fleet.json"), *extra, *args)
    assert code == 2 and message in stderr and "nothing was evaluated" in stderr
    report = json.loads(outs["json"].read_text("utf-8"))
    assert report["summary"]["exit_code"] == 2 and report["hosts"] == []
    assert any(message in d["message"] or message in d["source"] for d in report["summary"]["diagnostics"])
    sarif = assert_valid_sarif(outs["sarif"].read_text("utf-8"))
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 2
    assert_valid_junit(outs["junit"].read_text("utf-8"))
    assert 'name="exit_code" value="2"' in outs["junit"].read_text("utf-8")
    assert "(exit code 2)" in outs["markdown"].read_text("utf-8")


def test_every_setup_error_is_reported_not_only_the_first(cli) -> None:
    code, _, stderr = cli("check", str(EXAMPLES / "fleet.json"), "--target", "abc", "--audit-date", "yesterday", "--input-format", "xml")
    assert code == 2
    assert "'abc' is not a version" in stderr and "'yesterday' is not a date" in stderr and "unknown input format 'xml'" in stderr


@pytest.mark.parametrize("spec", ["xml=out.xml", "jsn=out.json"])
def test_an_unknown_format_before_equals_is_a_usage_error_not_a_file_name(cli, tmp_path: Path, monkeypatch, spec: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", spec)
    assert code == 2 and "unknown format" in stderr and f"./{spec}" in stderr
    assert list(tmp_path.iterdir()) == []


def test_format_names_before_equals_are_case_insensitive(cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"JSON={out}")
    assert code == 1 and json.loads(out.read_text("utf-8"))["summary"]["exit_code"] == 1


def test_output_to_a_directory_or_an_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    from .conftest import run_sitegate

    proc = run_sitegate("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"json={tmp_path}")
    assert proc.returncode == 2 and "is a directory" in proc.stderr and "internal error" not in proc.stderr
    proc = run_sitegate("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", "junit=/proc/version")
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "internal error" not in proc.stderr


def test_outputs_follow_the_umask_and_keep_an_existing_files_mode(tmp_path: Path) -> None:
    from .conftest import run_sitegate

    new, old = tmp_path / "new.json", tmp_path / "old.json"
    old.write_text("{}", "utf-8")
    old.chmod(0o640)
    mask = os.umask(0o022)
    try:
        proc = run_sitegate("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"json={new}", "-o", f"sarif={old}")
    finally:
        os.umask(mask)
    assert proc.returncode == 1, proc.stderr
    assert new.stat().st_mode & 0o777 == 0o644
    assert old.stat().st_mode & 0o777 == 0o640


def test_an_unknown_says_which_fact_is_missing_and_how_to_collect_it_in_every_format(policies) -> None:
    """TS-NYC-03 lacks dotnet.release: every format says to collect it (the collector, the CSV column),
    never the failure's fix ("Install .NET Framework 4.8"); one sentence, the same in each."""
    import html as html_mod

    import sitegate.engine.render.html as html_renderer

    texts = render_many(fleet_items(), policies, options(), {
        f.value: (f, RenderOptions(sarif_profile="full") if f is Format.SARIF else RenderOptions()) for f in Format})
    fix = "Install .NET Framework 4.8"
    js = json.loads(texts["json"])
    (finding,) = [f for f in report_findings(js) if f["host"] == "TS-NYC-03" and f["rule_id"] == "ITMS-NET-48"]
    # JSON (v2): the finding's unknown evidence names the missing fact, the report's collect
    # table says how to supply it (written once, not per finding).
    missing = [e["fact"] for e in finding["evidence"] if e["outcome"] == "unknown" and "observed" not in e]
    assert finding["outcome"] == "unknown" and missing == ["dotnet.release"] and "collect" not in finding
    hint = js["collect"]["dotnet.release"]
    assert hint.startswith("collect dotnet.release: run `sitegate collect` on the site server")
    assert "CSV column dotnet_release" in hint and fix not in hint and all(fix not in how for how in js["collect"].values())
    # SARIF: the result's message and a result property; the rule's help keeps the rule's remediation.
    run = json.loads(texts["sarif"])["runs"][0]
    (res,) = [r for r in run["results"] if r["ruleId"] == "ITMS-NET-48" and r["properties"]["host"] == "TS-NYC-03"]
    assert res["properties"]["collect"] == hint and res["message"]["text"].endswith(f"To decide it: {hint}.")
    assert fix not in res["message"]["text"]
    (rule,) = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "ITMS-NET-48"]
    assert fix in rule["help"]["text"]
    # The table: the line under the finding.
    table = texts["table"].split("UNKNOWN  TS-NYC-03  ITMS-NET-48 ", 1)[1].split("\nUNKNOWN", 1)[0]
    assert f"to decide it: {hint}" in table and fix not in table
    # Markdown: the finding's row (escaped for Markdown).
    (row,) = [ln for ln in texts["markdown"].splitlines() if "`ITMS-NET-48`" in ln and ln.startswith("  - **UNKNOWN**")]
    assert "To decide it: collect dotnet.release" in row and "dotnet\\_release" in row and fix not in row
    (rule_row,) = [ln for ln in texts["markdown"].splitlines() if ln.startswith("| `ITMS-NET-48`")]
    assert "unknown only: collect the missing facts" in rule_row and fix not in rule_row
    # JUnit and HTML.
    root = ET.fromstring(texts["junit"].encode())
    (case,) = [tc for tc in root.iter("testcase") if tc.get("classname", "").startswith("TS-NYC-03") and tc.get("name", "").startswith("ITMS-NET-48 ")]
    body = "".join(case.itertext())
    assert f"to decide it: {hint}" in body and "remediation:" not in body
    page = html_mod.unescape(re.sub(r"<[^>]+>", "", texts["html"]))
    assert f"To decide it: {hint}" in page
    # One function says how: the HTML renderer has no table of its own any more.
    assert not hasattr(html_renderer, "collect_how") and not hasattr(html_renderer, "COLLECT_HOW")


def test_a_value_the_packs_have_no_row_for_points_to_the_data_overlay() -> None:
    from sitegate.engine.model import MISSING, Evidence
    from sitegate.engine.unknowns import collect_hint

    class F:
        rule_id = "R"
        evidence = (Evidence("os.build", "/os/build", 99999, "in matrix", "in", "unknown", "no data for x"),
                    Evidence("dotnet.release", "/dotnet/release", MISSING, ">= 528040", ">=", "unknown"))

    hint = collect_hint(F())
    assert "collect dotnet.release" in hint and "os.build = 99999" in hint and "--data overlay" in hint
    assert "collect os.build" not in hint
