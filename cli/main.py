"""The sitegate command line: a thin typer layer over the library API.

Exit codes: 0 compliant, 1 findings at or above --fail-on, 2 bad input or
usage. No traceback ever reaches the user: input problems are printed as
``file:line:col: message``; an unexpected failure is logged and exits 2.
"""
# No `from __future__ import annotations` here: typer reads every command's annotations
# at each start, and string annotations cost an eval each (about half of building the CLI).


import errno
import io
import os
import sys
import time
from dataclasses import replace
from enum import Enum
from importlib import resources
from typing import Any, Iterable, List, NoReturn, Optional

import typer
from typer.core import TyperCommand

from ..engine import __version__
from ..base.diagnostics import Diagnostic, InputError, Level
from ..engine.model import FailOn
from ..engine.packs import PolicySet, load_policies
from ..engine.render import Format, RenderOptions, available_formats, console_text, renderer_class, size_warnings
from ..engine.run import RunOptions, load_for_run
from ..engine.run import run as start_run
from ..facts.formats import detect_format, format_list_text, format_names
from .logging import chain_label, configure, get_logger, log_inputs_and_outputs, verbosity
from .options import AUDIT_DATE_OPT, DATA_OPT, FACTS_ARG, INPUT_FORMAT_OPT, MAPPING_OPT, POLICY_DIR_OPT
from .output import (
    ColorChoice, OutputError, check_not_inputs, open_sinks, parse_outputs, publish, remove_stale, wants_color, write_all, write_atomic,
)

#: Placeholders of the options and arguments that do not name their own (``metavar``), by
#: (command, option) or option: one table, so every command writes FILE, DIR, VERSION alike
#: (the upgrade commands' options are defined in cli/upgrade.py).
_PLACEHOLDERS: dict[tuple[str, str] | str, str] = {
    ("remediate", "--output"): "DIR",
    ("import", "--from"): "FORMAT",
    "--output": "FILE",
    "--target": "VERSION",
    "--to": "VERSION",
    "--from": "VERSION",
    "--format": "FORMAT",
    "--input-format": "FORMAT",
    "--policy-dir": "DIR",
    "--data": "FILE",
    "--waivers": "FILE",
    "--baseline": "FILE",
    "--mapping": "FILE",
    "--report": "FILE",
    "--fail-on": "SEVERITY",
    "--audit-date": "DATE",
    "--category": "ID",
    "--package-store": "DIR",
    "--jobs": "N",
    "--cases": "DIR",
    # Arguments, by parameter name.
    "facts": "FILE",
    "inputs": "FILE",
    "directories": "DIR",
    "rule_id": "RULE",
    "pack_id": "PACK",
    "name": "NAME",
}


class _Command(TyperCommand):
    """A command whose help reads like ruff's or pytest's: ``check [OPTIONS] FILE...``,
    ``--policy-dir DIR``, never ``{facts}...`` or ``<list[str]>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.metavar is None:
                opt = param.opts[0] if param.param_type_name == "option" else param.name or ""
                long = next((o for o in param.opts if o.startswith("--")), opt)
                param.metavar = _PLACEHOLDERS.get((str(self.name), long)) or _PLACEHOLDERS.get(long) or _PLACEHOLDERS.get(opt)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] FILE...``: an argument by its placeholder, brackets only when optional."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Arguments listed by their placeholder alone (no ``<list[str]>`` type), then options."""
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                args.append((name + ("..." if param.nargs != 1 else ""), record[1]))
            else:
                opts.append(record)
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)

app = typer.Typer(
    name="sitegate",
    help="Policy-as-code readiness gate for Symantec/Broadcom ITMS site servers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    rich_markup_mode=None,
)
policies_app = typer.Typer(help="List, show and validate policy packs.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(policies_app, name="policies")


class LogFormat(str, Enum):
    """Log output format on stderr."""

    console = "console"
    json = "json"


class SchemaName(str, Enum):
    """Schemas `sitegate schema` can print."""

    facts = "facts"
    policy = "policy"
    report = "report"
    waivers = "waivers"
    data = "data"
    plan = "plan"


#: The current version of each schema `sitegate schema` prints (v1 where not listed).
_SCHEMA_VERSIONS: dict[SchemaName, str] = {SchemaName.report: "v2"}


def _version_callback(value: bool) -> None:
    if value:
        try:
            ps, _ = load_policies()
            packs = ", ".join(f"{p.pack.id} {p.pack.version}" for p in sorted(ps.loaded, key=lambda p: p.pack.id))
        except InputError:
            packs = "bundled packs failed to load (run: sitegate policies validate)"
        _say(f"sitegate {__version__}\npolicy packs: {packs}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Show the tool and bundled pack versions."),
    log_format: LogFormat = typer.Option(LogFormat.console, "--log-format", metavar="[console|json]", help="Log format on stderr: console or json."),
    verbose: int = typer.Option(
        0, "-v", "--verbose", count=True, show_default=False,
        help="Log to stderr what the run does: -v the files read, packs selected, outputs and timings; -vv also every host and policy file.",
    ),
) -> None:
    """sitegate: check ITMS site servers against versioned readiness policies."""
    configure(log_format.value, verbose)


