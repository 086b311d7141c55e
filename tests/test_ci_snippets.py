"""The install and CI snippets of README.md and docs/ci.md run as written.

A wheel is built from the checkout once per session (``conftest.sitegate_wheel``);
the README's wheel install makes a clean virtual environment from it, which
then stands for the CI runner's Python. Each snippet's placeholder
(``SITEGATE_REQUIREMENT``, the one value marked ``REPLACE-ME``) is filled with
that wheel, and its shell lines run in a workspace laid out as the snippets
expect (``inventory/facts/``, ``inventory/waivers.yaml``), with the runner's
step semantics emulated where they decide what runs: GitHub's ``if:``
(``always()``, ``hashFiles``), GitLab's stop at the first failing line,
Azure's macros, Jenkins' ``sh`` steps and ``returnStatus``. What cannot run
here (``uses:`` actions, Jenkins' ``junit``, pre-commit's own clone) is checked
for the inputs it would get.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .conftest import EXAMPLES, REPO

PLACEHOLDER = "REPLACE-ME"
VAR = "SITEGATE_REQUIREMENT"
CI_MD = REPO / "docs" / "ci.md"
TIMEOUT = 600  # seconds: a venv and an install from the local index on a loaded machine


@dataclass
class Block:
    """A fenced code block of a Markdown file and the section it is in."""

    lang: str
    text: str
    section: str


def blocks(path: Path) -> list[Block]:
    found, section = [], ""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        m = re.match(r"^```(\w*)\s*$", line)
        if m:
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            found.append(Block(m.group(1), "\n".join(lines[i + 1:j]) + "\n", section))
            i = j
        i += 1
    return found


def ci_block(section: str, lang: str) -> Block:
    (b,) = [b for b in blocks(CI_MD) if b.section == section and b.lang == lang]
    return b


@dataclass
class Step:
    """One shell run: its exit code and output."""

    script: str
    code: int
    out: str


def sh(script: str, cwd: Path, env: dict[str, str], shell: tuple[str, ...] = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c")) -> Step:
    proc = subprocess.run([*shell, script], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    return Step(script, proc.returncode, proc.stdout + proc.stderr)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    # Quieter and cheaper installs; neither changes what is installed.
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_COMPILE="1", PIP_NO_INPUT="1", PYTHONIOENCODING="utf-8")
    return env


def requirement(wheel: Path) -> str:
    """The placeholder filled in: the wheel built from this checkout, as a direct reference."""
    return f"sitegate @ {wheel.as_uri()}"


@pytest.fixture(scope="session")
def runner_venv(sitegate_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's wheel install, run as written in a clean directory: the venv it makes."""
    home = tmp_path_factory.mktemp("clean-machine")
    (home / "dist").mkdir()
    shutil.copy(sitegate_wheel, home / "dist" / sitegate_wheel.name)
    install = [b for b in blocks(REPO / "README.md") if b.section == "Install" and "pip install dist/" in b.text]
    assert len(install) == 1, "the README's Install section has one wheel install block"
    assert f"dist/{sitegate_wheel.name}" in install[0].text, f"the README names the wheel pip builds: {sitegate_wheel.name}"
    step = sh(install[0].text, home, base_env())
    assert step.code == 0, step.out
    assert re.search(r"^sitegate \d+\.\d+\.\d+", step.out, re.M), step.out  # its last line: sitegate --version
    return home / ".venv"


def workspace(tmp_path: Path) -> Path:
    """A repository laid out as the snippets expect."""
    facts = tmp_path / "ws" / "inventory" / "facts"
    facts.mkdir(parents=True)
    shutil.copy(EXAMPLES / "fleet.json", facts / "fleet.json")
    (facts.parent / "waivers.yaml").write_text("schema: sitegate/waivers/v1\nwaivers: []\n", encoding="utf-8")
    return facts.parent.parent


def on_path(venv: Path) -> dict[str, str]:
    """The runner's environment: its Python (here, the README's venv) first on PATH."""
    env = base_env()
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    return env


def placeholder_value(value: str) -> None:
    assert PLACEHOLDER in value and value.startswith("sitegate @ git+https://"), value


# ------------------------------------------------------------------ every snippet


def test_no_snippet_installs_from_an_index_that_does_not_have_sitegate() -> None:
    texts = [b.text for b in blocks(CI_MD)] + [b.text for b in blocks(REPO / "README.md")]
    texts.append((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    for text in texts:
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("#", "//")))
        assert not re.search(r"pip3? install (-\S+ )*sitegate\b(?!\S)", code), text
        assert "--user" not in code, text
    installs = [b for b in blocks(CI_MD) if re.search(r"pip3? install", b.text)]
    assert {b.section for b in installs} == {"GitHub Actions", "GitLab CI", "Jenkins", "Azure DevOps"}
    for b in installs:
        assert f'"${VAR}"' in b.text, b.section


