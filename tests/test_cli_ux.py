"""Issue 17, items 2 to 4: inputs and outputs named as people name them, a terminal
that behaves, and help that reads like ruff's or pytest's."""
from __future__ import annotations

import csv
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sitegate.cli.main import app
from sitegate.cli.output import ColorChoice, OutputError, choose_format, format_of_name, wants_color
from sitegate.facts.formats import InputFormat, detect_format, group_by_format

from .conftest import EXAMPLES, REPO
from .formats_support import assert_valid_junit, assert_valid_sarif

IMPORTER_DATA = REPO / "tests" / "importers" / "data"
MESSY_CSV = IMPORTER_DATA / "csv" / "messy.csv"
PS_EXPORT = EXAMPLES / "powershell-export"  # one host folder, TS01
WS10_ZIP = IMPORTER_DATA / "ps" / "WS10.zip"
ANSI = re.compile(rb"\x1b\[")


def _report(out: str) -> dict:
    return json.loads(out)


def _csv_names(path: Path) -> list[str]:
    """The Name column as the csv module reads it (the oracle, not the importer)."""
    with open(path, encoding="latin-1", newline="") as fh:
        return [row["Name"] for row in csv.DictReader(fh, delimiter=";")]


# --- item 2: inputs by name ----------------------------------------------------------


def test_check_reads_a_csv_export_without_input_format(cli, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    shutil.copyfile(MESSY_CSV, export)
    code, out, err = cli("check", str(export), "--target", "8.7.3", "-f", "json")
    report = _report(out)
    rows = _csv_names(MESSY_CSV)
    assert report["summary"]["hosts_read"] == len(rows) == 6
    named = [h["name"] for h in report["hosts"] if not h["name"].startswith(str(export))]
    assert named == [n for n in rows if n]
    assert "invalid JSON" not in err and "not valid JSON" not in err
    # The same as naming the format: one file read two ways gives one verdict.
    code2, out2, _ = cli("check", str(export), "--target", "8.7.3", "-f", "json", "--input-format", "csv")
    assert code == code2 == 2  # messy.csv has two rows the facts schema rejects
    assert report["summary"]["hosts_evaluated"] == _report(out2)["summary"]["hosts_evaluated"] == 4


def test_check_reads_a_powershell_zip_without_input_format(cli) -> None:
    code, out, _ = cli("check", str(WS10_ZIP), "--target", "8.7.3", "-f", "json")
    report = _report(out)
    assert [h["name"] for h in report["hosts"]] == ["WS10"]
    assert report["summary"]["hosts_evaluated"] == 1 and code in (0, 1)


def test_check_reads_a_powershell_export_folder_without_input_format(cli, tmp_path: Path) -> None:
    export = tmp_path / "exportfolder"
    shutil.copytree(PS_EXPORT, export)
    code, out, _ = cli("check", str(export) + os.sep, "--target", "8.7.3", "-f", "json")
    report = _report(out)
    assert [h["name"] for h in report["hosts"]] == ["TS01"]
    assert report["summary"]["hosts_rejected"] == 0 and code in (0, 1)
    # A single host folder given directly is an export folder too.
    code, out, _ = cli("check", str(export / "TS01"), "--target", "8.7.3", "-f", "json")
    assert [h["name"] for h in _report(out)["hosts"]] == ["TS01"]


def test_mixed_inputs_are_read_in_order_each_by_its_name(cli, tmp_path: Path) -> None:
    code, out, _ = cli("check", str(EXAMPLES / "fleet.json"), str(WS10_ZIP), str(PS_EXPORT), "--target", "8.7.3", "-f", "json")
    names = [h["name"] for h in _report(out)["hosts"]]
    fleet = [h["name"] for h in json.loads((EXAMPLES / "fleet.json").read_text())["hosts"]]
    assert names == [*fleet, "WS10", "TS01"]


def test_a_facts_folder_is_still_a_facts_folder(cli, tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    shutil.copyfile(EXAMPLES / "fleet.json", facts / "fleet.json")
    shutil.copyfile(EXAMPLES / "task-server-86.json", facts / "host.json")  # named like an export's host.json
    assert detect_format(str(facts)) is None
    code, out, _ = cli("check", str(facts), "--target", "8.7.3", "-f", "json")
    report = _report(out)
    assert report["summary"]["hosts_rejected"] == 0
    assert report["summary"]["hosts_evaluated"] == 5  # fleet.json's four and task-server-86


def _touch(path: Path, text: str = "{}") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format("-") is None
    assert detect_format(str(tmp_path / "Export.CSV")) is InputFormat.CSV  # need not exist: the importer says so
    assert detect_format(str(tmp_path / "WS10.zip")) is InputFormat.POWERSHELL
    assert detect_format(str(tmp_path / "fleet.json")) is None
    assert detect_format(str(tmp_path / "fleet.jsonl")) is None
    one_host = tmp_path / "TS01"
    _touch(one_host / "os.json")
    assert detect_format(str(one_host)) is InputFormat.POWERSHELL
    hosts = tmp_path / "exports"
    _touch(hosts / "TS01" / "features.json")
    _touch(hosts / "TS02" / "computersystem.json")
    _touch(hosts / "TS02" / "smaregistry.json")  # recognised by its keys, beside named exports
    assert detect_format(str(hosts)) is InputFormat.POWERSHELL
    zips = tmp_path / "zips"
    _touch(zips / "WS10.zip", "")
    assert detect_format(str(zips)) is InputFormat.POWERSHELL
    facts = tmp_path / "facts"
    _touch(facts / "ts01.json")
    _touch(facts / "host.json")
    assert detect_format(str(facts)) is None
    mixed = tmp_path / "mixed"
    _touch(mixed / "fleet.json")
    _touch(mixed / "TS01" / "os.json")
    assert detect_format(str(mixed)) is None  # a facts file outside the exports: read as today
    csv_folder = tmp_path / "a.csv"
    csv_folder.mkdir()
    assert detect_format(str(csv_folder)) is None
    groups = group_by_format(["a.json", "b.jsonl", "c.csv", "d.csv", "e.zip", "f.json"])
    assert groups == [(None, ["a.json", "b.jsonl"]), (InputFormat.CSV, ["c.csv", "d.csv"]),
                      (InputFormat.POWERSHELL, ["e.zip"]), (None, ["f.json"])]


# --- item 2: outputs by name ---------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [
    ("r.sarif", "sarif"), ("R.SARIF", "sarif"), ("r.sarif.json", "sarif"), ("r.json", "json"), ("r.xml", "junit"),
    ("r.md", "markdown"), ("r.markdown", "markdown"), ("r.html", "html"), ("r.htm", "html"),
    ("r.txt", None), ("report", None), ("-", None),
])
def test_format_of_name(name: str, fmt: str | None) -> None:
    assert format_of_name(name) == fmt


