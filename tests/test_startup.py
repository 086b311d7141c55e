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
print(json.dumps({{"code": code, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "referencing", "attr", "attrs"))}}))
"""


def test_a_clean_check_never_imports_jsonschema(tmp_path: Path) -> None:
    got = _modules_after(_CLI_RUN.format(args=["check", str(FLEET), "--target", "8.7.3", "-o", str(tmp_path / "r.json")]))
    assert got["code"] == 1  # findings at 8.7.3: the run went all the way through
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["hosts"]
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