def _say(text: object = "", *, err: bool = False, nl: bool = True) -> None:
    """Every line to the terminal goes through safe_text: a pack title, a file name or an
    overlay's text with an OSC sequence or a bidi control is shown, never obeyed."""
    from ..engine.render.text import safe_text

    typer.echo("\n".join(safe_text(line) for line in str(text).split("\n")), err=err, nl=nl)


def _print_diagnostics(diags: Iterable[Diagnostic]) -> None:
    from ..engine.render.text import safe_text

    for d in diags:
        _say(safe_text(d.format(with_code=True)), err=True)


def _load(policy_dirs: list[str], data: list[str] | None = None) -> tuple[PolicySet, list[Diagnostic]]:
    """Policies for the commands that need them loaded (list, show, explain): exit 2 otherwise."""
    policies, warnings, errors = load_for_run(policy_dirs, data or [])
    if errors:
        _print_diagnostics([*errors, *warnings])
        _say(f"sitegate: {len(errors)} policy error(s): nothing was evaluated", err=True)
        raise typer.Exit(2)
    return policies, warnings


def _gate(
    facts: list[str], outputs: list[str], fmt: Format | None, options: RunOptions, render: RenderOptions, *,
    progress: bool = False, color: ColorChoice = ColorChoice.auto,
) -> int:
    """`check` and `audit`: one library run with its outputs written; returns the exit code."""
    log = get_logger()
    started = time.perf_counter()
    try:
        specs = parse_outputs(outputs, fmt)
        check_not_inputs(specs, [*facts, *options.policy_dirs, *options.data, *([options.waivers] if options.waivers else []), *([options.baseline] if options.baseline else [])])
    except OutputError as exc:
        _say(f"sitegate: {exc}", err=True)
        return 2
    for s in specs:
        if s.fmt not in available_formats():
            _say(f"sitegate: format {s.fmt.value} is not available in this version", err=True)
            return 2
    colored = any(s.path == "-" for s in specs) and wants_color(color, sys.stdout)
    verbose = verbosity()
    log_inputs_and_outputs(facts, options.input_format, [(sp.fmt.value, sp.path) for sp in specs])
    gate = start_run(facts, replace(options, outputs=tuple((s.fmt, replace(render, color=colored)) for s in specs), tune_gc=True))
    loaded = time.perf_counter()
    if verbose:
        header = gate.header
        if header.target and not gate.setup_errors:
            chosen = [chain_label(e) for e in gate.policies.select(header.target)]
        else:
            chosen = ["by each host's platform.itms_version (-vv lists them per host)"]
        log.info("packs selected", target=header.target, packs=chosen, packs_loaded=len(header.packs),
                 rules=len(header.rules), seconds=round(loaded - started, 3))
        if verbose > 1:
            for p in header.packs:
                log.debug("pack", id=p.id, version=p.version, file=p.path, sha256=p.digest[:16], chain=list(p.chain))
    bar = None
    if progress:
        from .progress import Progress

        bar = Progress(total_bytes=_total_size(facts), meter=gate.meter)
    sinks: list = []
    try:
        sinks = open_sinks(specs, [None] * len(specs))  # type: ignore[list-item]  # no renderer: the error report is written whole
        done = 0
        source = None
        for item in gate:
            for sink, part in zip(sinks, item.parts):
                if type(part) is str:
                    sink.write(part)
                else:
                    sink.write_bytes(part)  # type: ignore[arg-type]
            if verbose and item.result is not None:
                result = item.result
                if result.source != source:
                    source = result.source
                    log.info("reading", file=source)
                if verbose > 1:
                    log.debug("host", name=result.name, at=f"{result.source}:{result.line}", rejected=result.rejected,
                              packs=list(result.packs), gating=result.gating, counts=list(result.counts))
            if bar is not None and item.hosts:
                done += item.hosts
                bar.update(done)
        if bar is not None:
            bar.close()
        evaluated = time.perf_counter()
        publish(sinks)  # every output complete before any is shown
    except OutputError as exc:
        for sink in sinks:
            sink.abort()
        # None of this run's reports, and no earlier run's at any requested path.
        remove_stale(sp.path for sp in specs)
        _say(f"sitegate: {exc}", err=True)
        return 2
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    summary = gate.summary
    for sp in specs:
        if sp.path != "-":
            for warning in size_warnings(sp.fmt, sp.path, os.path.getsize(sp.path)):
                _say(f"sitegate: warning: {warning}", err=True)
    if gate.setup_errors:
        # Errors of the invocation itself go to stderr whatever the outputs are.
        _print_diagnostics(gate.setup_errors)
        n = sum(1 for d in gate.policy_errors if d.level is Level.ERROR)
        _say(f"sitegate: {n} policy error(s): nothing was evaluated" if n else "sitegate: nothing was evaluated", err=True)
    elif not any(s.path == "-" and renderer_class(s.fmt).shows_input_errors for s in specs):
        # Input problems always reach the user, even when stdout carries JSON or SARIF.
        _print_diagnostics(d for d in summary.diagnostics if d.level is Level.ERROR)
    if not any(s.path == "-" and console_text(s.fmt) for s in specs):
        # Counted on stderr whatever the outputs: nothing rejected or skipped goes unsaid.
        _say(_summary_line(summary), err=True)
    finished = time.perf_counter()
    run_seconds = max(evaluated - loaded, 1e-9)
    log.info("done", hosts=summary.hosts_evaluated, rejected=summary.hosts_rejected, exit_code=summary.exit_code,
             setup_s=round(loaded - started, 3), evaluate_s=round(run_seconds, 3), write_s=round(finished - evaluated, 3),
             hosts_per_s=round(summary.hosts_read / run_seconds))
    return summary.exit_code


