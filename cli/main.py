"""The sitegate command line: a thin typer layer over the library API.

Exit codes: 0 compliant, 1 findings at or above --fail-on, 2 bad input or
usage. No traceback ever reaches the user: input problems are printed as
``file:line:col: message``; an unexpected failure is logged and exits 2.
"""
from __future__ import annotations

import json
import sys
from enum import Enum
from importlib import resources
from typing import Any, Iterable, Iterator, List, Optional

import typer

from ..engine import __version__
from ..engine.diagnostics import Diagnostic, InputError, Level
from ..engine.evaluate import Options, evaluate_stream
from ..engine.model import FailOn
from ..engine.packs import PolicySet, load_policies
from ..engine.render import Format, RenderOptions, available_formats, make_renderer
from .logging import configure, get_logger
from .output import OutputError, Sink, check_not_inputs, parse_outputs

app = typer.Typer(
    name="sitegate",
    help="Policy-as-code readiness gate for Symantec/Broadcom ITMS site servers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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


def _version_callback(value: bool) -> None:
    if value:
        try:
            ps, _ = load_policies()
            packs = ", ".join(f"{p.pack.id} {p.pack.version}" for p in sorted(ps.loaded, key=lambda p: p.pack.id))
        except InputError:
            packs = "bundled packs failed to load (run: sitegate policies validate)"
        typer.echo(f"sitegate {__version__}\npolicy packs: {packs}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Show the tool and bundled pack versions."),
    log_format: LogFormat = typer.Option(LogFormat.console, "--log-format", help="Log format on stderr."),
    verbose: int = typer.Option(0, "-v", "--verbose", count=True, help="More logging (-v info, -vv debug)."),
) -> None:
    """sitegate: check ITMS site servers against versioned readiness policies."""
    configure(log_format.value, verbose)


def _print_diagnostics(diags: Iterable[Diagnostic]) -> None:
    from ..engine.render.text import safe_text

    for d in diags:
        typer.echo(safe_text(d.format()), err=True)


def _load(policy_dirs: list[str], data: list[str] | None = None) -> tuple[PolicySet, list[Diagnostic]]:
    try:
        if data:
            return load_policies(policy_dirs, overlays=data)  # type: ignore[call-arg]
        return load_policies(policy_dirs)
    except InputError as exc:
        _print_diagnostics(exc.diagnostics)
        n = sum(1 for d in exc.diagnostics if d.level is Level.ERROR)
        typer.echo(f"sitegate: {n} policy error(s): nothing was evaluated", err=True)
        raise typer.Exit(2) from None


def _facts_items(paths: list[str], input_format: str | None, mapping: str | None, locate: bool) -> Iterator[Any]:
    if input_format in (None, "json", "jsonl"):
        from ..facts.load import iter_paths

        return iter_paths(paths, locate=locate, fmt=input_format if input_format == "jsonl" else None)
    from ..facts.importers import import_inputs  # type: ignore[attr-defined]

    return import_inputs(input_format, paths, mapping=mapping)


