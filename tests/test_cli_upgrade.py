"""sitegate plan and sitegate remediate from the command line: outputs, goldens and every exit code."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).parent.parent
EX = "examples"
GOLDEN = ROOT / "tests" / "golden" / "remediate"
PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.v1.schema.json").read_text())


def sg(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sitegate.cli.main", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_plan_net48_newly_failing_and_blocking_from_86_to_871() -> None:
    r = sg("plan", "--from", "8.6", "--to", "8.7.1", f"{EX}/task-server-86.json", "--audit-date", "2026-11-20")
    assert r.returncode == 1, r.stderr
    assert "BLOCKED              TS-MAD-04" in r.stdout
    assert "BLOCKING newly failing  ITMS-NET-48 (error)" in r.stdout
    assert "install .NET Framework 4.8 (offline installer ndp48-x86-x64-allos-enu.exe; 4.8.1 does not install on Windows Server 2019)" in r.stdout
    assert "verdict: BLOCKED (exit code 1)" in r.stdout


def test_plan_at_87_does_not_list_net48() -> None:
    r = sg("plan", "--from", "8.6", "--to", "8.7", f"{EX}/task-server-86.json", "--audit-date", "2026-11-20")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ITMS-NET-48" not in r.stdout and "READY                TS-MAD-04" in r.stdout


def test_plan_2012r2_ready_with_warnings_and_blocked_on_warning(tmp_path: Path) -> None:
    base = ["plan", "--to", "8.7.3", f"{EX}/package-server-2012r2.json", "--audit-date", "2026-11-20"]
    r = sg(*base, "-o", f"json={tmp_path / 'p.json'}", "-o", f"markdown={tmp_path / 'p.md'}", "-o", f"html={tmp_path / 'p.html'}", "-o", "table=-")
    assert r.returncode == 0, r.stderr
    assert "READY WITH WARNINGS  PS-BER-05" in r.stdout
    doc = json.loads((tmp_path / "p.json").read_text())
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert doc["hosts"][0]["state"] == "READY WITH WARNINGS" and doc["summary"]["exit_code"] == 0
    assert "| READY WITH WARNINGS | 1 |" in (tmp_path / "p.md").read_text()
    assert "<td>PS-BER-05</td><td>READY WITH WARNINGS</td>" in (tmp_path / "p.html").read_text()
    strict = sg(*base, "--fail-on", "warning")
    assert strict.returncode == 1 and "BLOCKED              PS-BER-05" in strict.stdout


def test_plan_bad_input_and_unknown_version_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hosts": [{"name": "X", "dotnet": {"release": "high"}}]}')
    r = sg("plan", "--to", "8.7.1", "--from", "8.6", str(bad), "-f", "json")
    assert r.returncode == 2
    assert f"{bad}:1:" in r.stderr
    v = sg("plan", "--to", "9.9", f"{EX}/task-server-86.json")
    assert v.returncode == 2 and "the packs cover ITMS 8.5, 8.6, 8.7, 8.7.1, 8.7.2, 8.7.3, 8.8, 8.8.1" in v.stdout + v.stderr
    f = sg("plan", "--to", "8.7.1", "--from", "8.4", f"{EX}/task-server-86.json")
    assert f.returncode == 2 and "--from" in f.stdout + f.stderr
    assert sg("plan", "--to", "8.7.1", f"{EX}/task-server-86.json", "-f", "sarif").returncode == 2


def test_plan_takes_waivers_data_and_importers() -> None:
    r = sg("plan", "--to", "8.7.3", f"{EX}/package-server-2012r2.json", "--waivers", f"{EX}/waivers.yaml",
           "--data", f"{EX}/data-overlay.yaml", "--audit-date", "2026-11-20", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    waived = [c for c in doc["hosts"][0]["changes"] if c["waived"]]
    assert [c["rule_id"] for c in waived] == ["ITMS-OS-LIFECYCLE"]
    assert any(e["kind"] == "data" for e in doc["run"]["extra_inputs"])
    csv = sg("plan", "--to", "8.7.3", "--input-format", "csv", "--mapping", f"{EX}/cmdb/mapping.yaml", f"{EX}/cmdb/site-servers.csv", "-f", "json")
    assert csv.returncode == 1 and {h["name"] for h in json.loads(csv.stdout)["hosts"]} == {"TS-OSL-02", "PS-OSL-03"}
    ps = sg("plan", "--to", "8.7.3", "--input-format", "powershell", f"{EX}/powershell-export", "-f", "json")
    assert ps.returncode == 1 and json.loads(ps.stdout)["hosts"][0]["name"] == "TS01"


def _without_times(text: str) -> str:
    return re.sub(r"(started|finished) [0-9T:.+Z-]+", r"\1 (time)", text)


def test_plan_html_is_the_check_report_with_the_plan_on_top(tmp_path: Path) -> None:
    args = [f"{EX}/fleet.json", f"{EX}/package-server-2012r2.json", "--audit-date", "2026-11-20"]
    p = sg("plan", "--to", "8.7.3", *args, "-o", f"html={tmp_path / 'plan.html'}")
    c = sg("check", "--target", "8.7.3", *args, "-o", f"html={tmp_path / 'check.html'}")
    assert p.returncode == 1 and c.returncode == 1, p.stderr + c.stderr
    plan_html = (tmp_path / "plan.html").read_text("utf-8")
    check_html = (tmp_path / "check.html").read_text("utf-8")
    section = re.search(r'<section id="plan">.*?</section>\n', plan_html, re.S)
    assert section is not None and "<h2>Upgrade plan: ITMS 8.7.3</h2>" in section.group()
    assert "<td>PS-BER-05</td><td>READY WITH WARNINGS</td>" in section.group() and "BLOCKED (exit code 1)" in section.group()
    # Without its plan section, the plan's HTML is the check's report byte for byte (times aside).
    rest = plan_html[: section.start()] + plan_html[section.end():]
    assert _without_times(rest) == _without_times(check_html)


def test_library_plan_gives_the_cli_json(monkeypatch) -> None:
    from sitegate.engine.model import FailOn
    from sitegate.engine.plan import plan_upgrade
    from sitegate.engine.render.plan import render_plan_json
    from sitegate.engine.run import RunOptions

    inputs = [f"{EX}/fleet.json", f"{EX}/task-server-86.json", f"{EX}/package-server-2012r2.json"]
    r = sg("plan", "--to", "8.7.3", "--from", "8.6", *inputs, "--waivers", f"{EX}/waivers.yaml", "--fail-on", "warning",
           "--audit-date", "2026-11-20", "-f", "json")
    assert r.returncode == 1, r.stderr
    monkeypatch.chdir(ROOT)
    plan = plan_upgrade(inputs, "8.7.3", "8.6", RunOptions(waivers=f"{EX}/waivers.yaml", fail_on=FailOn.WARNING, audit_date="2026-11-20"))
    assert render_plan_json(plan) == r.stdout
    assert json.loads(r.stdout)["summary"]["states"]["BLOCKED"] >= 2


def _remediate(tmp_path: Path, *inputs: str, target: str = "8.7.3") -> subprocess.CompletedProcess[str]:
    return sg("remediate", *inputs, "--target", target, "-o", str(tmp_path / "out"), "--audit-date", "2026-11-20")


def test_remediate_example_scripts_match_the_goldens(tmp_path: Path) -> None:
    r = _remediate(tmp_path, f"{EX}/fleet.json", f"{EX}/task-server-86.json", f"{EX}/package-server-2012r2.json")
    assert r.returncode == 1, r.stderr  # TS-NYC-03 still lacks facts: no script can fix that
    out = tmp_path / "out"
    written = sorted(p.name for p in out.iterdir())
    if os.environ.get("SITEGATE_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    assert written == sorted(p.name for p in GOLDEN.iterdir())
    for name in written:
        assert (out / name).read_bytes() == (GOLDEN / name).read_bytes(), name
    assert "MANUAL   PS-BER-05" in r.stdout and "COLLECT  TS-NYC-03" in r.stdout


def test_remediate_exit_0_when_scripts_fix_every_gating_finding(tmp_path: Path) -> None:
    r = _remediate(tmp_path, f"{EX}/task-server-86.json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "out" / "TS-MAD-04.ps1").exists()


def test_remediate_usage_and_input_errors_exit_2(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    r = sg("remediate", f"{EX}/task-server-86.json", "--target", "8.7.3", "-o", str(a_file))
    assert r.returncode == 2 and "is a file" in r.stderr
    facts_dir = tmp_path / "facts"
    facts_dir.mkdir()
    shutil.copy(ROOT / EX / "task-server-86.json", facts_dir)
    r = sg("remediate", str(facts_dir), "--target", "8.7.3", "-o", str(facts_dir / "scripts"))
    assert r.returncode == 2 and "inside the input folder" in r.stderr and not (facts_dir / "scripts").exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"hosts": [{"name": "X",')
    r = sg("remediate", str(bad), "--target", "8.7.3", "-o", str(tmp_path / "o2"))
    assert r.returncode == 2 and f"{bad}:1:" in r.stdout + r.stderr
    r = sg("remediate", f"{EX}/task-server-86.json", "--target", "9.9", "-o", str(tmp_path / "o3"))
    assert r.returncode == 2 and not (tmp_path / "o3").exists() or not any((tmp_path / "o3").iterdir())
    assert sg("remediate", f"{EX}/task-server-86.json", "--target", "8.7.3", "-o", str(tmp_path / "o4"), "--format", "bash").returncode == 2


def test_check_without_target_says_so_on_stderr_and_in_every_output(tmp_path: Path) -> None:
    outs = {f: tmp_path / f"r.{f}" for f in ("json", "sarif", "junit", "markdown", "html", "table")}
    r = sg("check", f"{EX}/task-server-86.json", *[a for f, p in outs.items() for a in ("-o", f"{f}={p}")])
    assert r.stderr.count("no --target: each host was checked against its current ITMS version") == 1
    note = "an upgrade gate needs --target VERSION or sitegate plan --to VERSION"
    assert note in json.loads(outs["json"].read_text())["run"]["note"]
    sarif = json.loads(outs["sarif"].read_text())
    assert any(n["descriptor"]["id"] == "no-target" for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"])
    for f in ("junit", "markdown", "html", "table"):
        assert note in outs[f].read_text(), f
    with_target = sg("check", f"{EX}/task-server-86.json", "--target", "8.7.3", "-f", "json")
    assert "no --target" not in with_target.stderr and "note" not in json.loads(with_target.stdout)["run"]


def test_help_and_readme_document_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for cmd in (["plan"], ["remediate"], ["policies", "test"]):
        r = sg(*cmd, "--help")
        assert r.returncode == 0, r.stderr
        lines = [ln.strip() for ln in r.stdout.splitlines()]
        start = lines.index("Exit codes:") if "Exit codes:" in lines else next(i for i, ln in enumerate(lines) if ln.startswith("Exit codes"))
        codes = [ln[:3] for ln in lines[start + 1:start + 4]]
        assert codes == ["0  ", "1  ", "2  "], (cmd, lines[start:start + 5])
        assert lines[start + 3].startswith("2  bad input or usage"), cmd
        row = next(ln for ln in readme.splitlines() if ln.startswith(f"| `{' '.join(cmd)}`"))
        assert row.count(" | ") == 3, row  # 0, 1 and 2 each with its meaning


def test_remediate_exit_2_for_a_rejected_record_still_writes_the_other_hosts_scripts(tmp_path: Path) -> None:
    facts = json.loads((ROOT / EX / "task-server-86.json").read_text())
    facts["hosts"].append({"name": "BAD-01", "dotnet": {"release": "high"}})
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(facts))
    r = _remediate(tmp_path, str(mixed))
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{mixed}:" in r.stderr and (tmp_path / "out" / "TS-MAD-04.ps1").exists()
    # No host read at all: nothing is written.
    empty = tmp_path / "empty.json"
    empty.write_text('{"hosts": []}')
    r = sg("remediate", str(empty), "--target", "8.7.3", "-o", str(tmp_path / "none"))
    assert r.returncode == 2 and not (tmp_path / "none").exists()


def _check_outputs(tmp_path: Path, facts: str, *extra: str) -> tuple[int, dict[str, str]]:
    outs = {f: tmp_path / f"r.{f}" for f in ("table", "json", "markdown", "html", "junit")}
    r = sg("check", facts, "--target", "8.7.3", "--audit-date", "2026-11-20", *extra, *[a for f, p in outs.items() for a in ("-o", f"{f}={p}")])
    return r.returncode, {f: p.read_text("utf-8") for f, p in outs.items()}


def test_2012r2_package_server_is_ready_with_warnings_in_every_format_and_not_ready_on_warning(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    for extra, code, state in (((), 0, "READY WITH WARNINGS"), (("--fail-on", "warning"), 1, "NOT READY")):
        got, texts = _check_outputs(tmp_path, f"{EX}/package-server-2012r2.json", *extra)
        assert got == code, extra
        assert f"0 READY, {int(state == 'READY WITH WARNINGS')} READY WITH WARNINGS, {int(state == 'NOT READY')} NOT READY" in texts["table"]
        assert f"verdict: {state} (exit code {code})" in texts["table"]
        doc = json.loads(texts["json"])
        assert doc["hosts"][0]["state"] == state and doc["summary"]["verdict"] == state and doc["summary"]["exit_code"] == code
        assert texts["markdown"].startswith(f"## sitegate: {state} (exit code {code})")
        assert f'<div class="verdict v{code}">{state} (exit code {code})</div>' in texts["html"]
        assert f'<span class="tag {"pass" if code == 0 else "fail"}">{state}</span>' in texts["html"]
        suites = {s.get("name"): s for s in ET.fromstring(texts["junit"].encode()).findall("testsuite")}
        host_props = {p.get("name"): p.get("value") for p in suites["PS-BER-05"].find("properties")}
        gate_props = {p.get("name"): p.get("value") for p in suites["sitegate"].find("properties")}
        assert host_props["host.state"] == state and gate_props["verdict"] == state and gate_props["exit_code"] == str(code)
        failures = suites["PS-BER-05"].get("failures")
        assert failures == ("0" if code == 0 else "2"), failures
        assert "compliant" not in texts["table"] + texts["markdown"]


def test_fail_on_never_junit_has_no_failure_or_error_from_the_cli(tmp_path: Path) -> None:
    code, texts = _check_outputs(tmp_path, f"{EX}/fleet.json", "--fail-on", "never")
    assert code == 0
    assert "<failure" not in texts["junit"] and "<error" not in texts["junit"]
    assert json.loads(texts["json"])["summary"]["states"] == {"READY": 1, "READY WITH WARNINGS": 3, "NOT READY": 0, "CANNOT TELL": 0}