_IGNORED = {"unknown-field", "csv-column", "csv-row", "csv-value"}


def _summary_line(summary: Any) -> str:
    """One line: hosts read, evaluated, rejected; files or parts skipped, fields ignored."""
    kept = summary.diagnostics
    skipped = sum(1 for d in kept if d.code == "skipped")
    ignored = sum(1 for d in kept if d.code in _IGNORED)
    unread = sum(1 for d in kept if d.level is Level.ERROR and not d.host)
    more = summary.diagnostics_total - len(kept)
    parts = [f"{summary.hosts_read} host(s) read, {summary.hosts_evaluated} evaluated, {summary.hosts_rejected} rejected"]
    extra = []
    if unread:
        extra.append(f"{unread} file(s) or document part(s) not read")
    if skipped:
        extra.append(f"{skipped} skipped")
    if ignored:
        extra.append(f"{ignored} value(s) or field(s) ignored")
    if more > 0:
        extra.append(f"{more} more problem(s) not listed")
    if extra:
        parts.append(", ".join(extra))
    return f"sitegate: {'; '.join(parts)}; {summary.verdict} (exit code {summary.exit_code})"


# Options shared by `check` and `audit` (one definition, so the two cannot drift).
TARGET_OPT = typer.Option(None, "--target", "-t", metavar="VERSION", help="ITMS version to check readiness for (e.g. 8.7.3); default: each host's current version.")
FORMAT_OPT = typer.Option(
    None, "--format", "-f", metavar="FORMAT", show_default=False,
    help=f"Output format: {', '.join(f.value for f in Format)}. Default: from each --output file's extension"
    " (.sarif, .json, .xml = junit, .md, .html), else table.",
)
OUTPUT_OPT = typer.Option(
    [], "--output", "-o", metavar="FILE",
    help="Write to FILE ('-' is stdout), in the format its extension names or FORMAT=FILE; repeatable.",
)
FAIL_ON_OPT = typer.Option(FailOn.ERROR, "--fail-on", metavar="[error|warning|note|never]", help="Lowest severity that fails the gate.")
ALLOW_UNKNOWN_OPT = typer.Option(False, "--allow-unknown", help="Do not fail the gate on unknown outcomes (missing facts).")
CATEGORY_OPT = typer.Option(None, "--category", metavar="ID", help="SARIF automationDetails.id (default from the target).")
SARIF_PROFILE_OPT = typer.Option(
    "github", "--sarif-profile", metavar="[github|full]", autocompletion=lambda: ["github", "full"],
    help="github: failures and unknowns; full: every outcome (in SARIF and in the JSON report's hosts[].outcomes).",
)
SHOW_PASSING_OPT = typer.Option(False, "--show-passing", help="Table: list compliant hosts too.")
WAIVERS_OPT = typer.Option(None, "--waivers", metavar="FILE", help="Waivers YAML (rule, host pattern, reason, owner, expiry).")
BASELINE_OPT = typer.Option(None, "--baseline", metavar="FILE", help="Previous sitegate JSON report or SARIF: only new findings fail the gate.")
COLOR_OPT = typer.Option(
    ColorChoice.auto, "--color", metavar="[auto|always|never]",
    help="Colour the table on stdout: auto (only on a terminal, and not with NO_COLOR set or TERM=dumb), always or never.",
)


