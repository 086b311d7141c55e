"""JUnit XML for Jenkins, GitLab and Azure DevOps test reports, streamed.

The layout is the "strict profile" of reference/output-formats.md section 5.3
(valid against the Jenkins xUnit ``junit-10.xsd`` and inside what Jenkins, GitLab
and Azure actually read) with one addition: a non-gating finding's passing case
carries a ``<system-out>``, which junit-10.xsd allows and the Ant XSD that Azure
DevOps cites (advisory in check-junit) does not. Everything else is valid
against the Ant XSD too.

- ``<testsuites>`` has no attributes (no totals to buffer; consumers recompute
  them anyway). One ``<testsuite>`` per host: ``name`` and ``hostname`` = host,
  ``package`` = site, ``id`` = ordinal, ``timestamp`` = run start (UTC, no
  zone), counts computed from its test cases, ``time`` as ``%.3f``;
  ``<properties>`` carry OS, roles, target, policy packs and the facts file;
  then the test cases, then ``<system-out>`` / ``<system-err>``.
- One ``<testcase>`` per evaluated rule: ``name`` = ``"<RULE-ID> <title>"``,
  ``classname`` = ``"<host with . replaced by _>.<rule family>"`` (Jenkins
  splits at the last dot: package = host, class = family).
- Outcomes follow the gate, so Jenkins, GitLab and Azure agree with the exit
  code: pass = empty case; a gating fail = ``<failure type=severity
  message="observed (expected ...)">`` with file:line, observed, expected and
  remediation; a gating unknown = ``<error type="Unknown">`` with the missing
  fact and how to collect it, a gating evaluation error = ``<error
  type="EvaluationError">`` (fail closed); a finding that does not gate is a
  passing case carrying the finding in its own ``<system-out>`` (junit-10.xsd
  allows it, lines 85-98; GitLab shows only a case's system-out) and a
  ``finding.<RULE-ID>`` property of its suite (junit-10.xsd has properties in a
  testsuite only). The Ant XSD, stricter than every consumer, allows no
  system-out in a case: that one element is outside its profile. Not applicable, waived and
  baseline-unchanged findings = ``<skipped>`` with the reason. A
  rejected record is a suite with one ``"facts valid"`` case in error.
- A last suite ``sitegate`` always exists, so no consumer ever sees an empty
  report: its properties hold the exit code, verdict and totals; its case
  ``inventory loaded`` errors when input was bad or no host was evaluated, and
  one case per expired waiver fails.

Every attribute and text is escaped and stripped of characters XML 1.0 forbids.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..model import ERROR, FAIL, NOT_APPLICABLE, OUTCOME_NAMES, SEVERITY_RANK, UNKNOWN, FailOn, Finding, HostResult, ReportHeader, RuleInfo, Summary, show
from ..unknowns import collect_hint, user_fact
from ..verdict import NO_TARGET_NOTE, host_state
from . import Needs, RenderOptions
from .text import xml_safe

MAX_TEXT = 4000  # GitLab skips huge text nodes; evidence stays short
MAX_MESSAGE = 500


def attr(value: Any) -> str:
    """An attribute value: XML-invalid characters replaced, markup and whitespace escaped."""
    s = xml_safe("" if value is None else str(value))
    return (
        s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    )


def text(value: Any) -> str:
    """Element text: XML-invalid characters replaced, markup escaped."""
    s = xml_safe("" if value is None else str(value))
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def rule_family(rule_id: str, rule: RuleInfo | None = None) -> str:
    """The rule's family for the classname: ITMS-NET-48 -> net."""
    parts = [p for p in rule_id.split("-") if p]
    fam = parts[1] if len(parts) >= 3 else (rule.tags[0] if rule and rule.tags else "rules")
    return fam.lower().replace(".", "_") or "rules"


def _timestamp(iso: str) -> str:
    return iso[:19] if len(iso) >= 19 else "1970-01-01T00:00:00"


def _seconds(start: str, end: str) -> float:
    try:
        a = datetime.fromisoformat(start.replace("Z", "+00:00"))
        b = datetime.fromisoformat(end.replace("Z", "+00:00"))
        return max(0.0, (b - a).total_seconds())
    except ValueError:
        return 0.0


class _Case:
    __slots__ = ("name", "classname", "kind", "element")

    def __init__(self, name: str, classname: str, kind: str = "pass", element: str = ""):
        self.name = name
        self.classname = classname
        self.kind = kind  # pass, failure, error, skipped
        self.element = element

    def xml(self) -> str:
        head = f'    <testcase name="{attr(self.name)}" classname="{attr(self.classname)}" time="0.000"'
        if not self.element:
            return head + "/>\n"
        return head + ">\n      " + self.element + "\n    </testcase>\n"


