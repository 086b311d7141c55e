"""What a run costs before it evaluates anything: the modules it imports.

jsonschema (with referencing and attrs, about 60 ms to import) only writes the
messages for a file the generated fast check is not certain of; a run whose
packs and inputs are valid must never import it. Each case starts a fresh
interpreter, since this test process has imported everything already.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLEET = REPO / "examples" / "fleet.json"


def _modules_after(code: str) -> dict[str, object]:
    """Run code in a fresh interpreter; it must print a JSON object as its last line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


_CLI_RUN = """
import json, sys
from sitegate.cli.main import run
sys.argv = ["sitegate", *{args!r}]
code = None
try:
    run()
except SystemExit as exc:
    code = exc.code
print(json.dumps({{
    "code": code,
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "referencing", "attr", "attrs")),
    "renderers": sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("sitegate.engine.render.")),
}}))
"""


def test_a_clean_check_never_imports_jsonschema(tmp_path: Path) -> None:
    got = _modules_after(_CLI_RUN.format(args=["check", str(FLEET), "--target", "8.7.3", "-o", str(tmp_path / "r.json")]))
    assert got["code"] == 1  # findings at 8.7.3: the run went all the way through
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["hosts"]
    assert got["loaded"] == []
    # Only the JSON renderer (and the text helpers it uses) is imported for a JSON output.
    assert "json_report" in got["renderers"]
    assert not {"html", "table", "markdown", "sarif", "junit", "plan"} & set(got["renderers"]), got["renderers"]


def test_a_check_with_valid_waivers_and_data_never_imports_jsonschema(tmp_path: Path) -> None:
    args = ["check", str(FLEET), "--target", "8.7.3", "--audit-date", "2026-11-20",
            "--waivers", str(REPO / "examples" / "waivers.yaml"), "--data", str(REPO / "examples" / "data-overlay.yaml"),
            "-o", str(tmp_path / "r.json")]
    got = _modules_after(_CLI_RUN.format(args=args))
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert got["code"] in (0, 1) and report["hosts"]
    assert report.get("overlays") or "data-overlay.yaml" in json.dumps(report)  # the overlay was applied
    assert "CHG-2001" in json.dumps(report)  # the waivers file was read
    assert got["loaded"] == []


def test_the_library_run_never_imports_jsonschema() -> None:
    got = _modules_after(
        "import json, sys\n"
        "from sitegate.engine.run import RunOptions, run\n"
        f"r = run([{str(FLEET)!r}], RunOptions(target='8.7.3'))\n"
        "items = list(r)\n"
        "print(json.dumps({'code': r.exit_code, 'hosts': len(items), 'jsonschema': 'jsonschema' in sys.modules}))\n"
    )
    assert got == {"code": 1, "hosts": got["hosts"], "jsonschema": False} and got["hosts"] >= 4


def test_a_bad_pack_still_gets_the_jsonschema_message(tmp_path: Path) -> None:
    # The other side: where the fast check says no, jsonschema runs and names the error.
    pack = (REPO / "tests" / "corpus" / "policies" / "unknown-key.yaml").read_text(encoding="utf-8")
    d = tmp_path / "packs"
    d.mkdir()
    (d / "p.yaml").write_text(pack, encoding="utf-8")
    got = _modules_after(_CLI_RUN.format(args=["policies", "validate", str(d)]))
    assert got["code"] == 2
    assert "jsonschema" in got["loaded"]


# ------------------------------------------------------------------ the in-process pack cache

def _pack_text() -> str:
    return (REPO / "tests" / "corpus" / "policies" / "valid.yaml").read_text(encoding="utf-8")


def test_an_unchanged_pack_is_loaded_once(tmp_path: Path, monkeypatch) -> None:
    from sitegate.engine import packs

    p = tmp_path / "p.yaml"
    p.write_text(_pack_text(), encoding="utf-8")
    packs.clear_pack_cache()
    calls: list[str] = []
    real = packs._load_pack
    monkeypatch.setattr(packs, "_load_pack", lambda raw, digest, display, bundled: calls.append(display) or real(raw, digest, display, bundled))
    first = packs.load_pack_file(str(p), "p.yaml")
    second = packs.load_pack_file(str(p), "p.yaml")
    assert second is first and calls == ["p.yaml"]
    # Another display name or bundled flag is another entry (both are in the LoadedPack).
    other = packs.load_pack_file(str(p), "other.yaml")
    assert other.path == "other.yaml" and other.doc.source == "other.yaml"
    assert packs.load_pack_file(str(p), "p.yaml", bundled=True).bundled
    assert calls == ["p.yaml", "other.yaml", "p.yaml"]


def test_a_changed_pack_is_loaded_again(tmp_path: Path) -> None:
    import hashlib

    from sitegate.base.diagnostics import InputError
    from sitegate.engine import packs

    p = tmp_path / "p.yaml"
    text = _pack_text()
    p.write_text(text, encoding="utf-8")
    first = packs.load_pack_file(str(p), "p.yaml")
    p.write_text(text.replace("title:", "title: Changed", 1).replace("Changed ", "Changed ", 1), encoding="utf-8")
    second = packs.load_pack_file(str(p), "p.yaml")
    assert second is not first
    assert second.pack.title != first.pack.title
    assert second.digest == hashlib.sha256(p.read_bytes()).hexdigest() != first.digest
    # A broken pack is never answered from the cache, and its errors are not remembered.
    p.write_text(text + "\nunknown_key: 1\n", encoding="utf-8")
    for _ in range(2):
        try:
            packs.load_pack_file(str(p), "p.yaml")
        except InputError as exc:
            assert any("unknown_key" in d.message for d in exc.diagnostics)
        else:
            raise AssertionError("a pack with an unknown key loaded")
    p.write_text(text, encoding="utf-8")
    assert packs.load_pack_file(str(p), "p.yaml") is first  # the same bytes again


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    from sitegate.engine import packs

    packs.clear_pack_cache()
    p = tmp_path / "p.yaml"
    p.write_text(_pack_text(), encoding="utf-8")
    first = packs.load_pack_file(str(p), "d0")
    for i in range(1, packs.PACK_CACHE_SIZE + 1):
        packs.load_pack_file(str(p), f"d{i}")
    assert len(packs._PACK_CACHE) == packs.PACK_CACHE_SIZE
    assert packs.load_pack_file(str(p), "d0") is not first  # the oldest entry was dropped
    packs.clear_pack_cache()