def _gate_options(sarif_profile: str, **fields: Any) -> RunOptions:
    """check's and audit's options, after the checks both make before reading anything."""
    if sarif_profile not in ("github", "full"):
        _say("sitegate: --sarif-profile must be github or full", err=True)
        raise typer.Exit(2)
    if fields["target"] is None:
        # Said once here and in every output's header: without a target this is no upgrade gate.
        from ..engine.verdict import NO_TARGET_NOTE

        typer.echo(f"sitegate: note: {NO_TARGET_NOTE}", err=True)
    return RunOptions(**fields)


@app.command()
def check(
    facts: List[str] = FACTS_ARG,
    target: Optional[str] = TARGET_OPT,
    policy_dir: List[str] = POLICY_DIR_OPT,
    fmt: Optional[Format] = FORMAT_OPT,
    output: List[str] = OUTPUT_OPT,
    fail_on: FailOn = FAIL_ON_OPT,
    allow_unknown: bool = ALLOW_UNKNOWN_OPT,
    category: Optional[str] = CATEGORY_OPT,
    sarif_profile: str = SARIF_PROFILE_OPT,
    input_format: Optional[str] = INPUT_FORMAT_OPT,
    mapping: Optional[str] = MAPPING_OPT,
    audit_date: Optional[str] = AUDIT_DATE_OPT,
    show_passing: bool = SHOW_PASSING_OPT,
    data: List[str] = DATA_OPT,
    waivers: Optional[str] = WAIVERS_OPT,
    baseline: Optional[str] = BASELINE_OPT,
    color: ColorChoice = COLOR_OPT,
) -> None:
    """Check hosts' facts against the policy packs for a target ITMS version."""
    options = _gate_options(
        sarif_profile, target=target, policy_dirs=tuple(policy_dir), data=tuple(data), waivers=waivers, baseline=baseline,
        fail_on=fail_on, allow_unknown=allow_unknown, category=category, input_format=input_format,
        mapping=mapping, audit_date=audit_date,
    )
    raise typer.Exit(_gate(facts, output, fmt, options, RenderOptions(sarif_profile=sarif_profile, verbose=show_passing), color=color))


def _total_size(paths: list[str]) -> int | None:
    """Bytes in the inputs when they are regular files (for the progress ETA), else None."""
    total = 0
    for p in paths:
        if p == "-" or not os.path.isfile(p):
            return None
        total += os.path.getsize(p)
    return total