def test_choose_format() -> None:
    every = ["table", "json", "sarif", "junit", "markdown", "html"]
    assert choose_format("r.sarif", None, "table", every) == "sarif"
    assert choose_format("r.sarif", "sarif", "table", every) == "sarif"
    assert choose_format("r.txt", None, "table", every) == "table"
    assert choose_format("r.txt", "json", "table", every) == "json"
    with pytest.raises(OutputError, match="extension but --format says junit"):
        choose_format("r.sarif", "junit", "table", every)
    with pytest.raises(OutputError, match="does not write"):
        choose_format("p.sarif", None, "table", ["table", "json", "markdown", "html"])
    assert choose_format("p.sarif", "json", "table", ["table", "json", "markdown", "html"]) == "json"


def test_output_extension_picks_the_format_and_the_result_validates(cli, tmp_path: Path) -> None:
    sarif, junit, md = tmp_path / "report.sarif", tmp_path / "report.xml", tmp_path / "report.md"
    code, out, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", str(sarif), "-o", str(junit), "-o", str(md))
    assert code == 1 and out == ""
    doc = assert_valid_sarif(sarif.read_text())  # the official SARIF 2.1.0 schema
    assert doc["version"] == "2.1.0"
    assert_valid_junit(junit.read_text())
    assert md.read_text().startswith("#")


def test_output_extension_clashing_with_format_is_a_usage_error(cli, tmp_path: Path) -> None:
    sarif = tmp_path / "r.sarif"
    code, out, err = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", str(sarif), "--format", "junit")
    assert code == 2
    assert "says sarif by its extension but --format says junit" in err
    assert not sarif.exists()
    # FORMAT=FILE is the way to force it.
    code, _, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-o", f"junit={sarif}")
    assert code == 1
    assert_valid_junit(sarif.read_text())


def test_plan_output_extension(cli, tmp_path: Path) -> None:
    md, sarif = tmp_path / "plan.md", tmp_path / "plan.sarif"
    code, _, _ = cli("plan", str(EXAMPLES / "fleet.json"), "--to", "8.7.3", "-o", str(md))
    assert code == 1 and md.read_text().startswith("## sitegate upgrade plan")
    code, _, err = cli("plan", str(EXAMPLES / "fleet.json"), "--to", "8.7.3", "-o", str(sarif))
    assert code == 2 and "does not write" in err and not sarif.exists()
    code, _, err = cli("plan", str(EXAMPLES / "fleet.json"), "--to", "8.7.3", "-o", str(md), "-f", "json")
    assert code == 2 and "--format says json" in err


