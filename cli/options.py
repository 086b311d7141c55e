"""Arguments and options that several commands take, declared once so their help cannot drift.

`check`, `audit`, `plan` and `remediate` read the same inputs through the same
loaders (engine.run); they describe them with these same words.
"""
from __future__ import annotations

import typer

from ..facts.formats import format_list_text, format_names

FACTS_ARG = typer.Argument(
    ..., metavar="FILE",
    help="Facts files (JSON, JSON Lines) or folders of them; CSV exports (*.csv), PowerShell exports (*.zip or an"
    " export folder); '-' reads stdin. The format comes from the name unless --input-format says.",
)
POLICY_DIR_OPT = typer.Option([], "--policy-dir", metavar="DIR", help="Extra directory of policy packs (*.yaml), read with the bundled ones; repeatable.")
INPUT_FORMAT_OPT = typer.Option(
    None, "--input-format", metavar="FORMAT", autocompletion=format_names,
    help=f"Read every input as {format_list_text()} (default: by file name: *.csv, *.zip and PowerShell export"
    " folders are imported, anything else is read as facts).",
)
MAPPING_OPT = typer.Option(None, "--mapping", metavar="FILE", help="Column-mapping YAML for CSV inputs.")
AUDIT_DATE_OPT = typer.Option(None, "--audit-date", metavar="DATE", help="Date for lifecycle rules, YYYY-MM-DD (default: today).")
DATA_OPT = typer.Option([], "--data", metavar="FILE", help="Data overlay YAML confirming or overriding pack tables; repeatable.")