def run_gate(
    facts: list[str],
    *,
    target: str | None,
    policy_dirs: list[str],
    fmt: Format,
    outputs: list[str],
    fail_on: FailOn,
    allow_unknown: bool,
    category: str | None,
    sarif_profile: str,
    input_format: str | None,
    mapping: str | None,
    audit_date: str | None,
    verbose_hosts: bool,
    data: list[str] | None = None,
    waivers: str | None = None,
    baseline: str | None = None,
    jobs: int = 1,
    progress: bool = False,
) -> int:
    """Evaluate once and write every requested output; returns the exit code."""
    log = get_logger()
    data = data or []
    try:
        specs = parse_outputs(outputs, fmt)
        check_not_inputs(specs, [*facts, *data, *([waivers] if waivers else []), *([baseline] if baseline else [])])
    except OutputError as exc:
        typer.echo(f"sitegate: {exc}", err=True)
        return 2
    for s in specs:
        if s.fmt not in available_formats():
            typer.echo(f"sitegate: format {s.fmt.value} is not available in this version", err=True)
            return 2
    policies, warnings = _load(policy_dirs, data)
    extra_inputs: list[tuple[str, str]] = [("data", f"{o.path}@sha256:{o.digest}") for o in getattr(policies, "overlays", [])]
    try:
        waiver_set = _load_waivers(waivers, audit_date) if waivers else None
        baseline_set = _load_baseline(baseline) if baseline else None
    except InputError as exc:
        _print_diagnostics(exc.diagnostics)
        return 2
    if waiver_set is not None:
        extra_inputs.append(("waivers", f"{waivers}@sha256:{waiver_set.digest}"))
    if baseline_set is not None:
        extra_inputs.append(("baseline", f"{baseline}@sha256:{baseline_set.digest}"))
    if target is not None:
        from packaging.version import InvalidVersion, Version

        try:
            Version(target)
        except InvalidVersion:
            typer.echo(f"sitegate: --target {target!r} is not a version (e.g. 8.7.3)", err=True)
            return 2
        if not policies.select(target):
            typer.echo(f"sitegate: no policy pack applies to ITMS {target} (see: sitegate policies list)", err=True)
            return 2
    # Locations are cheap for JSON Lines (the record's line) and computed once per
    # JSON document, so every format gets them.
    needs_location = True
    needs_full = any(s.fmt in (Format.JUNIT, Format.HTML) for s in specs) or (sarif_profile == "full" and any(s.fmt is Format.SARIF for s in specs))
    options = Options(
        target=target,
        fail_on=fail_on,
        allow_unknown=allow_unknown,
        locate=needs_location,
        full_outcomes=needs_full,
        keep_facts=any(s.fmt is Format.HTML for s in specs),
        audit_date=audit_date,
        category=category,
        inputs=tuple(facts),
        extra_inputs=tuple(extra_inputs),
        waivers=waiver_set,
        baseline=baseline_set,
        preload_diagnostics=tuple(warnings),
    )
    stream = evaluate_stream(_facts_items(facts, input_format, mapping, needs_location), policies, options)
    color = any(s.path == "-" for s in specs) and sys.stdout.isatty()
    sinks: list[Sink] = []
    try:
        for s in specs:
            sinks.append(Sink(s, make_renderer(s.fmt, RenderOptions(color=color and s.fmt is Format.TABLE, sarif_profile=sarif_profile, verbose=verbose_hosts))))
        for sink in sinks:
            sink.write(sink.renderer.start(stream.header))
        for host in stream.hosts:
            for sink in sinks:
                sink.write(sink.renderer.host(host))
        summary = stream.summary
        for sink in sinks:
            sink.write(sink.renderer.finish(summary))
        for sink in sinks:
            sink.commit()
    except OutputError as exc:
        for sink in sinks:
            sink.abort()
        typer.echo(f"sitegate: {exc}", err=True)
        return 2
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    if not any(s.path == "-" and s.fmt is Format.TABLE for s in specs):
        # Input problems always reach the user, even when stdout carries JSON or SARIF.
        _print_diagnostics(d for d in summary.diagnostics if d.level is Level.ERROR)
    log.info("done", hosts=summary.hosts_evaluated, rejected=summary.hosts_rejected, exit_code=summary.exit_code)
    return summary.exit_code


def _load_waivers(path: str, audit_date: str | None) -> Any:
    """Waivers file -> matcher (sitegate.engine.waivers); InputError on bad input."""
    from ..engine.waivers import load_waivers  # type: ignore[import-not-found]

    return load_waivers(path, today=audit_date)


def _load_baseline(path: str) -> Any:
    """Previous JSON report or SARIF -> fingerprints (sitegate.engine.baseline)."""
    from ..engine.baseline import load_baseline  # type: ignore[import-not-found]

    return load_baseline(path)


