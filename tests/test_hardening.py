"""Hardening beyond the corpus: output safety, atomic outputs, policy safety, interrupts.

Subprocess runs carry a timeout and an address-space limit, like the corpus.
"""
from __future__ import annotations

import json
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitegate.engine.operators import MAX_REGEX_INPUT, OperatorError, _matches, compile_regex
from sitegate.engine.render import Format, available_formats

from .test_corpus import CORPUS, REPO, sitegate

HOSTILE_NAME = "TS-\u001b[31mRED\u001b[0m\u0007<b>&amp;]]></b>\r\nFAKE  verdict: COMPLIANT\u0000\u2028\u009b2J"
HOSTILE_CAPTION = "Windows \u001b]0;pwned\u0007 \u001b[2J ]]> <script>alert(1)</script> \u000b\u000c\ufffe"


def _host(name: str, **kw: object) -> dict[str, object]:
    h: dict[str, object] = {
        "name": name,
        "os": {"caption": "Microsoft Windows Server 2019 Standard", "build": 17763, "product_type": "server", "architecture": "x64"},
        "dotnet": {"release": 528449},
        "platform": {"itms_version": "8.7.3"},
        "site_services": {"installed": [{"service": "task", "version": "8.7.3264.0"}]},
    }
    h.update(kw)
    return h


@pytest.fixture()
def hostile(tmp_path: Path) -> Path:
    """A fleet whose names and values carry ANSI escapes, markup, ]]>, NUL and newlines."""
    p = tmp_path / "hostile.json"
    hosts = [
        _host(HOSTILE_NAME, os={"caption": HOSTILE_CAPTION, "build": 17763, "product_type": "workstation"}, load={"endpoints": 500}),
        {"name": HOSTILE_NAME + "-rejected", "hardware": {"memory_mb": "\u001b[2J16 GB"}},
        _host("TS-PLAIN"),
    ]
    p.write_text(json.dumps({"hosts": hosts}, indent=1), encoding="utf-8")
    return p


RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029]")


def _no_raw_controls(text: str, what: str) -> None:
    m = RAW_CONTROL.search(text.replace("\r\n", "\n"))
    assert m is None, f"{what}: raw control character {m.group()!r} at {m.start()}: {text[max(0, m.start() - 80):m.start() + 40]!r}"


# ---------------------------------------------------------------- output safety