def test_the_plain_command_runs(runner_venv: Path, tmp_path: Path) -> None:
    (b,) = [b for b in blocks(CI_MD) if b.lang == "sh" and b.section == ""]
    ws = workspace(tmp_path)
    step = sh(b.text, ws, on_path(runner_venv))
    assert step.code == 1, step.out  # the example fleet has findings: a verdict, not an error
    for name in ("sitegate.sarif", "TEST-sitegate.xml", "sitegate.md", "sitegate.json"):
        assert (ws / name).stat().st_size > 0, name
    assert json.loads((ws / "sitegate.json").read_text(encoding="utf-8"))["summary"]["exit_code"] == 1


# ------------------------------------------------------------------ GitHub Actions


def github_if(expr: str | None, ws: Path, failed: bool) -> bool:
    """GitHub's step condition, for the functions the snippet may use (anything else fails)."""
    if expr is None:
        return not failed
    result = True
    for term in (t.strip() for t in expr.split("&&")):
        if term == "always()":
            continue
        if term == "success()":
            result &= not failed
        elif term == "failure()":
            result &= failed
        elif m := re.fullmatch(r"hashFiles\('([^']+)'\)\s*!=\s*''", term):
            result &= any(ws.glob(m.group(1)))
        else:
            raise AssertionError(f"condition not emulated by this test: {term!r}")
    return result