def _outcome_element(tag: str, message: str, body: str = "", type_: str | None = None) -> str:
    t = f' type="{attr(type_)}"' if type_ is not None else ""
    m = f' message="{attr(_clip(message, MAX_MESSAGE))}"'
    if body:
        return f"<{tag}{t}{m}>{text(_clip(body, MAX_TEXT))}</{tag}>"
    return f"<{tag}{t}{m}/>"


class JunitRenderer:
    """Streams one JUnit XML document: a suite per host, a case per rule."""

    shows_input_errors = False

    @classmethod
    def needs(cls, options: RenderOptions) -> Needs:
        """Every outcome: a test case per (host, rule), passes included."""
        return Needs(full_outcomes=True)

    #: Bytes: GitLab's documented maximum for a JUnit report.
    gitlab_limit = 30 * 1000 * 1000

    @classmethod
    def size_warnings(cls, path: str, size: int) -> list[str]:
        """What a consumer does with a written report of ``size`` bytes that the user must hear."""
        if size > cls.gitlab_limit:
            # GitLab drops a JUnit report over 30 MB without a word; Jenkins and Azure DevOps take it.
            return [f"{path} is {size / 1e6:.0f} MB; GitLab ignores JUnit reports over 30 MB"
                    " (split the inventory, or publish SARIF or Markdown there)"]
        return []

    def __init__(self, options: RenderOptions):
        self.header: ReportHeader | None = None
        self.rules: dict[str, RuleInfo] = {}
        self.suite_id = 0
        self.names: dict[str, int] = {}
        self.timestamp = "1970-01-01T00:00:00"
        self.threshold = 2
        self.fail_on = "error"
        self.allow_unknown = False

    def start(self, header: ReportHeader) -> str:
        self.header = header
        self.rules = {r.id: r for r in header.rules}
        self.timestamp = _timestamp(header.started_at)
        self.threshold = FailOn(header.fail_on).threshold()
        self.fail_on = header.fail_on
        self.allow_unknown = header.allow_unknown
        return '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'

    # -- helpers --------------------------------------------------------------
    def _unique(self, name: str) -> str:
        """Suite names are unique (GitLab keeps only the first of duplicate cases)."""
        n = self.names.get(name, 0) + 1
        self.names[name] = n
        return name if n == 1 else f"{name} ({n})"

    def _suite(self, name: str, hostname: str, package: str, props: list[tuple[str, Any]], cases: list[_Case], out: str = "", err: str = "", time: float = 0.0) -> str:
        counts = {"failure": 0, "error": 0, "skipped": 0}
        for c in cases:
            if c.kind in counts:
                counts[c.kind] += 1
        sid = self.suite_id
        self.suite_id += 1
        lines = [
            f'  <testsuite name="{attr(name)}" package="{attr(package)}" id="{sid}" timestamp="{self.timestamp}" '
            f'hostname="{attr(hostname)}" tests="{len(cases)}" failures="{counts["failure"]}" errors="{counts["error"]}" '
            f'skipped="{counts["skipped"]}" time="{time:.3f}">\n',
            "    <properties>\n",
        ]
        for k, v in props:
            lines.append(f'      <property name="{attr(k)}" value="{attr("" if v is None else v)}"/>\n')
        lines.append("    </properties>\n")
        lines.extend(c.xml() for c in cases)
        lines.append(f"    <system-out>{text(_clip(out, MAX_TEXT))}</system-out>\n" if out else "    <system-out/>\n")
        lines.append(f"    <system-err>{text(_clip(err, MAX_TEXT))}</system-err>\n" if err else "    <system-err/>\n")
        lines.append("  </testsuite>\n")
        return "".join(lines)

    def _finding_case(self, r: HostResult, f: Finding, host_c: str) -> _Case:
        rule = self.rules.get(f.rule_id)
        title = rule.title if rule else f.rule_id
        case = _Case(f"{f.rule_id} {title}", f"{host_c}.{rule_family(f.rule_id, rule)}")
        ev = f.evidence[0] if f.evidence else None
        observed = _clip(show(ev.observed), 300) if ev else "missing"
        expected = _clip(ev.expected, 300) if ev else ""
        where = f"{f.location.source}:{f.location.line}" if f.location.line else f.location.source
        body_lines = [
            where,
            f"host: {r.name}",
            f"setting: {f.setting}" + (f" ({f.location.pointer})" if f.location.pointer else ""),
            f"observed: {observed}",
            f"expected: {expected}",
            f.message,
        ]
        if f.outcome.value == "unknown":
            # An unknown's fix is the missing fact, never the failure's remediation.
            body_lines.append(f"to decide it: {collect_hint(f)}")
        elif rule is not None:
            body_lines.append(f"remediation: {rule.remediation}")
        if rule is not None:
            body_lines.append(f"source: {rule.source} (confidence {rule.confidence})")
        body = "\n".join(body_lines)
        if f.waived is not None:
            w = f.waived
            case.kind = "skipped"
            case.element = _outcome_element("skipped", f"waived: {w.reason} ({w.owner}, expires {w.expires}; waiver {w.waiver_id})")
        elif f.baseline == "unchanged" and not f.gating:
            case.kind = "skipped"
            case.element = _outcome_element("skipped", f"baseline: known finding, unchanged since the baseline: {observed} (expected {expected})")
        elif not f.gating:
            # A finding that does not gate passes, as the exit code says, and carries the
            # finding in its own system-out (junit-10.xsd allows system-out in a testcase;
            # GitLab shows only a case's) and a finding.<RULE> property of its suite
            # (junit-10.xsd allows properties only in a testsuite).
            case.kind = "pass"
            case.element = f"<system-out>{text(_clip(f'{f.outcome.value.upper()} ({f.severity}, does not gate: {self._why_not_gating(f)})' + chr(10) + body, MAX_TEXT))}</system-out>"
        elif f.outcome.value == "fail":
            case.kind = "failure"
            case.element = _outcome_element("failure", f"{observed} (expected {expected})", body, f.severity)
        elif f.outcome.value == "unknown":
            case.kind = "error"
            case.element = _outcome_element("error", f"cannot check: {user_fact(f.setting) if f.setting else 'a fact'} is not recorded (unknown is not a pass)", body, "Unknown")
        else:
            case.kind = "error"
            case.element = _outcome_element("error", f"could not be evaluated: {ev.detail if ev and ev.detail else 'evaluation failed'}", body, "EvaluationError")
        return case

    def _why_not_gating(self, f: Finding) -> str:
        if f.outcome.value == "unknown" and self.allow_unknown and SEVERITY_RANK.get(f.severity, 0) >= self.threshold:
            return "--allow-unknown"
        return f"below --fail-on {self.fail_on}"

    def _na_reason(self, rule: RuleInfo | None, r: HostResult) -> str:
        if rule is not None and rule.roles and r.roles is not None and not set(rule.roles) & set(r.roles):
            return f"not applicable: applies to {', '.join(rule.roles)}; host roles: {', '.join(r.roles) or 'none'}"
        return "not applicable: the rule's applicability condition does not hold for this host"

    # -- stream ---------------------------------------------------------------
    def host(self, result: HostResult) -> str:
        host_c = result.name.replace(".", "_")
        name = self._unique(result.name)
        if name != result.name:
            host_c = name.replace(".", "_")
        if result.rejected:
            diags = "\n".join(d.format() for d in result.diagnostics)
            first = result.diagnostics[0].message if result.diagnostics else "the record was rejected"
            case = _Case("facts valid", f"{host_c}.facts", "error", _outcome_element("error", first, diags, "InvalidFacts"))
            props: list[tuple[str, Any]] = [("facts.source", f"{result.source}:{result.line}" if result.line else result.source), ("facts.index", result.index)]
            return self._suite(name, result.name, "rejected", props, [case])
        cases: list[_Case] = []
        by_rule = {f.rule_id: f for f in result.findings}
        if result.outcomes:
            for rid, code in zip(result.rule_ids, result.outcomes):
                rule = self.rules.get(rid)
                title = rule.title if rule else rid
                cname = f"{host_c}.{rule_family(rid, rule)}"
                if code in (FAIL, UNKNOWN, ERROR) and rid in by_rule:
                    cases.append(self._finding_case(result, by_rule[rid], host_c))
                elif code == NOT_APPLICABLE:
                    cases.append(_Case(f"{rid} {title}", cname, "skipped", _outcome_element("skipped", self._na_reason(rule, result))))
                else:
                    cases.append(_Case(f"{rid} {title}", cname))
        else:
            # Library use without Options(full_outcomes=True): only findings are known.
            cases.extend(self._finding_case(result, f, host_c) for f in result.findings)
            passed, na = result.counts[0], result.counts[4]
            if passed or na or not cases:
                cases.append(_Case(f"other rules ({passed} passed, {na} not applicable)", f"{host_c}.rules"))
        roles = ", ".join(result.roles) if result.roles is not None else "unknown"
        props = [
            ("host.os", result.os or "unknown"),
            ("host.roles", roles or "none"),
            ("host.site", result.site or ""),
            ("host.notification_server", result.notification_server or ""),
            ("target", result.target or ""),
            ("policy.packs", ", ".join(result.packs)),
            ("facts.source", f"{result.source}:{result.line}" if result.line else result.source),
            ("host.state", host_state(result.findings, self.threshold)),
        ]
        props += [(f"finding.{f.rule_id}", f"{f.outcome.value} ({f.severity}, does not gate)")
                  for f in result.findings if not f.gating and f.waived is None and f.baseline != "unchanged"]
        counts = dict(zip(OUTCOME_NAMES, result.counts))
        out = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()) + f"; {result.gating} gating"
        return self._suite(name, result.name, result.site or "sitegate", props, cases, out=out)

    def finish(self, summary: Summary) -> str:
        h = self.header
        assert h is not None, "start() was not called"
        props: list[tuple[str, Any]] = [
            ("sitegate.version", h.tool_version),
            ("exit_code", summary.exit_code),
            ("verdict", summary.verdict),
            ("target", h.target or ""),
            ("fail_on", h.fail_on),
            ("allow_unknown", str(h.allow_unknown).lower()),
            ("category", h.category),
            ("policy.packs", ", ".join(f"{p.id}@{p.version}" for p in h.packs)),
            ("inputs", ", ".join(h.inputs)),
            ("hosts.read", summary.hosts_read),
            ("hosts.evaluated", summary.hosts_evaluated),
            ("hosts.rejected", summary.hosts_rejected),
        ]
        props += [(f"hosts.{state.lower().replace(' ', '_')}", n) for state, n in summary.states.items()]
        props += [(f"outcomes.{k}", v) for k, v in summary.outcomes.items()]
        props += [
            ("findings.gating", summary.gating_findings),
            ("findings.waived", summary.waived_findings),
            ("findings.fixed", len(summary.fixed)),
            ("input.errors", summary.input_errors),
            ("input.problems", summary.diagnostics_total),
        ]
        for kind, path in h.extra_inputs:
            props.append((f"input.{kind}", path))
        for i, o in enumerate(h.overlays, 1):
            props += [(f"overlay.{i}.path", o.path), (f"overlay.{i}.sha256", o.digest),
                      (f"overlay.{i}.tables", ", ".join(o.tables)), (f"overlay.{i}.rules", ", ".join(o.rules))]
        if h.target is None:
            props.append(("note", NO_TARGET_NOTE))
        cases: list[_Case] = []
        problems = [d.format() for d in summary.diagnostics if d.level.value == "error"]
        if summary.input_errors or summary.hosts_evaluated == 0 or summary.hosts_rejected:
            why = []
            if summary.hosts_rejected:
                why.append(f"{summary.hosts_rejected} record(s) rejected")
            if summary.input_errors:
                why.append(f"{summary.input_errors} input error(s)")
            if summary.hosts_evaluated == 0:
                why.append("no host was evaluated")
            body = "\n".join(problems[:50] + list(summary.notices))
            cases.append(_Case("inventory loaded", "sitegate.inventory", "error", _outcome_element("error", "; ".join(why), body, "InputError")))
        else:
            cases.append(_Case("inventory loaded", "sitegate.inventory"))
        for w in summary.waivers:
            if w.get("status") == "expired":
                wid = str(w.get("id"))
                cases.append(_Case(f"waiver {wid} is current", "sitegate.waivers", "failure", _outcome_element(
                    "failure", f"waiver {wid} expired on {w.get('expires')}: renew or remove it",
                    f"{w.get('source')}:{w.get('line')}\nrule {w.get('rule')}, hosts {w.get('hosts')}, owner {w.get('owner')}", "ExpiredWaiver")))
        out_lines = [f"verdict: {summary.verdict} (exit code {summary.exit_code})"]
        if h.target is None:
            out_lines.append(f"note: {NO_TARGET_NOTE}")
        out_lines += [d.format() for d in summary.diagnostics[:50]]
        for fx in summary.fixed[:50]:
            out_lines.append(f"fixed since the baseline: {fx.get('host')} {fx.get('rule_id')} ({fx.get('setting')})")
        if len(summary.fixed) > 50:
            out_lines.append(f"... and {len(summary.fixed) - 50} more fixed")
        self.timestamp = _timestamp(h.started_at)
        suite = self._suite("sitegate", "localhost", "sitegate", props, cases, out="\n".join(out_lines), time=_seconds(h.started_at, summary.finished_at))
        return suite + "</testsuites>\n"


RENDERER = JunitRenderer
