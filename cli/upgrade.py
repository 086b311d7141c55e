"""The upgrade commands: ``sitegate plan``, ``sitegate remediate`` and ``sitegate policies test``.

Thin: each parses its options, calls the engine and writes what it returns.
Registered on the main app by :func:`register`.
"""
# No `from __future__ import annotations` here: typer reads every command's annotations
# at each start, and string annotations cost an eval each (about half of building the CLI).


import os
from typing import Any, Iterable, List, Optional

import typer

from ..base.diagnostics import Diagnostic
from .options import AUDIT_DATE_OPT, DATA_OPT, FACTS_ARG, INPUT_FORMAT_OPT, MAPPING_OPT, POLICY_DIR_OPT


def _echo_diagnostics(diags: list[Diagnostic]) -> None:
    from ..engine.render.text import safe_text

    for d in diags:
        typer.echo(safe_text(d.format()), err=True)


def policies_test(
    directories: List[str] = typer.Argument(..., help="Policy directories with your packs; each one's tests/ folder holds its case files."),
    cases: List[str] = typer.Option([], "--cases", help="Case folder(s) in the layout <pack id>/<pack version>/<case>.yaml (default: DIR/tests)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", show_default=False, help="text or junit (default: junit for an --output ending in .xml, else text)."),
    output: str = typer.Option("-", "--output", "-o", help="File to write the results to ('-' is stdout)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List passing tests too."),
) -> None:
    """Run your packs' tests: every rule's examples and every case file.

    \b
    Exit codes:
      0  every example and case passed
      1  a case or example failed (each is printed: expected against actual outcome, with the evidence)
      2  bad input or usage: a malformed pack or case file, a --cases folder that does not exist, a bad --format
    """
    from ..engine.policytest import render_junit, render_text, run_policy_tests

    if output != "-":  # results.xml is JUnit, as for check
        from .output import OutputError, choose_format

        try:
            fmt = choose_format(output, fmt, "text", ("text", "junit"))
        except OutputError as exc:
            typer.echo(f"sitegate: {exc}", err=True)
            raise typer.Exit(2) from None
    fmt = fmt or "text"
    if fmt not in ("text", "junit"):
        typer.echo(f"sitegate: --format must be text or junit, not {fmt!r}", err=True)
        raise typer.Exit(2)
    for c in cases:
        if not os.path.isdir(c):
            typer.echo(f"sitegate: --cases {c}: not a directory", err=True)
            raise typer.Exit(2)
    run = run_policy_tests(list(directories), list(cases) or None)
    _echo_diagnostics(run.warnings)
    text = render_junit(run) if fmt == "junit" else render_text(run, verbose=verbose)
    if output == "-":
        typer.echo(text, nl=False)
    else:
        from .output import OutputError, write_atomic

        try:
            write_atomic(output, text.encode("utf-8"))
        except OutputError as exc:
            typer.echo(f"sitegate: {exc}", err=True)
            raise typer.Exit(2) from None
        if fmt == "junit":
            typer.echo(render_text(run).splitlines()[-1], err=True)
    if fmt == "junit" and run.malformed:
        _echo_diagnostics(run.malformed)
    raise typer.Exit(run.exit_code)


PLAN_FORMATS = ("table", "json", "markdown", "html")