FACTS_ARG = typer.Argument(..., help="Facts files (JSON, JSON Lines) or directories; '-' reads stdin.")


@app.command()
def check(
    facts: List[str] = FACTS_ARG,
    target: Optional[str] = typer.Option(None, "--target", "-t", help="ITMS version to check readiness for (e.g. 8.7.3); default: each host's current version."),
    policy_dir: List[str] = typer.Option([], "--policy-dir", help="Extra directory of policy packs (*.yaml); repeatable."),
    fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="Output format."),
    output: List[str] = typer.Option([], "--output", "-o", help="Output file, or FORMAT=FILE; repeatable ('-' is stdout)."),
    fail_on: FailOn = typer.Option(FailOn.ERROR, "--fail-on", help="Lowest severity that fails the gate."),
    allow_unknown: bool = typer.Option(False, "--allow-unknown", help="Do not fail the gate on unknown outcomes (missing facts)."),
    category: Optional[str] = typer.Option(None, "--category", help="SARIF automationDetails.id (default from the target)."),
    sarif_profile: str = typer.Option("github", "--sarif-profile", help="github (failures and unknowns) or full (every outcome)."),
    input_format: Optional[str] = typer.Option(None, "--input-format", help="json, jsonl, powershell or csv (default: by file name)."),
    mapping: Optional[str] = typer.Option(None, "--mapping", help="Column-mapping YAML for --input-format csv."),
    audit_date: Optional[str] = typer.Option(None, "--audit-date", help="Date for lifecycle rules, YYYY-MM-DD (default: today)."),
    show_passing: bool = typer.Option(False, "--show-passing", help="Table: list compliant hosts too."),
    data: List[str] = typer.Option([], "--data", help="Data overlay YAML confirming or overriding pack tables; repeatable."),
    waivers: Optional[str] = typer.Option(None, "--waivers", help="Waivers YAML (rule, host pattern, reason, owner, expiry)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Previous sitegate JSON report or SARIF: only new findings fail the gate."),
) -> None:
    """Check hosts' facts against the policy packs for a target ITMS version."""
    if sarif_profile not in ("github", "full"):
        typer.echo("sitegate: --sarif-profile must be github or full", err=True)
        raise typer.Exit(2)
    code = run_gate(
        facts, target=target, policy_dirs=policy_dir, fmt=fmt, outputs=output, fail_on=fail_on,
        allow_unknown=allow_unknown, category=category, sarif_profile=sarif_profile,
        input_format=input_format, mapping=mapping, audit_date=audit_date, verbose_hosts=show_passing,
        data=data, waivers=waivers, baseline=baseline,
    )
    raise typer.Exit(code)


@policies_app.command("list")
def policies_list(policy_dir: List[str] = typer.Option([], "--policy-dir", help="Extra policy directory.")) -> None:
    """List the packs: id, version, ITMS versions, rule count, parent."""
    ps, _ = _load(policy_dir)
    for lp in sorted(ps.loaded, key=lambda p: p.pack.id):
        e = ps.effective[lp.pack.id]
        parent = f" extends {lp.pack.extends}" if lp.pack.extends else ""
        typer.echo(f"{lp.pack.id:<16} {lp.pack.version:<8} ITMS {lp.pack.applies_to:<16} {len(e.rules):>3} rules{parent}  {lp.path}")