# --- item 3: a terminal that behaves -------------------------------------------------


def _run_on_pty(args: list[str], env: dict[str, str], timeout: float = 120) -> tuple[int, bytes]:
    """Run the real entry point with stdin, stdout and stderr on a pseudo-terminal."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sitegate.cli.main", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=REPO, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        code = proc.wait(timeout=30)
    return code, out


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


CHECK = ["check", "examples/fleet.json", "--target", "8.7.3"]


def test_auto_colour_on_a_terminal() -> None:
    code, out = _run_on_pty(CHECK, _env())
    assert code == 1
    assert ANSI.search(out), out[-400:]
    assert b"verdict: NOT READY" in out


@pytest.mark.parametrize(("env", "args"), [
    ({"NO_COLOR": "1"}, []),
    ({"TERM": "dumb"}, []),
    ({}, ["--color", "never"]),
])
def test_no_escape_sequence_when_colour_is_off(env: dict[str, str], args: list[str]) -> None:
    code, out = _run_on_pty([*CHECK, *args], _env(**env))
    assert code == 1
    assert b"verdict: NOT READY" in out  # the table was printed, on the terminal
    assert b"\x1b" not in out, out[-400:]


def test_colour_choice_rules() -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    assert wants_color(ColorChoice.auto, Tty(), {}) is True
    assert wants_color(ColorChoice.auto, Pipe(), {}) is False
    assert wants_color(ColorChoice.auto, Tty(), {"NO_COLOR": "1"}) is False
    assert wants_color(ColorChoice.auto, Tty(), {"NO_COLOR": ""}) is True  # only a non-empty value counts
    assert wants_color(ColorChoice.auto, Tty(), {"TERM": "dumb"}) is False
    assert wants_color(ColorChoice.always, Pipe(), {"NO_COLOR": "1"}) is True  # the command line wins
    assert wants_color(ColorChoice.never, Tty(), {}) is False


def test_color_always_colours_a_pipe(cli) -> None:
    code, out, _ = cli(*CHECK[:1], str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "--color", "always")
    assert code == 1 and "\x1b[" in out
    code, out, _ = cli(*CHECK[:1], str(EXAMPLES / "fleet.json"), "--target", "8.7.3")
    assert code == 1 and "\x1b" not in out


VERDICT_LINE = re.compile(r"^sitegate: (\d+) host\(s\) read, (\d+) evaluated, (\d+) rejected(?:; (.*))?; (.+) \(exit code (\d)\)$", re.M)


def test_an_all_files_run_prints_its_verdict_line_on_stderr(cli, tmp_path: Path) -> None:
    out_file = tmp_path / "x.json"
    code, out, err = cli("audit", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", "json", "-o", str(out_file))
    assert out == ""
    m = VERDICT_LINE.search(err)
    assert m, err
    summary = json.loads(out_file.read_text())["summary"]
    assert (int(m[1]), int(m[2]), int(m[3])) == (4, 4, 0)
    assert m[5] == summary["verdict"] == "NOT READY" and int(m[6]) == code == 1


def test_the_verdict_line_counts_rejected_skipped_and_ignored(cli, tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    shutil.copyfile(EXAMPLES / "fleet.json", facts / "fleet.json")
    (facts / "broken.jsonl").write_text('{"name": "ok-but-bare"}\nnot json\n')
    (facts / "notes.txt").write_text("not facts")
    (facts / "extra.json").write_text(json.dumps({"name": "X1", "os": {"build": 20348}, "surprise": 1}))
    code, out, err = cli("check", str(facts), "--target", "8.7.3", "-o", str(tmp_path / "r.sarif"))
    assert out == "" and code == 2
    m = VERDICT_LINE.search(err)
    assert m, err
    assert int(m[3]) >= 1  # "not json"
    assert "1 skipped" in m[4]  # notes.txt
    assert "ignored" in m[4]  # the unknown field "surprise"
    assert int(m[6]) == 2


def test_import_shows_each_warning_with_its_position(cli, tmp_path: Path) -> None:
    code, _, err = cli("import", "--from", "csv", str(MESSY_CSV), "-o", str(tmp_path / "f.jsonl"))
    total = int(re.search(r"(\d+) warning\(s\)", err)[1])  # type: ignore[index]
    shown = re.findall(r"^.*messy\.csv:(\d+):(\d+): warning: ", err, re.M)
    assert total == 7 and len(shown) == total
    assert all(int(line) >= 1 and int(col) >= 1 for line, col in shown)


def test_verbose_logs_inputs_packs_files_and_timings(cli, tmp_path: Path) -> None:
    args = ["check", str(EXAMPLES / "fleet.json"), str(WS10_ZIP), "--target", "8.7.3", "-o", str(tmp_path / "r.json")]
    _, _, quiet = cli(*args)
    assert "[info" not in quiet
    _, _, err = cli("-v", *args)
    assert re.search(r"\[info\s*\] input .*format=powershell path=.*WS10\.zip", err), err
    assert re.search(r"\[info\s*\] packs selected .*itms-8\.7\.3 \d+\.\d+\.\d+", err), err
    assert re.search(r"\[info\s*\] reading .*file=.*fleet\.json", err)
    assert re.search(r"\[info\s*\] done .*evaluate_s=[\d.]+ .*setup_s=[\d.]+", err)
    assert "[debug" not in err
    _, _, debug = cli("-vv", *args)
    assert re.search(r"\[debug\s*\] host .*name=WS10", debug)
    assert re.search(r"\[debug\s*\] pack .*id=itms-base", debug)


def test_verbose_plan_and_remediate_log_inputs_packs_and_timings(cli, tmp_path: Path) -> None:
    """plan and remediate keep check's -v promise: inputs, outputs, packs selected, a timed done line."""
    runs = {
        "plan": ["plan", "--from", "8.6", "--to", "8.7.1", str(EXAMPLES / "task-server-86.json"), "-o", str(tmp_path / "p.json")],
        "remediate": ["remediate", str(EXAMPLES / "task-server-86.json"), "--target", "8.7.1", "-o", str(tmp_path / "scripts")],
    }
    for name, args in runs.items():
        _, _, quiet = cli(*args)
        assert "[info" not in quiet, name
        code, _, err = cli("-v", *args)
        assert re.search(r"\[info\s*\] input .*format=facts path=.*task-server-86\.json", err), (name, err)
        assert re.search(r"\[info\s*\] output .*path=", err), (name, err)
        assert re.search(r"\[info\s*\] packs selected .*itms-8\.7\.1[ @]\d+\.\d+\.\d+.*version=8\.7\.1", err), (name, err)
        assert re.search(r"\[info\s*\] done .*exit_code=%d .*hosts=1 .*seconds=[\d.]+" % code, err), (name, err)
        assert "[debug" not in err, name
    _, _, debug = cli("-vv", *runs["plan"])
    assert re.search(r"\[debug\s*\] host .*name=TS-MAD-04 .*state=BLOCKED", debug), debug
    _, _, debug = cli("-vv", *runs["remediate"])
    assert re.search(r"\[debug\s*\] pack .*id=itms-base", debug), debug