class _Setup:
    """What plan and remediate load before any host is read: policies, overlays, waivers, options.

    The same loaders and checks as ``check`` (engine.run), so the three commands
    refuse the same inputs with the same messages.
    """

    def __init__(self, versions: list[tuple[str, str | None]], policy_dir: list[str], data: list[str], waivers: str | None,
                 input_format: str | None, mapping: str | None, fail_on: str, allow_unknown: bool, audit_date: str | None):
        from ..base.diagnostics import Code, InputError
        from ..engine.options import Options
        from ..engine.model import FailOn
        from ..engine.run import covered_versions
        from ..engine.run import _load_waivers
        from ..engine.run import load_for_run as _load_for_run
        from ..engine.run import usage_errors as _usage_errors

        self.errors: list[Diagnostic] = []
        for option, version in versions:
            for d in _usage_errors(version, None, None):
                self.errors.append(Diagnostic(option, d.message, code=Code.USAGE))
        self.errors += [d for d in _usage_errors(None, audit_date, input_format)]
        if fail_on not in ("error", "warning", "note", "never"):
            self.errors.append(Diagnostic("--fail-on", f"{fail_on!r}: use error, warning, note or never", code=Code.USAGE))
        self.policies, self.warnings, policy_errors = _load_for_run(list(policy_dir), list(data))
        self.errors += policy_errors
        if not policy_errors:
            covered = ", ".join(covered_versions(self.policies))
            for option, version in versions:
                if version is not None and not any(d.source == option for d in self.errors) and not self.policies.select(version):
                    self.errors.append(Diagnostic(option, f"no policy pack applies to ITMS {version}; the packs cover ITMS {covered}", code=Code.USAGE))
        waiver_set = None
        if waivers and not any(d.source == "--audit-date" for d in self.errors):
            try:
                waiver_set = _load_waivers(waivers, audit_date)
            except InputError as exc:
                self.errors += exc.diagnostics
        extra = [("data", f"{o.path}@sha256:{o.digest}") for o in getattr(self.policies, "overlays", [])]
        if waiver_set is not None:
            extra.append(("waivers", f"{waivers}@sha256:{waiver_set.digest}"))
        self.input_format, self.mapping = input_format, mapping
        self.options = Options(
            fail_on=FailOn(fail_on) if fail_on in ("error", "warning", "note", "never") else FailOn.ERROR,
            allow_unknown=allow_unknown, locate=True, audit_date=audit_date, waivers=waiver_set,
            extra_inputs=tuple(extra), preload_diagnostics=tuple(self.warnings),
        )

    def items(self, facts: list[str]) -> Iterable[Any]:
        """The facts, read afresh (plan reads them once per version)."""
        from ..engine.run import read_inputs

        return read_inputs(list(facts), self.input_format, self.mapping, True)

    def fail(self) -> None:
        """Print the setup errors and exit 2 (nothing was read or written)."""
        _echo_diagnostics(self.errors)
        typer.echo("sitegate: nothing was evaluated", err=True)
        raise typer.Exit(2)


def _plan_outputs(given: str | None, outputs: list[str]) -> list[tuple[str, str]]:
    """(format, path) pairs from --format (None: not given) and --output [FORMAT=]FILE, a
    file's extension naming its format as for check; a usage error exits 2."""
    from .output import OutputError, choose_format

    fmt = given or "table"
    if fmt not in PLAN_FORMATS:
        typer.echo(f"sitegate: plan formats are {', '.join(PLAN_FORMATS)}, not {fmt!r}", err=True)
        raise typer.Exit(2)
    if not outputs:
        return [(fmt, "-")]
    specs = []
    for o in outputs:
        name, sep, path = o.partition("=")
        if sep and name.lower() in PLAN_FORMATS:
            specs.append((name.lower(), path or "-"))
        elif sep and name.isidentifier() and len(name) <= 20:
            typer.echo(f"sitegate: --output {o}: unknown format {name!r} (plan formats: {', '.join(PLAN_FORMATS)})", err=True)
            raise typer.Exit(2)
        else:
            try:
                specs.append((choose_format(o, given, fmt, PLAN_FORMATS), o))
            except OutputError as exc:
                typer.echo(f"sitegate: {exc}", err=True)
                raise typer.Exit(2) from None
    return specs


def _log_start(facts: list[str], input_format: str | None, outputs: list[tuple[str, str]]) -> float:
    """-v: the inputs and outputs, as check logs them; returns the start time."""
    import time

    from .logging import log_inputs_and_outputs

    log_inputs_and_outputs(facts, input_format, outputs)
    return time.perf_counter()


def _log_packs(policies: Any, versions: list[tuple[str, str | None]], started: float) -> None:
    """-v: the packs each version selects (-vv: every pack loaded), with the set-up time."""
    import time

    from .logging import chain_label, get_logger, verbosity

    level = verbosity()
    if not level:
        return
    log = get_logger()
    for option, version in versions:
        if version is None:
            log.info("packs selected", option=option, packs=["by each host's platform.itms_version"])
            continue
        chosen = [chain_label(e) for e in policies.select(version)]
        log.info("packs selected", option=option, version=version, packs=chosen, seconds=round(time.perf_counter() - started, 3))
    if level > 1:
        for p in policies.effective.values():
            log.debug("pack", id=p.id, version=p.version, chain=list(p.chain))