@app.command()
def audit(
    facts: List[str] = FACTS_ARG,
    target: Optional[str] = TARGET_OPT,
    policy_dir: List[str] = POLICY_DIR_OPT,
    fmt: Optional[Format] = FORMAT_OPT,
    output: List[str] = OUTPUT_OPT,
    fail_on: FailOn = FAIL_ON_OPT,
    allow_unknown: bool = ALLOW_UNKNOWN_OPT,
    category: Optional[str] = CATEGORY_OPT,
    sarif_profile: str = SARIF_PROFILE_OPT,
    input_format: Optional[str] = INPUT_FORMAT_OPT,
    mapping: Optional[str] = MAPPING_OPT,
    audit_date: Optional[str] = AUDIT_DATE_OPT,
    show_passing: bool = SHOW_PASSING_OPT,
    data: List[str] = DATA_OPT,
    waivers: Optional[str] = WAIVERS_OPT,
    baseline: Optional[str] = BASELINE_OPT,
    color: ColorChoice = COLOR_OPT,
    jobs: int = typer.Option(1, "--jobs", "-j", min=0, max=64, metavar="N", help="Worker processes (1: evaluate in this process; 0: one per CPU). The report is the same either way."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress line on stderr (only when stderr is a terminal)."),
    capacity: bool = typer.Option(False, "--capacity", help="Add the capacity view (per site and Notification Server) to JSON and table output."),
) -> None:
    """Audit a whole fleet: stream a large inventory (JSON Lines, arrays, importer formats) in flat memory."""
    options = _gate_options(
        sarif_profile, target=target, policy_dirs=tuple(policy_dir), data=tuple(data), waivers=waivers, baseline=baseline,
        fail_on=fail_on, allow_unknown=allow_unknown, category=category, input_format=input_format,
        mapping=mapping, audit_date=audit_date, jobs=jobs,
    )
    render = RenderOptions(sarif_profile=sarif_profile, verbose=show_passing, capacity=capacity)
    raise typer.Exit(_gate(facts, output, fmt, options, render, progress=progress, color=color))


@policies_app.command("list")
def policies_list(policy_dir: List[str] = POLICY_DIR_OPT) -> None:
    """List the packs: id, version, ITMS versions, rule count, parent."""
    ps, _ = _load(policy_dir)
    for lp in sorted(ps.loaded, key=lambda p: p.pack.id):
        e = ps.effective[lp.pack.id]
        parent = f" extends {lp.pack.extends}" if lp.pack.extends else ""
        _say(f"{lp.pack.id:<16} {lp.pack.version:<8} ITMS {lp.pack.applies_to:<16} {len(e.rules):>3} rules{parent}  {lp.path}")


@policies_app.command("show")
def policies_show(
    pack_id: str = typer.Argument(..., metavar="PACK", help="Pack id (see: sitegate policies list)."),
    policy_dir: List[str] = POLICY_DIR_OPT,
    data: List[str] = typer.Option([], "--data", metavar="FILE", help="Data overlay YAML to apply first, to see which rows it confirms; repeatable."),
    compiled: Optional[str] = typer.Option(None, "--compiled", metavar="RULE", help="Print the Python code RULE compiles to for this pack, with the values bound as names, for review."),
) -> None:
    """Show a pack: its rules, its data tables and which rows are confirmed (and by what)."""
    ps, _ = _load(policy_dir, data)
    if compiled is not None:
        _show_compiled(ps, pack_id, compiled)
        return
    for o in getattr(ps, "overlays", []):
        _say(f"data overlay {o.path} (sha256 {o.digest[:16]}): {', '.join(getattr(o, 'tables', ()))}")
    e = ps.effective.get(pack_id)
    if e is None:
        _say(f"sitegate: no pack {pack_id!r}; packs: {', '.join(sorted(ps.effective))}", err=True)
        raise typer.Exit(2)
    lp = ps.by_id[pack_id]
    _say(f"{e.id} {e.version}: {e.title}\nITMS {e.applies_to}; chain: {' -> '.join(e.chain)}; file {lp.path} (sha256 {lp.digest[:16]})")
    _say("\nrules:")
    for r in e.rules:
        _say(f"  {r.id:<36} {r.severity.value:<8} confidence {r.confidence.value:<6} {r.title}  [{e.rule_pack[r.id]}]")
    _say("\ndata tables:")
    for name, t in sorted(e.tables.items()):
        confirmed = sum(1 for row in t.rows if row.get("confirmed") is True)
        _say(f"  {name}: {len(t.rows)} row(s), {confirmed} confirmed; confidence {t.confidence.value}; source {t.source}")
        for row in t.rows:
            mark = "confirmed" if row.get("confirmed") is True else "UNCONFIRMED"
            by = f" by {row['confirmed_by']}" if row.get("confirmed_by") else ""
            cells = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("confirmed", "confirmed_by", "note", "source"))
            _say(f"    - {cells}  [{mark}{by}]")


