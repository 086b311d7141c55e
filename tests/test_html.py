"""The HTML audit report: self-contained, escaped, opens in a browser."""
from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .conftest import EXAMPLES, run_sitegate

EVIL = 'EVIL<script>alert(1)</script>]]>\x07\x1b[2J"\'&'


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.scripts = 0
        self.in_script = False
        self.script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "script":
            self.scripts += 1
            self.in_script = True
        for k, v in attrs:
            if k in ("src", "href", "action", "xlink:href") and v:
                self.urls.append((tag, k, v))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        (self.script_text if self.in_script else self.text).append(data)


def _fleet_with_evil_names(tmp_path: Path) -> Path:
    data = json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))
    data["hosts"][1]["name"] = EVIL
    data["hosts"][2]["identity"]["site"] = "<b>Lyon</b>]]>"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _render(tmp_path: Path, facts: Path, name: str = "report.html") -> str:
    out = tmp_path / name
    proc = run_sitegate("audit", str(facts), "--target", "8.7.3", "-f", "html", "-o", str(out), "--audit-date", "2026-11-25")
    assert proc.returncode in (1, 2), proc.stderr
    return out.read_text(encoding="utf-8")


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    text = _render(tmp_path, _fleet_with_evil_names(tmp_path))
    p = Collector()
    p.feed(text)
    p.close()
    external = [u for u in p.urls if not u[2].startswith("#")]
    assert not external, external
    assert "http://" not in "".join(a for _, _, a in p.urls) and "<link" not in text and "@import" not in text
    assert p.scripts == 1 and "alert(1)" not in "".join(p.script_text)  # host data never inside the script
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;]]&gt;" in text
    assert "\x07" not in text and "\x1b" not in text and "\\x07" in text
    assert "&lt;b&gt;Lyon&lt;/b&gt;" in text
    body = "".join(p.text)
    assert "NOT READY (exit code 1)" in body and "Capacity by site" in body and "Readiness by target version" in body
    assert "Remediation:" in body and "<svg" in text


def test_large_fleet_html_is_bounded_and_says_so(tmp_path: Path) -> None:
    from sitegate.engine.render import html as h

    lines = []
    base = json.loads((EXAMPLES / "fleet.json").read_text(encoding="utf-8"))["hosts"][2]
    for i in range(60):
        lines.append(json.dumps({**base, "name": f"H{i}"}))
    fleet = tmp_path / "f.jsonl"
    fleet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    old = (h.MAX_DETAIL_HOSTS, h.MAX_TABLE_ROWS)
    h.MAX_DETAIL_HOSTS, h.MAX_TABLE_ROWS = 10, 20
    try:
        from sitegate.engine.evaluate import evaluate
        from sitegate.engine.options import Options
        from sitegate.engine.packs import load_policies
        from sitegate.engine.render import Format, render
        from sitegate.facts.load import iter_paths

        ps, _ = load_policies()
        report = evaluate(iter_paths([str(fleet)]), ps, Options(target="8.7.3", capacity=True))
        text = render(Format.HTML, report)
    finally:
        h.MAX_DETAIL_HOSTS, h.MAX_TABLE_ROWS = old
    assert text.count("<details id=") == 10
    assert "lists the first 20 of 60 hosts" in text


def test_html_opens_in_headless_chromium(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium) - the parser checks above still ran")
    report = tmp_path / "report.html"
    report.write_text(_render(tmp_path, _fleet_with_evil_names(tmp_path), "r.html"), encoding="utf-8")
    png = tmp_path / "report.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    proc = subprocess.run([*common, f"--screenshot={png}", "--window-size=1400,2000", report.as_uri()], capture_output=True, text=True, timeout=120)
    assert png.exists() and png.stat().st_size > 10_000, proc.stderr[-2000:]
    # The DOM after scripts ran: the document parsed whole and the table script did not throw.
    dom = subprocess.run([*common, "--dump-dom", "--enable-logging=stderr", "--v=0", report.as_uri()], capture_output=True, text=True, timeout=120)
    assert "</main>" in dom.stdout and 'id="hosts"' in dom.stdout
    assert "Uncaught" not in dom.stderr, dom.stderr[-2000:]