# --- item 4: help ----------------------------------------------------------------------

TYPE_PLACEHOLDER = re.compile(r"<(?:list\[[^\]]*\]|str|int|float|bool|path|text|[a-z]+ range|[a-z_]+(?:\|[a-z_]+)+)>", re.I)
BRACED = re.compile(r"\{[A-Za-z_.]+\}")


def _commands() -> list[tuple[list[str], object]]:
    root = typer.main.get_command(app)
    found: list[tuple[list[str], object]] = []

    def walk(path: list[str], cmd: object) -> None:
        found.append((path, cmd))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk([*path, name], sub)

    walk([], root)
    return found


def test_every_command_is_covered() -> None:
    names = {" ".join(p) for p, _ in _commands()}
    assert {"check", "audit", "plan", "remediate", "import", "collect", "explain", "schema",
            "policies list", "policies show", "policies validate", "policies test"} <= names


@pytest.mark.parametrize("path", [p for p, _ in _commands()], ids=lambda p: " ".join(p) or "sitegate")
def test_help_has_placeholders_and_a_text_for_every_option(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert not TYPE_PLACEHOLDER.search(text), TYPE_PLACEHOLDER.search(text)
    assert not BRACED.search(text), BRACED.search(text)
    cmd = dict((tuple(p), c) for p, c in _commands())[tuple(path)]
    for param in cmd.params:  # type: ignore[attr-defined]
        if param.param_type_name == "option" and not param.hidden:
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts[0]} has no help text"
            if not param.is_flag and not param.count:
                # A value is named: FILE, DIR, VERSION, FORMAT... or its choices [a|b].
                long = max(param.opts, key=len)
                assert re.search(rf"{re.escape(long)} (?:[A-Z][A-Z_.]*|\[[a-z|]+\])", text), (path, long)
        elif param.param_type_name == "argument":
            assert param.metavar and param.metavar.isupper(), (path, param.name)
            assert (getattr(param, "help", "") or "").strip(), (path, param.name)


