"""The result model owns outcome codes, MISSING, evidence, value display and the
fingerprint; messages have one formatter; hosts are counted one way; facts give
a public check_host; renderers load the model only."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from sitegate.engine.evaluate import HostEvaluator, evaluate
from sitegate.engine.messages import STANDARD_PLACEHOLDERS, MessageTemplate
from sitegate.engine.model import FAIL, MISSING, UNKNOWN, Evidence, fingerprint, show
from sitegate.engine.options import EvalSettings, Options
from sitegate.engine.render import Format, RenderOptions, render
from sitegate.engine.summary import Tally, Totals
from sitegate.facts.load import HostRecord, Rejected, check_host, iter_file

REPO = Path(__file__).resolve().parents[1]
FLEET = REPO / "examples" / "fleet.json"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def test_fingerprint_is_sha256_of_rule_host_setting() -> None:
    assert fingerprint("ITMS-NET-48", "hé-01", "dotnet.release") == hashlib.sha256("ITMS-NET-48|hé-01|dotnet.release".encode()).hexdigest()


def test_a_host_name_with_a_lone_surrogate_goes_through_the_library(policies) -> None:
    # A lone surrogate is a valid JSON escape; the baseline, SARIF and the model
    # must all take it (it used to raise UnicodeEncodeError in Finding.fingerprint).
    host = json.loads(FLEET.read_text(encoding="utf-8"))["hosts"][2]  # WKS-LYON-07: three findings at 8.7.3
    name = "WKS-\ud800-07"
    host["name"] = name
    first = evaluate([dict(host)], policies, Options(target="8.7.3", audit_date="2026-11-25")).hosts[0]
    assert len(first.findings) == 3
    known = first.findings[0]
    baseline = frozenset({_sha(f"{known.rule_id}|{name}|{known.setting}")})
    report = evaluate([host], policies, Options(target="8.7.3", audit_date="2026-11-25", baseline=baseline))
    marks = [f.baseline for f in report.hosts[0].findings]
    assert marks == ["unchanged", "new", "new"]
    sarif = json.loads(render(Format.SARIF, report, RenderOptions()))
    fps = [r["fingerprints"]["sitegateFinding/v1"] for r in sarif["runs"][0]["results"] if "fingerprints" in r]
    assert _sha(f"{known.rule_id}|{name}|{known.setting}") in fps


def test_show_spells_values_as_reports_do() -> None:
    assert show(MISSING) == "missing" and show(None) == "missing"
    assert show(True) == "true" and show(False) == "false"
    assert show([]) == "none"
    assert show(["a", 1]) == "a, 1"
    assert show(list(range(25))) == ", ".join(str(i) for i in range(20)) + ", ..."
    assert show(4.8) == "4.8"


def test_one_formatter_writes_every_standard_placeholder() -> None:
    ev = [Evidence("dotnet.release", "/dotnet/release", 461808, ">= 528040", ">=", "fail", "too old", ".NET release")]
    facts = {"identity": {"site": "LON"}}
    tpl = MessageTemplate("R-1", "Title", "{host}|{observed}|{expected}|{detail}|{target}|{rule}|{fact}|{label}|{identity.site}|{nope.x}")
    assert set(STANDARD_PLACEHOLDERS) == {"host", "observed", "expected", "detail", "target", "rule", "fact", "label"}
    # A fact the host lacks is a phrase, never the value "missing" (issue 15, item 5).
    assert tpl.format("H", FAIL, ev, facts, "8.7.3") == "H|461808|>= 528040|too old|8.7.3|R-1|dotnet.release|.NET release|LON|an unknown x (nope.x not recorded)"
    # {fact} and {label} name a derived fact by the fact the user supplies.
    derived_ev = [Evidence("derived.installed_services", "/site_services/installed", ["task"], "", "contains_none", "fail", "", "")]
    assert MessageTemplate("R-3", "T", "{fact}|{label}").format("H", FAIL, derived_ev, {}, "8.7.3") == "site_services.installed|site_services.installed"
    assert tpl.host_slots(FAIL) == 1
    assert tpl.format("H", UNKNOWN, ev, facts, "8.7.3") == "H: cannot check 'Title': too old (unknown is not a pass)"
    assert tpl.host_slots(UNKNOWN) == 1
    no_host = MessageTemplate("R-2", "T", "literal {{braces}} only")
    assert no_host.host_slots(FAIL) == 0


def test_the_pack_checker_takes_the_formatter_placeholder_names(tmp_path: Path) -> None:
    from sitegate.engine.packs import load_policies

    from .test_policy_input import HEADER, RULE, errors_of, write

    every = " ".join("{%s}" % n for n in ("host", "observed", "expected", "detail", "target", "rule", "fact", "label"))
    d = write(tmp_path, HEADER + "rules:\n" + RULE.replace("{host}: {observed}", every + " {agent.managed}"))
    ps, warnings = load_policies([str(d)])
    assert "custom" in ps.effective and not warnings
    d = write(tmp_path, HEADER + "rules:\n" + RULE.replace("{host}: {observed}", "{host}: {bogus_name}"))
    (e,) = errors_of(d)
    assert "unknown placeholder {bogus_name}" in e.message
    assert "['detail', 'expected', 'fact', 'host', 'label', 'observed', 'rule', 'target']" in e.message


def test_a_host_is_counted_the_same_from_its_result_and_from_its_tally(policies) -> None:
    ev = HostEvaluator(policies, EvalSettings.from_options(Options(target="8.7.3", audit_date="2026-11-25", locate=True)))
    items = [ev.evaluate(i) for i in iter_file(str(FLEET), "fleet.json", locate=True)]
    assert len(items) == 4
    direct, tallied = Totals(), Totals()
    for e in items:
        direct.add(e)
        tallied.add(Tally.of(e))
    fields = ("outcome_totals", "failing_by_sev", "by_rule", "hosts_read", "hosts_evaluated", "hosts_rejected", "hosts_compliant", "gating_total", "diag_total")
    assert {k: getattr(direct, k) for k in fields} == {k: getattr(tallied, k) for k in fields}
    assert direct.hosts_evaluated == 4 and direct.gating_total > 0


def test_check_host_validates_one_record_as_a_file_does() -> None:
    good = json.loads(FLEET.read_text(encoding="utf-8"))["hosts"][0]
    rec = check_host(dict(good), "inventory", 3)
    assert isinstance(rec, HostRecord) and rec.name == good["name"] and rec.index == 3 and "derived" in rec.facts
    bad = dict(good)
    bad["hardware"] = "lots"
    rej = check_host(bad, "inventory", 5, pointer="/5")
    assert isinstance(rej, Rejected) and rej.index == 5
    assert rej.diagnostics and all(d.pointer.startswith("/5") for d in rej.diagnostics)
    assert isinstance(check_host(["not", "a", "host"]), Rejected)


def test_renderers_load_the_model_not_the_evaluator() -> None:
    code = (
        "import sys\n"
        "from sitegate.engine.render import RENDERERS\n"
        "[RENDERERS[f] for f in RENDERERS]\n"  # each renderer's module loads when its format is looked up
        "print(sorted(m for m in sys.modules if m.startswith('sitegate.engine')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(eval(out))  # a list literal printed just above
    assert "sitegate.engine.render.sarif" in loaded and "sitegate.engine.model" in loaded
    forbidden = {"sitegate.engine." + m for m in ("evaluate", "rules", "compiler", "explain", "examples", "packs", "policy", "messages")}
    assert not loaded & forbidden, sorted(loaded & forbidden)


def test_every_format_renders_a_lone_surrogate_escaped_through_the_library(policies) -> None:
    """A lone surrogate (a valid JSON escape in a host name, a site) used to stop the JSON
    report (orjson refuses it) and left table, Markdown and HTML text that no UTF-8 file can
    hold. Every format now shows it as its escape, the one same way: ``\\ud800``."""
    import xml.etree.ElementTree as ET

    import orjson

    host = json.loads(FLEET.read_text(encoding="utf-8"))["hosts"][2]  # WKS-LYON-07: three findings at 8.7.3
    host["name"] = "WKS-\ud800-07"
    host["identity"]["site"] = "Ly\udcffon"
    report = evaluate([host], policies, Options(target="8.7.3", audit_date="2026-11-25"))
    assert report.hosts[0].name == "WKS-\ud800-07"  # the model keeps the name as it was given
    shown = "WKS-\\ud800-07"  # the text each format shows: a backslash, u, four hex digits
    for fmt in Format:
        text = render(fmt, report, RenderOptions())
        data = text.encode("utf-8")  # strict: a lone surrogate left anywhere would raise here
        assert "\ud800" not in text and "\udcff" not in text, fmt
        match fmt:
            case Format.JSON:
                doc = orjson.loads(data)
                (h,) = doc["hosts"]
                assert h["name"] == shown and h["site"] == "Ly\\udcffon"
                # The fingerprint is the model's, of the name as given (baselines match it): v2
                # writes it here only because the escaped name could not give it back.
                f0 = h["findings"][0]
                assert f0["fingerprint"] == _sha(f"{f0['rule_id']}|WKS-\ud800-07|{f0['evidence'][0]['fact']}")
                assert f0["fingerprint"] == report.hosts[0].findings[0].fingerprint("WKS-\ud800-07")
            case Format.SARIF:
                results = orjson.loads(data)["runs"][0]["results"]
                assert results and all(r["properties"]["host"] == shown for r in results)
            case Format.JUNIT:
                names = {s.get("name") for s in ET.fromstring(data).iter("testsuite")}
                assert shown in names
            case Format.MARKDOWN:
                assert shown.replace("\\", "\\\\") in text  # Markdown doubles the backslash so it shows
            case Format.TABLE | Format.HTML:
                assert shown in text
