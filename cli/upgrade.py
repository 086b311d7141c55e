"""The upgrade commands: ``sitegate plan``, ``sitegate remediate`` and ``sitegate policies test``.

Thin: each parses its options, calls the engine and writes what it returns.
Registered on the main app by :func:`register`.
"""
from __future__ import annotations

import os
from typing import List

import typer

from ..base.diagnostics import Diagnostic


def _echo_diagnostics(diags: list[Diagnostic]) -> None:
    from ..engine.render.text import safe_text

    for d in diags:
        typer.echo(safe_text(d.format()), err=True)


def policies_test(
    directories: List[str] = typer.Argument(..., help="Policy directories with your packs; each one's tests/ folder holds its case files."),
    cases: List[str] = typer.Option([], "--cases", help="Case folder(s) in the layout <pack id>/<pack version>/<case>.yaml (default: DIR/tests)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or junit."),
    output: str = typer.Option("-", "--output", "-o", help="File to write the results to ('-' is stdout)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List passing tests too."),
) -> None:
    """Run your packs' tests: every rule's examples and every case file (exit 1 on a failing case, 2 on a malformed file)."""
    from ..engine.policytest import render_junit, render_text, run_policy_tests

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


def register(app: typer.Typer, policies_app: typer.Typer) -> None:
    """Add the upgrade commands to the CLI."""
    policies_app.command("test")(policies_test)