@policies_app.command("show")
def policies_show(pack_id: str = typer.Argument(..., help="Pack id."), policy_dir: List[str] = typer.Option([], "--policy-dir")) -> None:
    """Show a pack: its rules, its data tables and which rows are confirmed."""
    ps, _ = _load(policy_dir)
    e = ps.effective.get(pack_id)
    if e is None:
        typer.echo(f"sitegate: no pack {pack_id!r}; packs: {', '.join(sorted(ps.effective))}", err=True)
        raise typer.Exit(2)
    lp = ps.by_id[pack_id]
    typer.echo(f"{e.id} {e.version}: {e.title}\nITMS {e.applies_to}; chain: {' -> '.join(e.chain)}; file {lp.path} (sha256 {lp.digest[:16]})")
    typer.echo("\nrules:")
    for r in e.rules:
        typer.echo(f"  {r.id:<36} {r.severity.value:<8} confidence {r.confidence.value:<6} {r.title}  [{e.rule_pack[r.id]}]")
    typer.echo("\ndata tables:")
    for name, t in sorted(e.tables.items()):
        confirmed = sum(1 for row in t.rows if row.get("confirmed") is True)
        typer.echo(f"  {name}: {len(t.rows)} row(s), {confirmed} confirmed; confidence {t.confidence.value}; source {t.source}")
        for row in t.rows:
            mark = "confirmed" if row.get("confirmed") is True else "UNCONFIRMED"
            by = f" by {row['confirmed_by']}" if row.get("confirmed_by") else ""
            cells = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("confirmed", "confirmed_by", "note", "source"))
            typer.echo(f"    - {cells}  [{mark}{by}]")


@policies_app.command("validate")
def policies_validate(directories: List[str] = typer.Argument(None, help="Policy directories (default: the bundled packs)."), ) -> None:
    """Validate packs (schema, models, semantics, rule examples); every error with file:line:col."""
    dirs = list(directories or [])
    try:
        ps, warnings = load_policies(dirs, include_bundled=True)
    except InputError as exc:
        _print_diagnostics(exc.diagnostics)
        typer.echo(f"invalid: {sum(1 for d in exc.diagnostics if d.level is Level.ERROR)} error(s)", err=True)
        raise typer.Exit(2) from None
    _print_diagnostics(warnings)
    from ..engine.examples import run_examples

    failures = run_examples(ps)
    for f in failures:
        typer.echo(f, err=True)
    n_rules = sum(len(e.rules) for e in ps.effective.values())
    if failures:
        typer.echo(f"invalid: {len(failures)} rule example(s) do not give their expected outcome", err=True)
        raise typer.Exit(2)
    typer.echo(f"valid: {len(ps.loaded)} pack(s), {n_rules} rule(s) across packs, every example gives its expected outcome")


@app.command()
def explain(rule_id: str = typer.Argument(..., help="Rule id, e.g. ITMS-NET-48."), policy_dir: List[str] = typer.Option([], "--policy-dir")) -> None:
    """Print a rule's documentation, source, confidence and examples."""
    ps, _ = _load(policy_dir)
    found = ps.rule(rule_id)
    if found is None:
        typer.echo(f"sitegate: no rule {rule_id!r} (see: sitegate policies show PACK)", err=True)
        raise typer.Exit(2)
    from ..engine.explain import explain_text

    typer.echo(explain_text(found[0], found[1]))


@app.command()
def schema(name: SchemaName = typer.Argument(..., help="Which schema to print.")) -> None:
    """Print a JSON Schema shipped with sitegate."""
    fname = f"{name.value}.v1.schema.json"
    try:
        text = resources.files("sitegate.schemas").joinpath(fname).read_text("utf-8")
    except FileNotFoundError:
        typer.echo(f"sitegate: schema {name.value} is not available in this version", err=True)
        raise typer.Exit(2) from None
    typer.echo(text.rstrip("\n"))


def run() -> None:
    """Console-script entry point: never a traceback, always a meaningful exit code."""
    try:
        rv = app(standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("sitegate: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence
        import click

        if isinstance(exc, click.exceptions.UsageError):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            typer.echo("sitegate: aborted", err=True)
            sys.exit(130)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, InputError):
            _print_diagnostics(exc.diagnostics)
            sys.exit(2)
        get_logger().error("internal error", error=repr(exc))
        typer.echo(f"sitegate: internal error: {exc!r} (please report this)", err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