def _log_plan(result: Any) -> None:
    """-v: the packs the plan read at --to; -vv: each host's state and changes."""
    from .logging import get_logger, verbosity

    level = verbosity()
    if not level or result.setup_errors:
        return
    log = get_logger()
    log.info("packs selected", option="--to", version=result.to_version, packs=list(result.packs_to),
             compared_from=result.from_text)
    if level > 1:
        for h in result.hosts:
            log.debug("host", name=h.name, at=f"{h.source}:{h.line}", state=h.state, rejected=h.rejected,
                      changes=[f"{c.rule_id}:{c.change}" for c in h.changes])


def _log_done(started: float, **fields: Any) -> None:
    """-v: the closing line, with the whole run's time."""
    import time

    from .logging import get_logger

    get_logger().info("done", seconds=round(time.perf_counter() - started, 3), **fields)




def plan_cmd(
    facts: List[str] = FACTS_ARG,
    to: str = typer.Option(..., "--to", help="ITMS version to upgrade to (e.g. 8.7.3)."),
    frm: Optional[str] = typer.Option(None, "--from", help="ITMS version the hosts run now (default: each host's platform.itms_version)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", show_default=False, help="table, json, markdown or html (default: by --output's extension, else table)."),
    output: List[str] = typer.Option([], "--output", "-o", help="Output file, or FORMAT=FILE; repeatable ('-' is stdout)."),
    policy_dir: List[str] = POLICY_DIR_OPT,
    data: List[str] = DATA_OPT,
    waivers: Optional[str] = typer.Option(None, "--waivers", help="Waivers YAML."),
    input_format: Optional[str] = INPUT_FORMAT_OPT,
    mapping: Optional[str] = MAPPING_OPT,
    fail_on: str = typer.Option("error", "--fail-on", help="Lowest severity that blocks: error, warning, note or never."),
    allow_unknown: bool = typer.Option(False, "--allow-unknown", help="A host that CANNOT TELL does not fail the plan."),
    audit_date: Optional[str] = AUDIT_DATE_OPT,
) -> None:
    """Plan an upgrade: what blocks each host at --to, what newly fails since --from, and what to do first.

    \b
    Exit codes (the same in every output format, and recorded in each):
      0  every host is READY or READY WITH WARNINGS
      1  a host is BLOCKED, or CANNOT TELL (a fact a gating rule needs is missing; --allow-unknown lets it pass)
      2  bad input or usage: malformed facts, policies, overlays or waivers, a rejected record, no host read,
         a --to or --from no pack covers, a bad option; nothing is written when the run cannot start
    """
    from ..engine.model import FailOn
    from ..engine.plan import plan_upgrade
    from ..engine.render import Format
    from ..engine.render.plan import RENDERERS
    from ..engine.run import RunOptions
    from .output import OutputError, OutputSpec, check_not_inputs, write_atomic

    specs = _plan_outputs(fmt, list(output))
    try:
        check_not_inputs([OutputSpec(Format.JSON, p) for _, p in specs], [*facts, *policy_dir, *data, *([waivers] if waivers else []), *([mapping] if mapping else [])])
    except OutputError as exc:
        typer.echo(f"sitegate: {exc}", err=True)
        raise typer.Exit(2) from None
    if fail_on not in ("error", "warning", "note", "never"):
        typer.echo(f"sitegate: --fail-on: {fail_on!r}: use error, warning, note or never", err=True)
        raise typer.Exit(2)
    options = RunOptions(policy_dirs=tuple(policy_dir), data=tuple(data), waivers=waivers, fail_on=FailOn(fail_on),
                         allow_unknown=allow_unknown, input_format=input_format, mapping=mapping, audit_date=audit_date)
    started = _log_start(list(facts), input_format, specs)
    result = plan_upgrade(list(facts), to, frm, options)
    _log_plan(result)
    if result.setup_errors:
        _echo_diagnostics(list(result.setup_errors))
        typer.echo("sitegate: nothing was evaluated", err=True)
        raise typer.Exit(2)
    try:
        for f, path in specs:
            text = RENDERERS[f](result)
            if path == "-":
                typer.echo(text, nl=False)
            else:
                write_atomic(path, text.encode("utf-8"))
    except OutputError as exc:
        typer.echo(f"sitegate: {exc}", err=True)
        raise typer.Exit(2) from None
    if not any(f == "table" and p == "-" for f, p in specs):
        if result.exit_code == 2:
            for d in result.diagnostics:
                typer.echo(d, err=True)
        # No table on stdout: the verdict and counts on stderr, as check and audit do.
        read = len(result.hosts)
        typer.echo(f"sitegate: {read} host(s) read, {read - result.hosts_rejected} evaluated, {result.hosts_rejected} rejected;"
                   f" {result.verdict} (exit code {result.exit_code})", err=True)
    _log_done(started, hosts=len(result.hosts), rejected=result.hosts_rejected, exit_code=result.exit_code)
    raise typer.Exit(result.exit_code)


