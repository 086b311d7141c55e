"""Duplicate host names (issue 16, item 1): a warning in every output, and a baseline never
matches a finding across two hosts of one name."""
from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import EXAMPLES

DATE = "2026-11-25"


def _fleet() -> dict:
    return json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))


def _with_twin(tmp_path: Path, first: bool = False) -> Path:
    """The example fleet plus a second host named PS-PAR-02 with the same failing facts."""
    doc = _fleet()
    twin = copy.deepcopy(next(h for h in doc["hosts"] if h["name"] == "PS-PAR-02"))
    twin.setdefault("identity", {})["site"] = "Elsewhere"
    doc["hosts"].insert(0, twin) if first else doc["hosts"].append(twin)
    p = tmp_path / "fleet-twin.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def test_duplicate_names_are_warned_in_every_output(cli, tmp_path: Path) -> None:
    facts = _with_twin(tmp_path)
    out = {f: tmp_path / f"r.{f}" for f in ("json", "sarif", "junit", "markdown", "html")}
    code, table, err = cli("check", str(facts), "--target", "8.7.3", "--audit-date", DATE, "--show-passing",
                           *[a for f, p in out.items() for a in ("-o", f"{f}={p}")], "-o", "table=-")
    assert code == 1, err
    needle = "host name 'PS-PAR-02' is used by 2 hosts"
    report = json.loads(out["json"].read_text())
    (d,) = [d for d in report["summary"]["diagnostics"] if d["code"] == "duplicate-host"]
    assert needle in d["message"] and d["level"] == "warning"
    sarif = json.loads(out["sarif"].read_text())
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(needle in n["message"]["text"] for n in notes)
    assert needle in out["markdown"].read_text()
    assert needle.replace("'", "&#x27;") in out["html"].read_text() or needle in out["html"].read_text()
    junit = out["junit"].read_text()
    ET.fromstring(junit)
    assert "PS-PAR-02" in junit and "used by 2 hosts" in junit
    assert needle in table


def _baseline(cli, tmp_path: Path) -> Path:
    base = tmp_path / "baseline.json"
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--audit-date", DATE, "-o", f"json={base}")
    assert code == 1, err
    return base


@pytest.mark.parametrize("first", [False, True], ids=["twin-after", "twin-before"])
def test_a_baseline_never_matches_across_two_hosts_of_one_name(cli, tmp_path: Path, first: bool) -> None:
    base = _baseline(cli, tmp_path)
    # The same fleet against its own baseline: nothing new, the gate passes.
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--audit-date", DATE, "--baseline", str(base), "-f", "json")
    assert code == 0, err
    # A second PS-PAR-02 with the same failure: its finding is not the baselined one.
    out = tmp_path / "r.json"
    code, _, err = cli("check", str(_with_twin(tmp_path, first)), "--target", "8.7.3", "--audit-date", DATE, "--baseline", str(base), "-o", f"json={out}")
    report = json.loads(out.read_text())
    assert code == 1 and report["summary"]["exit_code"] == 1, err
    assert report["summary"]["gating_findings"] >= 1
    assert any(d["code"] == "duplicate-host" for d in report["summary"]["diagnostics"])
    twins = [h for h in report["hosts"] if h["name"] == "PS-PAR-02"]
    assert len(twins) == 2
    later = twins[1]
    assert later["findings"] and all(f["baseline"] == "new" for f in later["findings"])