def test_runs_leave_the_cached_packs_as_they_were(tmp_path: Path) -> None:
    # Every pack object a run touches stays as loaded: evaluate, render every
    # format, with a data overlay and without, and compare with a deep copy.
    import copy

    from sitegate.engine.packs import load_policies
    from sitegate.engine.render import Format, RenderOptions
    from sitegate.engine.run import RunOptions, run

    ps, _ = load_policies()
    snapshot = {pid: (lp.pack.model_dump(), copy.deepcopy(lp.doc.data), dict(lp.doc.positions), dict(lp.doc.float_text)) for pid, lp in ps.by_id.items()}
    data = tmp_path / "data.yaml"
    data.write_text(
        'schema: sitegate/data/v1\ntables:\n  agent_minimum:\n    mode: replace\n    confirmed_by: me\n    rows:\n      - {min_version: "8.7"}\n',
        encoding="utf-8",
    )
    outputs = tuple((f, RenderOptions()) for f in (Format.JSON, Format.SARIF, Format.JUNIT, Format.MARKDOWN, Format.TABLE, Format.HTML))
    for extra in ((), (str(data),), ()):
        r = run([str(FLEET)], RunOptions(target="8.7.3", data=extra, outputs=outputs))
        assert list(r)
    again, _ = load_policies()
    for pid, lp in again.by_id.items():
        assert lp is ps.by_id[pid]
        assert (lp.pack.model_dump(), lp.doc.data, lp.doc.positions, lp.doc.float_text) == snapshot[pid], pid


# ------------------------------------------------------------------ the YAML nesting measure

def _nested(depth: int, style: str) -> str:
    if style == "flow":
        return "a: " + "[" * depth + "1" + "]" * depth + "\n"
    if style == "block":
        return "".join("  " * i + "k:\n" for i in range(depth)) + "  " * depth + "v\n"
    return "a: &x [" + "[" * depth + "1" + "]" * depth + "]\nb: *x\nc: [*x, *x]\n"  # aliases


def test_the_nesting_first_pass_gives_the_exact_answer() -> None:
    import yaml

    from sitegate.base import yamlload

    texts = [(REPO / "policies" / name).read_text(encoding="utf-8") for name in ("itms-base.yaml", "itms-8.7.3.yaml")]
    for depth in (1, 5, 197, 198, 199, 200, 201, 202, 260):
        for style in ("flow", "block", "alias"):
            texts.append(_nested(depth, style))
    texts.append("a: &x [1, [2, *x]]\n")  # an alias to an enclosing node: a cycle
    texts.append("a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c, *c]\n")  # shared subtrees
    # Billions of paths through few nodes: a walk that followed each alias would never end.
    texts.append((REPO / "tests" / "corpus" / "policies" / "billion-laughs.yaml").read_text(encoding="utf-8"))
    answers = set()
    for text in texts:
        root = yaml.compose(text, Loader=yamlload._COMPOSER)
        fast, exact = yamlload._too_deep(root), yamlload._too_deep_exact(root)
        assert fast is exact, text[:80]
        answers.add(exact is None)
    assert answers == {True, False}  # both answers occur


def test_the_command_modules_keep_real_annotations() -> None:
    # typer builds every command from its function's annotations at each start; with
    # `from __future__ import annotations` each one is a string typer evals (410 evals,
    # about half of get_command). The help texts are the same either way
    # (tests/test_cli*.py compare them); this keeps the cheap form.
    import ast

    for name in ("main.py", "upgrade.py"):
        tree = ast.parse((REPO / "cli" / name).read_text(encoding="utf-8"))
        futures = [a.name for node in tree.body if isinstance(node, ast.ImportFrom) and node.module == "__future__" for a in node.names]
        assert "annotations" not in futures, name


def test_the_cli_command_is_built_once_per_process(monkeypatch, tmp_path: Path) -> None:
    import typer

    from sitegate.cli import main as cli_main

    from .conftest import run_in_process

    built: list[object] = []
    real = typer.main.get_command
    monkeypatch.setattr(typer.main, "get_command", lambda app: built.append(app) or real(app))
    monkeypatch.setattr(cli_main, "_COMMAND", None)
    runs = [
        run_in_process("check", str(FLEET), "--target", "8.7.3", "-o", str(tmp_path / "a.json")),
        run_in_process("check", str(FLEET), "--no-such-option"),
        run_in_process("check", str(FLEET), "--target", "8.7.3", "-o", str(tmp_path / "b.json")),
        run_in_process("check", "--help"),
    ]
    assert len(built) == 1
    # The reused command keeps no state from one run to the next.
    assert [r.returncode for r in runs] == [1, 2, 1, 0]
    assert "no-such-option" in runs[1].stderr
    assert "Usage" in runs[3].stdout
    assert (tmp_path / "a.json").read_bytes().count(b'"name"') == (tmp_path / "b.json").read_bytes().count(b'"name"') > 0