def test_table_and_diagnostics_never_print_raw_controls(hostile: Path) -> None:
    proc = sitegate("check", str(hostile), "--target", "8.7.3", timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    _no_raw_controls(proc.stdout, "table")
    _no_raw_controls(proc.stderr, "diagnostics")
    assert "\\x1b[31m" in proc.stdout  # shown, not obeyed
    # A newline in a name cannot forge a line of output.
    assert not any(line.startswith("FAKE") for line in proc.stdout.splitlines())
    # Diagnostics on stderr (JSON on stdout) are escaped too.
    proc = sitegate("check", str(hostile), "--target", "8.7.3", "-f", "json", timeout=120)
    _no_raw_controls(proc.stderr, "diagnostics")
    json.loads(proc.stdout)


def test_file_names_with_controls_are_escaped(tmp_path: Path) -> None:
    """The path of an input appears in findings and diagnostics: it is escaped like the facts."""
    p = tmp_path / "evil\u001b[2J\u0007.json"
    p.write_text(json.dumps([_host("TS-A"), {"name": "TS-B", "hardware": {"memory_mb": -1}}]), encoding="utf-8")
    proc = sitegate("check", str(p), "--target", "8.7.3", timeout=120)
    assert proc.returncode == 2
    _no_raw_controls(proc.stdout, "table")
    _no_raw_controls(proc.stderr, "diagnostics")


@pytest.mark.skipif(Format.JUNIT not in available_formats(), reason="JUnit renderer not in this build")
def test_junit_stays_valid_xml(hostile: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    import xmlschema

    out = tmp_path / "r.xml"
    proc = sitegate("check", str(hostile), "--target", "8.7.3", "-o", f"junit={out}", timeout=120)
    assert proc.returncode == 2, proc.stderr
    text = out.read_text(encoding="utf-8")
    ET.fromstring(text)  # well-formed despite ]]>, NUL, ESC and markup
    xsd = REPO / "schemas" / "vendor" / "junit-10.xsd"
    if xsd.exists():
        xmlschema.XMLSchema(str(xsd)).validate(str(out))
    assert "<script>" not in text and "<b>" not in text


@pytest.mark.skipif(Format.HTML not in available_formats(), reason="HTML renderer not in this build")
def test_html_escapes_everything(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    sitegate("check", str(hostile), "--target", "8.7.3", "-o", f"html={out}", timeout=120)
    text = out.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text and "<b>&amp;" not in text
    _no_raw_controls(text, "html")


@pytest.mark.skipif(Format.SARIF not in available_formats(), reason="SARIF renderer not in this build")
def test_sarif_of_hostile_names_is_valid(hostile: Path, tmp_path: Path) -> None:
    import jsonschema

    out = tmp_path / "r.sarif"
    sitegate("check", str(hostile), "--target", "8.7.3", "-o", f"sarif={out}", timeout=120)
    doc = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads((REPO / "schemas" / "vendor" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(doc)


@pytest.mark.skipif(Format.MARKDOWN not in available_formats(), reason="Markdown renderer not in this build")
def test_markdown_has_no_raw_markup(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    sitegate("check", str(hostile), "--target", "8.7.3", "-o", f"markdown={out}", timeout=120)
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text
    _no_raw_controls(text, "markdown")


# ---------------------------------------------------------------- outputs: atomic, never over an input

FLEET = REPO / "examples" / "fleet.json"


def _copy_fleet(tmp_path: Path) -> Path:
    p = tmp_path / "fleet.json"
    p.write_bytes(FLEET.read_bytes())
    return p


def _policy_dir(tmp_path: Path) -> Path:
    d = tmp_path / "packs"
    d.mkdir()
    (d / "valid.yaml").write_bytes((CORPUS / "policies" / "valid.yaml").read_bytes())
    return d


@pytest.mark.parametrize(
    "make_args",
    [
        pytest.param(lambda t, f, d: ([str(f), "-o", str(f)], f), id="facts"),
        pytest.param(lambda t, f, d: ([str(f), "-o", f"json={f}"], f), id="facts-format-form"),
        pytest.param(lambda t, f, d: ([str(t), "-o", str(f)], f), id="file-in-facts-directory"),
        pytest.param(lambda t, f, d: ([str(f), "--policy-dir", str(d), "-o", str(d / "valid.yaml")], d / "valid.yaml"), id="policy-dir-file"),
        pytest.param(lambda t, f, d: ([str(f), "--data", str(t / "data.yaml"), "-o", str(t / "data.yaml")], t / "data.yaml"), id="data"),
        pytest.param(lambda t, f, d: ([str(f), "--waivers", str(t / "w.yaml"), "-o", str(t / "w.yaml")], t / "w.yaml"), id="waivers"),
        pytest.param(lambda t, f, d: ([str(f), "--baseline", str(t / "b.json"), "-o", str(t / "b.json")], t / "b.json"), id="baseline"),
        pytest.param(lambda t, f, d: ([str(f), "-o", str(t / "link.json")], f), id="symlink-to-facts"),
    ],
)
def test_output_never_overwrites_an_input(tmp_path: Path, make_args) -> None:
    facts = _copy_fleet(tmp_path)
    pdir = _policy_dir(tmp_path)
    for name in ("data.yaml", "w.yaml", "b.json"):
        (tmp_path / name).write_text("# an input\n", encoding="utf-8")
    (tmp_path / "link.json").symlink_to(facts)
    args, victim = make_args(tmp_path, facts, pdir)
    before = victim.read_bytes()
    proc = sitegate("check", *args, "--target", "8.7.3", timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "would overwrite an input file" in proc.stderr
    assert victim.read_bytes() == before
    assert not list(tmp_path.rglob(".sitegate-*.tmp"))


def test_outputs_are_written_whole_or_not_at_all(tmp_path: Path) -> None:
    facts = _copy_fleet(tmp_path)
    out = tmp_path / "report.json"
    proc = sitegate("check", str(facts), "--target", "8.7.3", "-o", str(out), "-f", "json", timeout=120)
    assert proc.returncode in (0, 1)
    json.loads(out.read_text(encoding="utf-8"))
    assert not list(tmp_path.glob(".sitegate-*.tmp"))
    proc = sitegate("check", str(facts), "--target", "8.7.3", "-o", str(tmp_path / "no-such-dir" / "r.json"), timeout=120)
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- interrupts

def _write_big_fleet(path: Path, n: int) -> None:
    line = json.dumps(_host("TS-{:06d}", hardware={"memory_mb": 16384}))
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(line.replace("TS-{:06d}", f"TS-{i:06d}") + "\n")


@pytest.mark.parametrize("existing", [False, True], ids=["no-previous-output", "previous-output-kept"])
def test_ctrl_c_leaves_no_partial_output(tmp_path: Path, existing: bool) -> None:
    facts = tmp_path / "fleet.jsonl"
    _write_big_fleet(facts, 300_000)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "out.json"
    if existing:
        out.write_text('{"previous": true}\n', encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegate.cli.main", "check", str(facts), "--target", "8.7.3", "-f", "json", "-o", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)),
    )
    try:
        deadline = time.monotonic() + 60
        while not list(out_dir.glob(".sitegate-*.tmp")):
            assert proc.poll() is None, f"finished before it could be interrupted: {proc.communicate()}"
            assert time.monotonic() < deadline, "no temporary output file appeared"
            time.sleep(0.02)
        time.sleep(0.3)  # well inside the evaluation
        assert proc.poll() is None, "finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr
    assert "interrupted" in stderr or "aborted" in stderr
    assert not list(out_dir.glob(".sitegate-*.tmp")), "temporary file left behind"
    if existing:
        assert out.read_text(encoding="utf-8") == '{"previous": true}\n'
    else:
        assert not out.exists()


# ---------------------------------------------------------------- policies are data

SOURCE_DIRS = ("base", "engine", "facts", "cli")
FORBIDDEN = re.compile(
    r"(?<![\w.])(?<!def )(eval|exec|compile|__import__)\s*\("
    r"|\bimport\s+(pickle|marshal|shelve|subprocess|socket|ctypes)\b"
    r"|\bfrom\s+(pickle|marshal|shelve|subprocess|socket|ctypes|urllib|http)\b"
    r"|\bimport\s+(urllib|http\.client|requests)\b"
    r"|\bos\.(system|popen|exec\w*|spawn\w*)\s*\("
    r"|yaml\.(load|load_all|unsafe_load|full_load)\s*\("
    r"|\b(Unsafe|Full)Loader\b|Loader\s*=\s*yaml\.Loader"
)
# Reviewed uses, none reachable from policy data. Each entry: (file, a piece of the line).
ALLOWED = {
    # The renderer registry imports its own modules by fixed names.
    ("engine/render/__init__.py", '__import__(f"{__name__}.{name}", fromlist=["RENDERER"])'),
    # fastcheck generates a validator from the shipped facts schema (not from policies).
    ("facts/fastcheck.py", 'exec(compile(src, f"<fastcheck {ref}>", "exec"), ns)'),
    # Generated rule code (issue 18): the source comes only from engine/codegen.py's own
    # templates and identifiers; every policy, table and overlay value is a bound name in
    # the namespace, whose __builtins__ are the few the templates use. Held by
    # tests/test_codegen.py (policy strings never change the source; only template
    # constructs; the same outcomes as the reference closures).
    ("engine/codegen.py", 'exec(compile(source, "<sitegate generated rules>", "exec"), namespace)'),
    # `sitegate collect` runs the bundled PowerShell collector on the site server itself.
    ("facts/collect.py", "import subprocess"),
}


def test_engine_never_evaluates_or_imports_policy_text() -> None:
    hits = []
    for d in SOURCE_DIRS:
        for path in sorted((REPO / d).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if FORBIDDEN.search(code) and not any(rel == f and piece in line for f, piece in ALLOWED):
                    hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, "eval/exec/import/pickle/subprocess/network or unsafe YAML in the engine:\n" + "\n".join(hits)


def test_rules_cannot_reach_files_or_network() -> None:
    """The operator table and the compiler open nothing: a rule reads facts, tables and context only."""
    for name in ("operators.py", "compiler.py", "policy.py", "codegen.py"):
        text = (REPO / "engine" / name).read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])open\s*\(|\bPath\(|\bos\.|importlib|\bsocket\b", text), name


def test_regex_match_is_linear_with_re2() -> None:
    """(a+)+$ on 'aaa...!' takes exponential time with backtracking; RE2 stays linear."""
    rx = "^(a+)+$"
    compile_regex(rx)

    def cost(n: int) -> float:
        text = "a" * n + "!"
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            assert _matches(text, rx) is False
            best = min(best, time.perf_counter() - t)
        return best

    small, big = cost(4_000), cost(64_000)
    assert big < 0.5, f"{big:.3f} s for 64,000 characters"
    # 16x the input: a linear matcher costs ~16x (allow noise), a quadratic one 256x.
    assert big < 60 * small + 0.01, (small, big)


def test_regex_input_and_pattern_are_bounded() -> None:
    with pytest.raises(OperatorError, match="longer than"):
        _matches("a" * (MAX_REGEX_INPUT + 1), "a")
    with pytest.raises(OperatorError, match="longer than"):
        compile_regex("a" * 10_000)
    with pytest.raises(OperatorError):
        compile_regex("(a)\\1")  # backreferences need backtracking: RE2 refuses them


def test_backtracking_regex_pack_evaluates_fast(tmp_path: Path) -> None:
    """The corpus pack with (a+)+$ runs against a host whose caption is 60,000 'a's and a '!'."""
    d = tmp_path / "packs"
    d.mkdir()
    (d / "p.yaml").write_bytes((CORPUS / "policies" / "backtracking-regex.yaml").read_bytes())
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps([_host("TS-A", os={"caption": "a" * 4000 + "!"})]), encoding="utf-8")
    t = time.monotonic()
    proc = sitegate("check", str(facts), "--target", "8.7.3", "--policy-dir", str(d), "-f", "json", timeout=60)
    assert time.monotonic() - t < 30
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert not any(f["rule_id"] == "CORPUS-REGEX" for h in report["hosts"] for f in h.get("findings", ()))


def test_policy_dir_reports_every_skipped_file(tmp_path: Path) -> None:
    d = _policy_dir(tmp_path)
    (d / "README.md").write_text("notes", encoding="utf-8")
    (d / "pack.yaml.bak").write_text("x: 1", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.yaml").write_text("id: evil\n", encoding="utf-8")
    (d / "escape.yaml").symlink_to(outside / "evil.yaml")
    (d / "subdir-link").symlink_to(outside, target_is_directory=True)
    for args in (["policies", "validate", str(d)], ["check", str(FLEET), "--target", "8.7.3", "--policy-dir", str(d)]):
        proc = sitegate(*args, timeout=120)
        text = proc.stdout + proc.stderr
        assert proc.returncode == 2, text  # a pack skipped is never a green run
        assert "README.md: warning: not a .yaml/.yml file: skipped" in text
        assert "pack.yaml.bak: warning: not a .yaml/.yml file: skipped" in text
        assert "escape.yaml: error: symbolic link out of the policy directory" in text
        assert "subdir-link: error: symbolic link to a directory out of the policy directory" in text
        assert "evil" not in text.replace("evil.yaml", "")


def test_a_huge_value_is_not_echoed_whole_in_a_message(tmp_path: Path) -> None:
    from sitegate.base.diagnostics import MAX_MESSAGE, Diagnostic

    d = Diagnostic("p.yaml", "'" + "x" * 1_500_000 + "' is too long", 3, 10, "/title")
    assert len(d.message) <= MAX_MESSAGE and d.message.endswith("more characters)") and d.message.startswith("'xxx")
    pack = tmp_path / "packs"
    pack.mkdir()
    (pack / "p.yaml").write_text("schema: sitegate/policy/v1\nid: big\ntitle: " + "x" * 300_000 + "\n", encoding="utf-8")
    proc = sitegate("policies", "validate", str(pack), timeout=120)
    assert proc.returncode == 2 and max(len(line) for line in proc.stderr.splitlines()) < 2 * MAX_MESSAGE, len(proc.stderr)