def remediate_cmd(
    facts: List[str] = FACTS_ARG,
    target: str = typer.Option(..., "--target", "-t", help="ITMS version the scripts prepare for (e.g. 8.7.3)."),
    out_dir: str = typer.Option(..., "--output", "-o", help="Directory for the scripts (created if missing; never inside an input folder)."),
    fmt: str = typer.Option("powershell", "--format", "-f", help="Script language: powershell."),
    policy_dir: List[str] = POLICY_DIR_OPT,
    data: List[str] = DATA_OPT,
    waivers: Optional[str] = typer.Option(None, "--waivers", help="Waivers YAML (waived findings get no fix)."),
    input_format: Optional[str] = INPUT_FORMAT_OPT,
    mapping: Optional[str] = MAPPING_OPT,
    fail_on: str = typer.Option("error", "--fail-on", help="Lowest severity that gates: error, warning, note or never."),
    audit_date: Optional[str] = AUDIT_DATE_OPT,
) -> None:
    """Write one PowerShell script per host with a scriptable fix, and list hosts with manual steps only.

    \b
    Exit codes:
      0  the scripts fix every finding that gates (or nothing gates)
      1  a gating finding is left that no script fixes: a manual step, or a fact to collect
      2  bad input or usage: malformed facts, policies, overlays or waivers, a rejected record (the other
         hosts' scripts are still written), no host read (nothing is written), a --target no pack covers,
         -o DIR that is a file, unwritable or inside an input folder, a --format other than powershell
    """
    from ..engine.remediate import RemediateDirError, check_output_dir, remediate, write_scripts

    if fmt != "powershell":
        typer.echo(f"sitegate: --format {fmt!r}: only powershell scripts are written", err=True)
        raise typer.Exit(2)
    try:
        check_output_dir(out_dir, [*facts, *policy_dir, *data, *([waivers] if waivers else []), *([mapping] if mapping else [])])
    except RemediateDirError as exc:
        typer.echo(f"sitegate: --output {exc}", err=True)
        raise typer.Exit(2) from None
    started = _log_start(list(facts), input_format, [("powershell", out_dir)])
    setup = _Setup([("--target", target)], policy_dir, data, waivers, input_format, mapping, fail_on, False, audit_date)
    if setup.errors:
        setup.fail()
    _log_packs(setup.policies, [("--target", target)], started)
    result = remediate(setup.items(list(facts)), setup.policies, setup.options, target=target)
    for d in result.diagnostics:
        typer.echo(d, err=True)
    if result.exit_code == 2 and not result.hosts_evaluated:
        typer.echo("sitegate: no host was evaluated: nothing was written", err=True)
        raise typer.Exit(2)
    try:
        if result.files:
            write_scripts(out_dir, result.files)
    except RemediateDirError as exc:
        typer.echo(f"sitegate: --output {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"sitegate: --output {out_dir}: {exc.strerror or exc}; nothing was written", err=True)
        raise typer.Exit(2) from None
    typer.echo(result.summary_text(out_dir), nl=False)
    _log_done(started, hosts=result.hosts_evaluated, scripts=len(result.files), exit_code=result.exit_code)
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer, policies_app: typer.Typer) -> None:
    """Add the upgrade commands to the CLI."""
    policies_app.command("test")(policies_test)
    app.command("plan")(plan_cmd)
    app.command("remediate")(remediate_cmd)
