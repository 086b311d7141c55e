"""sitegate policies test: a user's pack examples and case files, expected against actual."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sitegate.engine.policytest import render_junit, render_text, run_policy_tests

REPO = Path(__file__).parent.parent / "examples" / "policy-repo"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    dst = tmp_path / "policy-repo"
    shutil.copytree(REPO, dst)
    return dst


def test_example_repo_passes(repo: Path) -> None:
    run = run_policy_tests([str(repo)])
    assert run.exit_code == 0, render_text(run)
    assert run.packs == ["acme-dotnet@1.0.0"]
    kinds = {r.kind for r in run.results}
    assert kinds == {"example", "case"} and len(run.results) == 6


def test_one_wrong_expectation_fails_and_names_the_case(repo: Path) -> None:
    case = repo / "tests" / "acme-dotnet" / "1.0.0" / "task-server-48.yaml"
    case.write_text(case.read_text().replace("ACME-NET-48-EARLY: pass", "ACME-NET-48-EARLY: fail"))
    run = run_policy_tests([str(repo)])
    assert run.exit_code == 1
    [bad] = run.failed
    assert bad.name == "case task-server-48: ACME-NET-48-EARLY" and bad.expected == "fail" and bad.actual == "pass"
    out = render_text(run)
    assert f"FAIL  {case}:8:22: acme-dotnet@1.0.0 case task-server-48: ACME-NET-48-EARLY: expected fail, got pass" in out


def test_a_wrong_rule_example_fails_with_evidence(repo: Path) -> None:
    pack = repo / "acme-dotnet.yaml"
    pack.write_text(pack.read_text().replace("{name: 4.7.2, facts: {dotnet: {release: 461814}", "{name: 4.7.2, facts: {dotnet: {release: 528049}"))
    run = run_policy_tests([str(repo)])
    assert run.exit_code == 1
    [bad] = run.failed
    assert bad.kind == "example" and bad.expected == "fail" and bad.actual == "pass"
    # A failing case whose rule did not pass carries its evidence.
    case = repo / "tests" / "acme-dotnet" / "1.0.0" / "task-server-472.yaml"
    case.write_text(case.read_text().replace("ACME-NET-48-EARLY: fail", "ACME-NET-48-EARLY: pass"))
    run = run_policy_tests([str(repo)])
    wrong = [r for r in run.failed if r.kind == "case"][0]
    assert any("observed 461814, expected >= 528040" in e for e in wrong.evidence)
    assert "observed 461814, expected >= 528040" in render_text(run)


@pytest.mark.parametrize("text,message", [
    ("target: 8.6\nfacts: {}\nexpect: {ACME-NET-48-EARLY: pass}\n", "8.6 is a YAML number"),
    ("target: '8.6'\nfacts: {}\nexpect: {ACME-NET-48-EARLY: passes}\n", "'passes' is not an outcome"),
    ("target: '8.6'\nfacts: {}\nexpect: {ACME-NET-48-EARLY: pass}\nwhatever: 1\n", "unknown key 'whatever'"),
    ("target: '8.6'\nfacts: {dotnet: {release: 'high'}}\nexpect: {ACME-NET-48-EARLY: pass}\n", "facts do not validate"),
    ("target: '7.5'\nfacts: {}\nexpect: {ACME-NET-48-EARLY: pass}\n", "does not apply to ITMS 7.5"),
    ("target: '8.6'\nfacts: [\n", "invalid YAML"),
])
def test_malformed_case_exits_2_with_position(repo: Path, text: str, message: str) -> None:
    bad = repo / "tests" / "acme-dotnet" / "1.0.0" / "bad.yaml"
    bad.write_text(text)
    run = run_policy_tests([str(repo)])
    assert run.exit_code == 2
    [d] = run.malformed
    assert d.source == str(bad) and d.line >= 1 and message in d.format()
    assert f"MALFORMED {bad}:" in render_text(run)


def test_case_folder_of_a_stale_version_is_malformed(repo: Path) -> None:
    (repo / "tests" / "acme-dotnet" / "1.0.0").rename(repo / "tests" / "acme-dotnet" / "0.9.0")
    run = run_policy_tests([str(repo)])
    assert run.exit_code == 2 and "differs from pack acme-dotnet's version 1.0.0" in run.malformed[0].message


def test_malformed_pack_exits_2(repo: Path) -> None:
    pack = repo / "acme-dotnet.yaml"
    pack.write_text(pack.read_text().replace('version: "1.0.0"', "version: 1.0"))
    run = run_policy_tests([str(repo)])
    assert run.exit_code == 2 and run.malformed and run.malformed[0].line > 0


def test_case_folder_is_not_loaded_as_packs_by_check(repo: Path) -> None:
    from sitegate.engine.packs import load_policies

    ps, warnings = load_policies([str(repo)])
    assert "acme-dotnet" in ps.by_id
    assert any("policies test" in w.message for w in warnings)


def test_junit_output_is_accepted_by_ci_consumers(repo: Path, tmp_path: Path) -> None:
    case = repo / "tests" / "acme-dotnet" / "1.0.0" / "task-server-48.yaml"
    case.write_text(case.read_text().replace("ACME-NET-48-EARLY: pass", "ACME-NET-48-EARLY: fail"))
    (repo / "tests" / "acme-dotnet" / "1.0.0" / "bad.yaml").write_text("target: 8.6\n")
    xml = render_junit(run_policy_tests([str(repo)]))
    assert xml.count("<failure ") == 1 and xml.count("<error ") == 1
    out = tmp_path / "t.xml"
    out.write_text(xml)
    checker = Path(__file__).resolve().parents[2] / "shared" / "format-checks" / "check-junit"  # ../shared beside the checkout
    if not checker.exists():
        pytest.skip("format checker not on this machine")
    proc = subprocess.run([str(checker), str(out)], capture_output=True, text=True, timeout=600)
    assert "VERDICT: PASS" in proc.stdout, proc.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run([sys.executable, "-m", "sitegate.cli.main", *args], capture_output=True, text=True, timeout=300)


def test_cli_exit_codes(repo: Path, tmp_path: Path) -> None:
    ok = _cli("policies", "test", str(repo))
    assert ok.returncode == 0 and "6 passed, 0 failed" in ok.stdout, ok.stderr
    case = repo / "tests" / "acme-dotnet" / "1.0.0" / "task-server-48.yaml"
    case.write_text(case.read_text().replace("ACME-NET-48-EARLY: pass", "ACME-NET-48-EARLY: fail"))
    bad = _cli("policies", "test", str(repo))
    assert bad.returncode == 1 and "case task-server-48: ACME-NET-48-EARLY: expected fail, got pass" in bad.stdout
    junit = tmp_path / "r.xml"
    assert _cli("policies", "test", str(repo), "--format", "junit", "-o", str(junit)).returncode == 1
    assert junit.read_text().count("<failure ") == 1
    (repo / "tests" / "acme-dotnet" / "1.0.0" / "broken.yaml").write_text("target: '8.6'\nfacts: {}\nexpect: [\n")
    broken = _cli("policies", "test", str(repo))
    assert broken.returncode == 2 and "broken.yaml:" in broken.stdout
    assert _cli("policies", "test", str(repo), "--format", "xml").returncode == 2