def _help(*command: str) -> str:
    """A command's help with its lines joined (click wraps at 80 columns)."""
    return " ".join(CliRunner().invoke(app, [*command, "--help"]).output.split())


def test_choices_are_listed_in_help() -> None:
    check = _help("check")
    assert "--sarif-profile [github|full]" in check
    assert re.search(r"--input-format FORMAT\s+Read every input as json, jsonl, csv or powershell", check)
    assert "--color [auto|always|never]" in check
    imp = _help("import")
    assert re.search(r"--from FORMAT\s+Input format: json, jsonl, csv or powershell", imp)
    for command in (["check"], ["audit"], ["plan"], ["remediate"], ["explain"], ["policies", "list"], ["policies", "show"]):
        text = _help(*command)
        assert re.search(r"--policy-dir DIR\s+Extra directory of policy packs", text), command


def test_shell_completion_is_offered() -> None:
    runner = CliRunner()
    assert "--install-completion" in runner.invoke(app, ["--help"]).output
    # The installed entry point in a process of its own, as a shell would run it (an
    # in-process run shares click's completion registry with every other test).
    exe = Path(sys.executable).with_name("sitegate")
    script = subprocess.run([str(exe), "--show-completion", "bash"], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0, script.stderr
    assert "_SITEGATE_COMPLETE=complete_bash" in script.stdout and "complete -o default -F _sitegate_completion sitegate" in script.stdout


def test_completion_offers_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    def complete(words: str) -> list[str]:
        env = {**os.environ, "_SITEGATE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
        proc = subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = 'sitegate'; from sitegate.cli.main import app; app(prog_name='sitegate')"],
                              env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
        return proc.stdout.split()

    assert complete("sitegate check --sarif-profile ") == ["github", "full"]
    assert complete("sitegate import --from c") == ["csv"]
    assert "check" in complete("sitegate ch")


def test_zip_fixture_is_what_the_tests_think() -> None:
    with zipfile.ZipFile(WS10_ZIP) as zf:
        assert any(n.endswith("os.json") for n in zf.namelist())


def test_plan_to_files_prints_its_verdict_line(cli, tmp_path: Path) -> None:
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"name": "a"}\nnot json\n')
    out_file = tmp_path / "p.json"
    code, out, err = cli("plan", str(EXAMPLES / "fleet.json"), str(bad), "--to", "8.7.3", "-o", str(out_file))
    assert out == "" and code == 2
    summary = json.loads(out_file.read_text())["summary"]
    m = VERDICT_LINE.search(err)
    assert m, err
    assert (int(m[1]), int(m[3])) == (summary["hosts"], summary["hosts_rejected"]) == (6, 1)
    assert m[5] == summary["verdict"] and int(m[6]) == summary["exit_code"] == 2


def test_verbose_logs_show_escape_sequences_in_names_without_obeying_them(cli, tmp_path: Path) -> None:
    odd = tmp_path / "fleet\x1b]0;owned\x07.json"
    shutil.copyfile(EXAMPLES / "fleet.json", odd)
    code, _, err = cli("-vv", "check", str(odd), "--target", "8.7.3", "-o", str(tmp_path / "r.json"))
    assert code == 1
    assert "reading" in err and "\\x1b]0;owned" in err
    assert "\x1b" not in err and "\x07" not in err


def test_import_without_from_reads_each_input_by_its_name(cli, tmp_path: Path) -> None:
    together, zip_only, csv_only, facts_only = (tmp_path / f"{n}.jsonl" for n in ("all", "zip", "csv", "facts"))
    code, _, err = cli("import", str(EXAMPLES / "fleet.json"), str(WS10_ZIP), str(MESSY_CSV), "-o", str(together))
    assert code == 2  # messy.csv has two rejected rows: the others are written
    assert "sitegate import: 11 record(s) read, 9 written, 2 rejected" in err
    cli("import", "--from", "json", str(EXAMPLES / "fleet.json"), "-o", str(facts_only))
    cli("import", "--from", "powershell", str(WS10_ZIP), "-o", str(zip_only))
    cli("import", "--from", "csv", str(MESSY_CSV), "-o", str(csv_only))
    assert together.read_text() == facts_only.read_text() + zip_only.read_text() + csv_only.read_text()
    code, _, err = cli("import", str(EXAMPLES / "fleet.json"), "--mapping", str(IMPORTER_DATA / "csv" / "mapping.yaml"), "-o", str(tmp_path / "x.jsonl"))
    assert code == 2 and "applies to CSV inputs" in err
