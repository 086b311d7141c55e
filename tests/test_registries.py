"""One registry each for output formats and input formats, exhaustive over their
enums; renderers declare what they need, and a run keeps exactly that."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sitegate.engine.render import RENDERERS, Format, Needs, RenderOptions, make_renderer, needs, renderer_class
from sitegate.engine.run import RunOptions, run
from sitegate.facts.formats import NATIVE_FORMATS, InputFormat, format_list_text
from sitegate.facts.importers import IMPORTERS, importer

REPO = Path(__file__).resolve().parents[1]
FLEET = REPO / "examples" / "fleet.json"
FULL = RenderOptions(sarif_profile="full")
CAPACITY = RenderOptions(capacity=True)

# What each renderer needs, written out here (not read from the renderers).
EXPECTED_NEEDS = {
    (Format.TABLE, "plain"): Needs(), (Format.TABLE, "full"): Needs(), (Format.TABLE, "capacity"): Needs(),
    (Format.JSON, "plain"): Needs(), (Format.JSON, "full"): Needs(full_outcomes=True), (Format.JSON, "capacity"): Needs(capacity=True),
    (Format.SARIF, "plain"): Needs(), (Format.SARIF, "full"): Needs(full_outcomes=True), (Format.SARIF, "capacity"): Needs(),
    (Format.JUNIT, "plain"): Needs(full_outcomes=True), (Format.JUNIT, "full"): Needs(full_outcomes=True), (Format.JUNIT, "capacity"): Needs(full_outcomes=True),
    (Format.MARKDOWN, "plain"): Needs(), (Format.MARKDOWN, "full"): Needs(), (Format.MARKDOWN, "capacity"): Needs(),
    (Format.HTML, "plain"): Needs(capacity=True), (Format.HTML, "full"): Needs(capacity=True), (Format.HTML, "capacity"): Needs(capacity=True),
}
OPTIONS = {"plain": RenderOptions(), "full": FULL, "capacity": CAPACITY}


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_has_a_renderer_that_declares_its_needs(fmt: Format) -> None:
    cls = renderer_class(fmt)
    assert RENDERERS[fmt] is cls
    assert isinstance(make_renderer(fmt), cls)
    assert cls.shows_input_errors is (fmt is Format.TABLE)
    for name, options in OPTIONS.items():
        assert cls.needs(options) == EXPECTED_NEEDS[(fmt, name)], (fmt, name)


def test_the_format_registry_is_exhaustive() -> None:
    assert set(RENDERERS) == set(Format)
    with pytest.raises(AssertionError):
        renderer_class("yaml")  # type: ignore[arg-type]


def test_needs_of_several_outputs_is_what_any_of_them_needs() -> None:
    assert needs([]) == Needs()
    assert needs([(Format.JSON, RenderOptions()), (Format.MARKDOWN, RenderOptions())]) == Needs()
    assert needs([(Format.JSON, RenderOptions()), (Format.JUNIT, RenderOptions())]) == Needs(full_outcomes=True)
    assert needs([(Format.HTML, RenderOptions()), (Format.SARIF, FULL)]) == Needs(full_outcomes=True, capacity=True)


@pytest.mark.parametrize(("outputs", "outcomes", "capacity"), [
    (((Format.JSON, RenderOptions()),), False, False),
    (((Format.JSON, RenderOptions()), (Format.JUNIT, RenderOptions())), True, False),
    (((Format.SARIF, FULL),), True, False),
    (((Format.HTML, RenderOptions()),), False, True),
    (((Format.JSON, CAPACITY),), False, True),
])
def test_a_run_keeps_what_its_outputs_need(outputs: tuple, outcomes: bool, capacity: bool) -> None:
    r = run([str(FLEET)], RunOptions(target="8.7.3", audit_date="2026-11-25", outputs=outputs))
    results = [it.result for it in r if it.result is not None]
    assert len(results) == 4
    assert all(bool(h.outcomes) is outcomes for h in results)
    assert all((h.capacity is not None) is capacity for h in results)


@pytest.mark.parametrize("fmt", list(InputFormat))
def test_every_input_format_has_an_importer(fmt: InputFormat) -> None:
    imp = importer(fmt)
    assert imp.name == fmt.value
    assert IMPORTERS[fmt.value] == imp
    assert callable(imp.read)
    assert imp.takes_mapping is (fmt is InputFormat.CSV)
    assert imp.converts is (fmt not in NATIVE_FORMATS)


def test_the_format_list_loads_no_importer() -> None:
    """The CLI's help reads the format list; the readers load only when a format is read."""
    code = (
        "import sys, sitegate.facts.formats as f\n"
        "[f.importer(m) for m in f.InputFormat]\n"
        "print(sorted(m for m in sys.modules if m.startswith('sitegate.facts.importers')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_importer_registry_is_exhaustive_and_listed_once(cli) -> None:
    assert list(IMPORTERS) == ["json", "jsonl", "csv", "powershell"]
    assert NATIVE_FORMATS == {"json", "jsonl"}
    with pytest.raises(AssertionError):
        importer("xml")  # type: ignore[arg-type]
    assert format_list_text() == "json, jsonl, csv or powershell"
    # The CLI's help texts are made from the list.
    for command in ("check", "audit", "import"):
        code, out, _ = cli(command, "--help")
        assert code == 0
        flat = " ".join(out.split())
        assert "json, jsonl, csv or powershell" in flat, command


def test_the_cli_compares_no_format_renderers_declare_what_it_needs_to_know() -> None:
    """Issue 13: what differs per format is declared by its renderer (needs, shows_input_errors,
    console_text, size_warnings), so the CLI tests no format by name."""
    import re
    from pathlib import Path

    from sitegate.engine.render import console_text

    assert {f: console_text(f) for f in Format} == {f: f is Format.TABLE for f in Format}  # written out, not read
    cli_dir = Path(__file__).resolve().parents[1] / "cli"
    for source in sorted(cli_dir.glob("*.py")):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"\bis (not )?Format\.|[=!]= ?Format\.", text), source.name