def _show_compiled(ps: PolicySet, pack_id: str, rule_id: str) -> None:
    from ..engine.codegen import compiled_rule_source
    from ..engine.examples import representative_target

    e = ps.effective.get(pack_id)
    if e is None:
        typer.echo(f"sitegate: no pack {pack_id!r}; packs: {', '.join(sorted(ps.effective))}", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(compiled_rule_source(ps, rule_id, representative_target(e)), nl=False)
    except KeyError:
        typer.echo(f"sitegate: pack {pack_id} has no rule {rule_id!r}", err=True)
        raise typer.Exit(2) from None


@policies_app.command("validate")
def policies_validate(directories: List[str] = typer.Argument(None, metavar="DIR", help="Policy directories (default: the bundled packs)."), ) -> None:
    """Validate packs (schema, models, semantics, rule examples); every error with file:line:col."""
    dirs = list(directories or [])
    try:
        ps, warnings = load_policies(dirs, include_bundled=True)
    except InputError as exc:
        _print_diagnostics(exc.diagnostics)
        _say(f"invalid: {sum(1 for d in exc.diagnostics if d.level is Level.ERROR)} error(s)", err=True)
        raise typer.Exit(2) from None
    _print_diagnostics(warnings)
    from ..engine.examples import run_examples

    failures = run_examples(ps)
    for f in failures:
        _say(f, err=True)
    n_rules = sum(len(e.rules) for e in ps.effective.values())
    if failures:
        _say(f"invalid: {len(failures)} rule example(s) do not give their expected outcome", err=True)
        raise typer.Exit(2)
    _say(f"valid: {len(ps.loaded)} pack(s), {n_rules} rule(s) across packs, every example gives its expected outcome")


from .upgrade import register as _register_upgrade  # noqa: E402 - the commands need app and policies_app

_register_upgrade(app, policies_app)


@app.command()
def explain(rule_id: str = typer.Argument(..., metavar="RULE", help="Rule id, e.g. ITMS-NET-48."), policy_dir: List[str] = POLICY_DIR_OPT) -> None:
    """Print a rule's documentation, source, confidence and examples."""
    ps, _ = _load(policy_dir)
    found = ps.rule(rule_id)
    if found is None:
        _say(f"sitegate: no rule {rule_id!r} (see: sitegate policies show PACK)", err=True)
        raise typer.Exit(2)
    from ..engine.explain import explain_text

    _say(explain_text(found[0], found[1]))


@app.command()
def schema(name: SchemaName = typer.Argument(..., metavar="NAME", help=f"Which schema to print: {', '.join(n.value for n in SchemaName)}.")) -> None:
    """Print a JSON Schema shipped with sitegate."""
    # The report is at v2 (the lean report); v1's schema stays in the package for v1 reports.
    fname = f"{name.value}.{_SCHEMA_VERSIONS.get(name, 'v1')}.schema.json"
    try:
        text = resources.files("sitegate.schemas").joinpath(fname).read_text("utf-8")
    except FileNotFoundError:
        _say(f"sitegate: schema {name.value} is not available in this version", err=True)
        raise typer.Exit(2) from None
    typer.echo(text.rstrip("\n"))


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(Abort classes, ClickException classes): recent typer vendors click as typer._click."""
    aborts: list[type] = [typer.Abort]
    errors: list[type] = []
    try:
        from typer._click import ClickException as VendoredClickException

        errors.append(VendoredClickException)
    except ImportError:
        pass
    try:
        import click

        errors.append(click.ClickException)
        aborts.append(click.Abort)
    except ImportError:
        pass
    return tuple(aborts), tuple(errors)


def _import_by_name(inputs: list[str], out: Any, mapping: str | None, strict: bool) -> Any:
    """`import` without --from: each input read as its name says (facts.formats.detect_format),
    in order, into one facts file and one accounting."""
    from ..facts.formats import InputFormat, group_by_format
    from ..facts.importers import ImportStats, import_inputs, write_jsonl
    from ..facts.load import iter_paths

    groups = group_by_format(inputs)
    if mapping is not None and not any(fmt is InputFormat.CSV for fmt, _ in groups):
        _say(f"sitegate: --mapping {mapping} applies to CSV inputs, and none is named *.csv (give --from csv)", err=True)
        raise typer.Exit(2)
    stats = ImportStats()
    for fmt, group in groups:
        if fmt is None:
            items = iter_paths(group)  # facts as they are: JSON or JSON Lines by suffix
        else:
            items = import_inputs(fmt, group, mapping=mapping if fmt is InputFormat.CSV else None, strict=strict)
        write_jsonl(items, out, stats)  # type: ignore[arg-type]  # iter_paths without raw_lines yields only Items
    return stats


IMPORT_WARNINGS_SHOWN = 200  # warnings printed by `import`; the --report JSON has every one


@app.command("import")
def import_cmd(
    inputs: List[str] = typer.Argument(..., metavar="FILE", help="Inputs: files, folders or zips (per format)."),
    from_fmt: Optional[str] = typer.Option(
        None, "--from", metavar="FORMAT", autocompletion=format_names,
        help=f"Input format: {format_list_text()} (default: by file name, as for check: *.csv, *.zip, export folders, else facts).",
    ),
    output: str = typer.Option("-", "--output", "-o", metavar="FILE", help="Facts JSON Lines to write ('-' is stdout)."),
    mapping: Optional[str] = typer.Option(None, "--mapping", metavar="FILE", help="Column-mapping YAML (csv only)."),
    strict: bool = typer.Option(False, "--strict", help="Also reject records with a value that could not be read (a warning otherwise)."),
    report: Optional[str] = typer.Option(None, "--report", metavar="FILE", help="Also write the import accounting (every rejection and warning) as JSON to FILE."),
) -> None:
    """Import exported inventories (CMDB/console CSV, PowerShell output) into a facts file."""
    import io
    import json as _json

    from ..facts.importers import UnknownFormat, import_to_jsonl
    from .output import OutputSpec

    try:
        check_not_inputs([OutputSpec(Format.JSON, output)] + ([OutputSpec(Format.JSON, report)] if report else []), [*inputs, *([mapping] if mapping else [])])
    except OutputError as exc:
        _say(f"sitegate: {exc}", err=True)
        raise typer.Exit(2) from None
    buf = io.BytesIO()
    log = get_logger()
    started = time.perf_counter()
    for path in inputs:
        log.info("input", path=path, format=from_fmt or str(detect_format(path) or "facts"))
    try:
        if from_fmt is None:
            stats = _import_by_name(list(inputs), buf, mapping, strict)
        else:
            stats = import_to_jsonl(from_fmt, inputs, buf, mapping=mapping, strict=strict)
    except UnknownFormat as exc:
        _say(f"sitegate: {exc}", err=True)
        raise typer.Exit(2) from None
    log.info("imported", read=stats.read, written=stats.written, rejected=stats.rejected, warnings=stats.warnings,
             seconds=round(time.perf_counter() - started, 3))
    try:
        items = [(report, _json.dumps(stats.to_dict(), indent=2).encode() + b"\n")] if report else []
        if stats.written or output == "-":
            items.insert(0, (output, buf.getvalue()))
        else:
            remove_stale([output])  # nothing imported: an earlier run's facts must not pass for this one's
        write_all(items)
    except OutputError as exc:
        _say(f"sitegate: {exc}", err=True)
        raise typer.Exit(2) from None
    from ..engine.render.text import safe_text

    for line in stats.reasons():
        _say(safe_text(line), err=True)
    # Each warning with its file:line:col, so "N warning(s)" never stands alone; a terminal
    # is not flooded by a 50,000-row export with a bad column (--report keeps them all).
    shown = stats.warning_diagnostics[:IMPORT_WARNINGS_SHOWN]
    for d in shown:
        _say(safe_text(d.format(with_code=True)), err=True)
    if len(stats.warning_diagnostics) > len(shown):
        more = len(stats.warning_diagnostics) - len(shown)
        _say(f"sitegate import: {more} more warning(s) not shown" + (f" (all are in {report})" if report else " (--report FILE lists them all)"), err=True)
    _say(f"sitegate import: {stats.summary()}", err=True)
    # A rejected record is bad input: the good ones are written, but the exit code says
    # the file is incomplete, so `import && check` cannot pass a host that was dropped.
    if stats.written == 0 or not stats.ok or stats.file_errors:
        raise typer.Exit(2)
    raise typer.Exit(0)


@app.command()
def collect(
    output: str = typer.Option("-", "--output", "-o", metavar="FILE", help="Facts file to write ('-' is stdout)."),
    print_script: bool = typer.Option(False, "--print-script", help="Print the PowerShell collector instead of collecting."),
    package_store: Optional[str] = typer.Option(None, "--package-store", metavar="DIR", help="Package store path to measure free space on."),
) -> None:
    """Collect this host's facts (Windows site server), or print the PowerShell collector."""
    import json as _json

    from ..facts.collect import NotOnWindows, collect_local, collector_script

    if print_script:
        typer.echo(collector_script(), nl=False)
        raise typer.Exit(0)
    warnings: list[str] = []
    try:
        facts = collect_local(package_store_path=package_store, warnings=warnings)
    except NotOnWindows as exc:
        _say(f"sitegate: {exc}", err=True)
        _say("sitegate: on the site server run: sitegate collect -o facts.json, or: sitegate collect --print-script > collect.ps1", err=True)
        raise typer.Exit(2) from None
    except RuntimeError as exc:
        _say(f"sitegate: collection failed: {exc}", err=True)
        raise typer.Exit(2) from None
    for w in warnings:
        _say(f"sitegate collect: warning: {w}", err=True)
    try:
        write_atomic(output, _json.dumps(facts, indent=2).encode("utf-8") + b"\n")
    except OutputError as exc:
        _say(f"sitegate: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(0)


# Every command, here and in cli/upgrade.py, gets the help layout of _Command.
for _group in (app, policies_app):
    for _info in _group.registered_commands:
        if _info.cls in (None, TyperCommand):
            _info.cls = _Command


class _ClosedStdout(io.TextIOBase):
    """Standard output when file descriptor 1 is closed: any write is an OSError, so a
    command that needs stdout says so (exit 2) and one writing only files still runs."""

    encoding = "utf-8"

    @property
    def buffer(self) -> "_ClosedStdout":
        return self  # bytes written to it fail the same way

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        return None


def _prepare_streams() -> None:
    """Text a console cannot encode (a cp1252 Windows agent) is escaped, never fatal; a
    closed stdout becomes one that says so when written to."""
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _cwd_gone() -> bool:
    try:
        os.getcwd()
        return False
    except FileNotFoundError:
        return True


def _environment_error(exc: OSError) -> str:
    """One line for an OSError of the environment (not a bug): which file, what happened."""
    if _cwd_gone():
        return "sitegate: the working directory was removed: cd to one that exists and run again"
    why = exc.strerror or str(exc)
    if exc.filename is None and exc.errno in (errno.EPIPE, errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT, errno.EFBIG):
        return f"sitegate: cannot write to standard output: {why}"
    where = f" {exc.filename}" if exc.filename else ""
    return f"sitegate: cannot use{where}: {why}"


def _quiet_stdout() -> None:
    """After stdout failed: drop what is still buffered, so the exit does not fail again."""
    out = sys.stdout
    sys.stdout = _ClosedStdout()
    try:
        out.close()
    except (OSError, ValueError):
        pass


def _finish(code: int) -> NoReturn:
    """Flush stdout inside the error handling (a full disk or closed pipe shows here, not
    as a traceback at interpreter exit), then exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        _quiet_stdout()
        _err(_environment_error(exc) if isinstance(exc, OSError) else "sitegate: cannot write to standard output: it is closed")
        sys.exit(2)
    sys.exit(code)


def _err(line: str) -> None:
    from ..engine.render.text import safe_text

    try:
        sys.stderr.write("\n".join(safe_text(part) for part in line.split("\n")) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr gone too: the exit code still tells


_COMMAND: Any = None


def _command() -> Any:
    """The click command typer builds from ``app``, built once per process: typer
    rebuilds it on every ``app()`` call, which a process running many checks
    (the test suite's in-process runner, a library user) would pay each time."""
    global _COMMAND
    if _COMMAND is None:
        _COMMAND = typer.main.get_command(app)
    return _COMMAND


def run() -> None:
    """Console-script entry point: never a traceback, always a meaningful exit code."""
    from .output import install_signal_handlers

    _prepare_streams()
    install_signal_handlers()
    if _cwd_gone():
        _err("sitegate: the working directory was removed: cd to one that exists and run again")
        sys.exit(2)
    try:
        rv = _command()(standalone_mode=False)
        if rv == 130:  # typer turns Ctrl-C into Exit(130), returned as 130 here
            _say("sitegate: interrupted", err=True)
        _finish(rv if isinstance(rv, int) else 0)
    except typer.Exit as exc:
        _finish(exc.exit_code)
    except KeyboardInterrupt:
        _err("sitegate: interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except OSError as exc:
        # The environment, not a bug: a full disk, a closed pipe, a removed directory.
        if exc.filename is None:
            _quiet_stdout()
        _err(_environment_error(exc))
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - last line of defence
        Abort, ClickException = _click_exceptions()
        if isinstance(exc, Abort):
            _err("sitegate: aborted")
            sys.exit(130)
        if isinstance(exc, ClickException):  # usage errors included
            shown = io.StringIO()
            exc.show(file=shown)  # type: ignore[attr-defined]  # a ClickException, imported lazily
            _err(shown.getvalue().rstrip("\n"))
            sys.exit(2)
        if isinstance(exc, InputError):
            _print_diagnostics(exc.diagnostics)
            sys.exit(2)
        if isinstance(exc, MemoryError):
            _err("sitegate: out of memory: an input is too large to hold at once (split it, or use JSON Lines)")
            sys.exit(2)
        if isinstance(exc, UnicodeError):
            _err(f"sitegate: text cannot be written in this console's encoding: {exc}")
            sys.exit(2)
        if isinstance(exc, OutputError):
            _err(f"sitegate: {exc}")
            sys.exit(2)
        get_logger().error("internal error", error=repr(exc))
        _err(f"sitegate: internal error: {exc!r} (please report this)")
        sys.exit(2)


if __name__ == "__main__":
    run()
