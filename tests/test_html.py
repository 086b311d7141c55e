"""The HTML audit report: self-contained, escaped, opens in a browser."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .conftest import EXAMPLES, REPO, run_in_process, run_sitegate

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
        from sitegate.engine.evaluate import Options, evaluate
        from sitegate.engine.packs import load_policies
        from sitegate.engine.render import Format, render
        from sitegate.facts.load import iter_paths

        ps, _ = load_policies()
        report = evaluate(iter_paths([str(fleet)]), ps, Options(target="8.7.3", capacity=True))
        text = render(Format.HTML, report)
    finally:
        h.MAX_DETAIL_HOSTS, h.MAX_TABLE_ROWS = old
    assert text.count("<details id=") == 10
    assert "lists the 20 worst of 60 hosts" in text


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


# ------------------------------------------------------------------ the page in the order a person acts

SORT_CHECK = """<script>
(function(){
  var out={checked:0,errors:[]};
  function val(c){var v=c.dataset.v;if(v===undefined||v==='')return null;return Number(v)}
  document.querySelectorAll('table.sortable').forEach(function(t,ti){
    t.querySelectorAll('th.s').forEach(function(th,i){
      if(!th.classList.contains('n'))return;
      ['asc','desc'].forEach(function(dir){
        th.click();
        if(th.dataset.dir!==dir){out.errors.push('table '+ti+' column '+i+': direction '+th.dataset.dir+', expected '+dir);return}
        var vals=[];Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
          var c=r.cells[i];var v=val(c);
          var text=c.textContent.trim();
          if(/^[0-9][0-9,]*$/.test(text)&&v!==Number(text.replace(/,/g,'')))out.errors.push('table '+ti+': cell '+text+' has raw value '+c.dataset.v);
          if(v!==null)vals.push(v)});
        for(var k=1;k<vals.length;k++){if(dir==='asc'?vals[k-1]>vals[k]:vals[k-1]<vals[k]){
          out.errors.push('table '+ti+' column '+th.textContent+' '+dir+': '+vals[k-1]+' before '+vals[k]);break}}
        out.checked+=1;
      });
    });
  });
  var pre=document.createElement('pre');pre.id='sort-result';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);
})();
</script>"""


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return browser


def _browser_args(browser: str, tmp_path: Path) -> list[str]:
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]


@pytest.fixture(scope="module")
def fleet_2000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet2k") / "fleet.jsonl"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate_fleet.py"), "--hosts", "2000", "--seed", "3", "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    return out


def _html(tmp_path: Path, facts: Path) -> str:
    out = tmp_path / "r.html"
    proc = run_in_process("audit", str(facts), "--target", "8.7.3", "-f", "html", "-o", str(out), "--audit-date", "2026-11-25")
    assert proc.returncode in (1, 2), proc.stderr
    return out.read_text(encoding="utf-8")


def _table(text: str, table_id: str) -> list[list[str]]:
    body = text.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in body.split("</tr>") if "<td" in row]


def _raw(text: str, table_id: str) -> list[list[str]]:
    body = text.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r'<td[^>]*?data-v="([^"]*)"', row) for row in body.split("</tr>") if "<td" in row]


@pytest.mark.parametrize("which", ["example", "fleet-2000"])
def test_every_numeric_column_sorts_on_its_raw_value_in_chromium(which: str, tmp_path: Path, fleet_2000: Path) -> None:
    browser = _chromium()
    text = _html(tmp_path, EXAMPLES / "fleet.json" if which == "example" else fleet_2000)
    if which == "fleet-2000":
        assert re.search(r'data-v="\d{4,}"[^>]*>\d{1,3},\d{3}<', text), "a formatted number above 999 to sort"
    page = tmp_path / "sort.html"
    page.write_text(text.replace("</body>", SORT_CHECK + "</body>"), encoding="utf-8")
    dom = subprocess.run([*_browser_args(browser, tmp_path), "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="sort-result">(.*?)</pre>', dom.stdout, re.S)
    assert m, dom.stderr[-2000:]
    result = json.loads(html.unescape(m.group(1)))
    assert not result["errors"], result["errors"][:10]
    n_numeric = len(re.findall(r'<th class="s n">', text))
    assert result["checked"] == 2 * n_numeric and n_numeric >= 10, (result, n_numeric)


def test_fix_first_ranks_failing_rules_by_severity_then_hosts_gated(tmp_path: Path, fleet_2000: Path) -> None:
    text = _html(tmp_path, fleet_2000)
    rows = _raw(text, "fixfirst")
    assert len(rows) >= 5
    # data-v per row: rank, severity rank, hosts gated, fail, error
    keys = [(int(r[1]), -int(r[2])) for r in rows]
    assert keys == sorted(keys), keys
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    # the page answers "what first" before anything else: fix first, then facts to collect
    assert text.index("Fix first") < text.index("Collect these facts") < text.index("Hosts, worst first")


def test_hosts_worst_first_and_unknowns_apart_as_facts_to_collect(tmp_path: Path) -> None:
    text = _html(tmp_path, EXAMPLES / "fleet.json")
    hosts = _raw(text, "hosts")
    # data-v per row: status rank, gating, fail, unknown
    keys = [tuple(int(v) for v in r) for r in hosts]
    assert keys == sorted(keys, reverse=True), keys
    assert keys[0][0] >= 1 and keys[-1][0] == 0
    collect = _table(text, "collect")
    facts = {re.sub(r"<[^>]+>", "", r[0]) for r in collect}
    assert {"dotnet.release", "load.endpoints"} <= facts, facts
    how = {re.sub(r"<[^>]+>", "", r[0]): r[-1] for r in collect}
    assert "sitegate collect" in how["dotnet.release"] and "cmdb-export.sql" in how["load.endpoints"]
    # unknown-only rules are not in the failures table
    for r in _raw(text, "fixfirst"):  # a rule that is only unknown is not a failure to fix
        assert int(r[3]) + int(r[4]) > 0, r


def test_capacity_is_compact_on_a_2000_host_fleet(tmp_path: Path, fleet_2000: Path) -> None:
    text = _html(tmp_path, fleet_2000)
    cap = text.split("<h2>Capacity by site", 1)[1].split("<h2>", 1)[0]
    visible = re.sub(r"<details>.*?</details>", "", cap, flags=re.S)
    assert visible.count("<li>") <= 20 and "<table" not in visible, "only the overloaded groups, one line each, stay unfolded"
    assert cap.count("<details>") == 2
    assert len(re.sub(r"<[^>]+>", "", visible)) < 6000