def test_a_baseline_with_two_hosts_of_one_name_matches_neither(cli, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    code, _, _ = cli("check", str(_with_twin(tmp_path)), "--target", "8.7.3", "--audit-date", DATE, "-o", f"json={base}")
    assert code == 1
    out = tmp_path / "r.json"
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--audit-date", DATE, "--baseline", str(base), "-o", f"json={out}")
    report = json.loads(out.read_text())
    assert code == 1, err
    (par,) = [h for h in report["hosts"] if h["name"] == "PS-PAR-02"]
    assert par["findings"] and all(f["baseline"] == "new" for f in par["findings"])
    others = [f for h in report["hosts"] if h["name"] != "PS-PAR-02" for f in h.get("findings", ())]
    assert others and all(f["baseline"] == "unchanged" for f in others)


def test_duplicates_are_found_across_worker_blocks(tmp_path: Path) -> None:
    import subprocess
    import sys

    host = _fleet()["hosts"][0]
    lines = []
    for i in range(3000):
        h = dict(host, name=f"H{i:05d}")
        lines.append(json.dumps(h))
    lines.append(json.dumps(dict(host, name="H00007")))
    facts = tmp_path / "fleet.jsonl"
    facts.write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "sitegate.cli.main", "audit", str(facts), "--target", "8.7.3", "--jobs", "2",
                           "--no-progress", "-o", f"json={out}"], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(out.read_text())
    (d,) = [d for d in report["summary"]["diagnostics"] if d["code"] == "duplicate-host"]
    assert "'H00007' is used by 2 hosts" in d["message"]


def _with_passing_twin(tmp_path: Path) -> Path:
    """The example fleet plus a compliant host (TS-LON-01's facts) also named PS-PAR-02:
    a SARIF log then lists the name's findings once, from one of the two hosts."""
    doc = _fleet()
    twin = copy.deepcopy(next(h for h in doc["hosts"] if h["name"] == "TS-LON-01"))
    twin["name"] = "PS-PAR-02"
    doc["hosts"].append(twin)
    p = tmp_path / "fleet-passing-twin.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


@pytest.mark.parametrize("fmt", ["json", "sarif", "sarif-full"])
@pytest.mark.parametrize("twin", ["failing", "passing"])
def test_a_baseline_of_any_format_with_two_hosts_of_one_name_matches_neither_and_says_so(cli, tmp_path: Path, fmt: str, twin: str) -> None:
    facts = _with_twin(tmp_path) if twin == "failing" else _with_passing_twin(tmp_path)
    base = tmp_path / f"baseline.{fmt}"
    profile = ["--sarif-profile", "full"] if fmt == "sarif-full" else []
    code, _, err = cli("check", str(facts), "--target", "8.7.3", "--audit-date", DATE, *profile, "-o", f"{fmt.split('-')[0]}={base}")
    assert code == 1, err
    out = tmp_path / "r.json"
    sarif_out = tmp_path / "r.sarif"
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--audit-date", DATE, "--baseline", str(base),
                       "-o", f"json={out}", "-o", f"sarif={sarif_out}")
    report = json.loads(out.read_text())
    assert code == 1 and report["summary"]["exit_code"] == 1, err
    (par,) = [h for h in report["hosts"] if h["name"] == "PS-PAR-02"]
    assert par["findings"] and all(f["baseline"] == "new" for f in par["findings"])
    others = [f for h in report["hosts"] if h["name"] != "PS-PAR-02" for f in h.get("findings", ())]
    assert others and all(f["baseline"] == "unchanged" for f in others)
    (warning,) = [d for d in report["summary"]["diagnostics"] if d["code"] == "baseline"]
    assert warning["level"] == "warning" and warning["source"] == str(base) and warning["host"] == "PS-PAR-02"
    assert "gives host name 'PS-PAR-02' to more than one host" in warning["message"] and "none of that name's findings is matched" in warning["message"]
    notes = json.loads(sarif_out.read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("gives host name 'PS-PAR-02' to more than one host" in n["message"]["text"] for n in notes)
    # The warning is the baseline's, not a duplicate in this run: a report made now, used as
    # the next baseline, does not carry the doubt on (its PS-PAR-02 finding matches).
    code, _, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--audit-date", DATE, "--baseline", str(sarif_out), "-o", f"json={out}")
    report = json.loads(out.read_text())
    assert code == 0, err
    assert not [d for d in report["summary"]["diagnostics"] if d["code"] in ("baseline", "duplicate-host")]