def test_github_actions_snippet(runner_venv: Path, sitegate_wheel: Path, tmp_path: Path) -> None:
    wf = yaml.safe_load(ci_block("GitHub Actions", "yaml").text)
    assert wf["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    placeholder_value(wf["env"][VAR])
    steps = wf["jobs"]["readiness"]["steps"]
    (upload,) = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert upload["if"] == "always() && hashFiles('sitegate.sarif') != ''"
    assert not any(re.search(r"@v[0-3]$", s["uses"]) for s in steps if "uses" in s and "codeql" in s["uses"])

    ws = workspace(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    # Never uploaded when sitegate wrote nothing (install failed), even after a failure.
    assert not github_if(upload["if"], empty, failed=True)

    env = {**on_path(runner_venv), **wf["env"], VAR: requirement(sitegate_wheel), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    failed, ran = False, []
    for s in steps:
        if not github_if(s.get("if"), ws, failed):
            continue
        if "run" in s:
            step = sh(s["run"], ws, env)
            ran.append((s.get("name"), step.code))
            failed |= step.code != 0
            assert step.code in (0, 1), step.out
        else:
            ran.append((s["uses"], None))
    assert ("Install sitegate", 0) in ran
    assert ("Readiness gate", 1) in ran  # the example fleet is not ready: the job fails
    assert ("Job summary", 0) in ran  # ... and the summary and the upload still run
    assert (upload["uses"], None) in ran
    assert "sitegate" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    sarif = json.loads((ws / upload["with"]["sarif_file"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["invocations"][0]["exitCode"] == 1


# ------------------------------------------------------------------ GitLab CI


def test_gitlab_snippet(runner_venv: Path, sitegate_wheel: Path, tmp_path: Path) -> None:
    job = yaml.safe_load(ci_block("GitLab CI", "yaml").text)["sitegate"]
    placeholder_value(job["variables"][VAR])
    assert job["artifacts"]["when"] == "always"
    ws = workspace(tmp_path)
    env = {**on_path(runner_venv), **job["variables"], VAR: requirement(sitegate_wheel)}
    codes = []
    for line in job["script"]:  # GitLab stops at the first failing line
        step = sh(line, ws, env)
        codes.append(step.code)
        if step.code:
            break
    assert codes == [0, 1], codes
    for path in [*job["artifacts"]["paths"], job["artifacts"]["reports"]["junit"]]:
        assert (ws / path).stat().st_size > 0, path


# ------------------------------------------------------------------ Azure DevOps


def test_azure_snippet(runner_venv: Path, sitegate_wheel: Path, tmp_path: Path) -> None:
    pipe = yaml.safe_load(ci_block("Azure DevOps", "yaml").text)
    placeholder_value(pipe["variables"][VAR])
    ws = workspace(tmp_path)
    staging = tmp_path / "staging"
    staging.mkdir()
    macros = {"$(Build.ArtifactStagingDirectory)": str(staging)}

    def expand(text: str) -> str:  # Azure replaces macros before the shell sees the script
        for k, v in macros.items():
            text = text.replace(k, v)
        assert "$(" not in text, text
        return text

    env = {**on_path(runner_venv), VAR: requirement(sitegate_wheel)}
    failed, codes = False, {}
    for s in pipe["steps"]:
        condition = s.get("condition", "succeeded()")
        if condition == "succeeded()" and failed:
            continue
        assert condition in ("succeeded()", "always()"), condition
        if "script" in s:
            step = sh(expand(s["script"]), ws, env)
            codes[s["displayName"]] = step.code
            failed |= step.code != 0
        elif s["task"].startswith("PublishTestResults"):
            assert list(staging.glob(Path(expand(s["inputs"]["testResultsFiles"])).name)), "no JUnit file to publish"
        elif s["task"].startswith("PublishBuildArtifacts"):
            assert Path(expand(s["inputs"]["PathtoPublish"])).stat().st_size > 0
    assert codes == {"Install sitegate": 0, "Readiness gate": 1}, codes


# ------------------------------------------------------------------ Jenkins


def jenkins_steps(groovy: str) -> tuple[dict[str, str], list[tuple[str, bool]]]:
    """(environment block, [(sh script, returnStatus?)]) in pipeline order."""
    env = dict(re.findall(r"^\s*(\w+) = '([^']*)'\s*$", groovy.split("environment {", 1)[1].split("}", 1)[0], re.M))
    steps = []
    pattern = re.compile(r"sh\s+'''(.*?)'''|sh\s+'([^'\n]*)'|sh\(returnStatus: true, script: '''(.*?)'''\)", re.S)
    for m in pattern.finditer(groovy):
        if m.group(3) is not None:
            steps.append((m.group(3), True))
        else:
            steps.append((m.group(1) if m.group(1) is not None else m.group(2), False))
    return env, steps


def jenkins_verdict(groovy: str, rc: int) -> str:
    """The snippet's decision on the exit code, read from its if/else chain."""
    chain = re.search(r"if \(rc == 1\) \{\s*unstable\(.*?\} else if \(rc != 0\) \{.*?error\(", groovy, re.S)
    assert chain, "Jenkins: 1 is unstable, every other non-zero code an error"
    return "ok" if rc == 0 else "unstable" if rc == 1 else "error"


def test_jenkins_snippet(sitegate_wheel: Path, tmp_path: Path) -> None:
    groovy = ci_block("Jenkins", "groovy").text
    env_block, steps = jenkins_steps(groovy)
    placeholder_value(env_block[VAR])
    assert [r for _, r in steps] == [False, False, True], steps
    assert "python3 -m venv" in steps[1][0] and "--user" not in steps[1][0]
    # Jenkins' sh runs `sh -xe`; the agent's Python is whatever python3 is on PATH (no venv of ours).
    env = {**base_env(), VAR: requirement(sitegate_wheel)}
    ws = workspace(tmp_path)
    for stale in ("TEST-sitegate.xml", "sitegate.sarif"):
        (ws / stale).write_text("stale report of an earlier build", encoding="utf-8")
    rc = None
    for script, status in steps:
        step = sh(script, ws, env, shell=("sh", "-xe", "-c"))
        if status:
            rc = step.code
        else:
            assert step.code == 0, step.out
    assert rc == 1 and jenkins_verdict(groovy, rc) == "unstable"
    assert (ws / "TEST-sitegate.xml").read_text(encoding="utf-8").startswith("<?xml"), "the fresh report is published"

    # A build where sitegate cannot run: the old XML is gone before the gate, and the
    # exit code (127, not installed) is an error, not a verdict.
    ws2 = workspace(tmp_path / "second")
    (ws2 / "TEST-sitegate.xml").write_text("stale", encoding="utf-8")
    assert sh(steps[0][0], ws2, env, shell=("sh", "-xe", "-c")).code == 0
    rc2 = sh(steps[2][0], ws2, env, shell=("sh", "-xe", "-c")).code
    assert not (ws2 / "TEST-sitegate.xml").exists()
    assert rc2 == 127 and jenkins_verdict(groovy, rc2) == "error"
    assert jenkins_verdict(groovy, 2) == "error" and jenkins_verdict(groovy, 0) == "ok"


# ------------------------------------------------------------------ pre-commit


def test_pre_commit_hook_and_config(runner_venv: Path, tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    block = ci_block("pre-commit", "yaml").text
    (repo,) = yaml.safe_load(block)["repos"]
    assert PLACEHOLDER in repo["repo"]
    # The rev must exist in the user's mirror: the snippet says to create the tag or pin a SHA.
    assert re.search(r"#.*(tag you created|git tag v0\.1\.0).*", block) and re.search(r"commit SHA", block)
    (used,) = repo["hooks"]
    assert used["id"] == hook["id"]
    facts = ["inventory/facts/fleet.json", "inventory/facts/site-a/ts01.jsonl"]
    not_facts = ["settings.json", ".vscode/settings.json", "package.json", "inventory/waivers.json", "config/facts.json"]
    for pattern in (hook["files"], used["files"]):
        rx = re.compile(pattern)  # pre-commit matches with Python's re.search
        assert all(rx.search(f) for f in facts), pattern
        assert not any(rx.search(f) for f in not_facts), pattern

    ws = workspace(tmp_path)
    (ws / "settings.json").write_text('{"editor.tabSize": 2}', encoding="utf-8")
    changed = ["inventory/facts/fleet.json", "settings.json"]
    passed = [f for f in changed if re.search(hook["files"], f)]
    assert passed == ["inventory/facts/fleet.json"]
    # What pre-commit runs: entry, args, the matching files (pass_filenames).
    cmd = [*hook["entry"].split(), *hook["args"], *passed]
    proc = subprocess.run(cmd, cwd=ws, env=on_path(runner_venv), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # findings: a verdict
    # The old pattern would have passed settings.json too, and the hook exits 2 on it.
    proc = subprocess.run([*cmd, "settings.json"], cwd=ws, env=on_path(runner_venv), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2

