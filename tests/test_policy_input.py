"""Bad policies: every error found, each with file:line:col; the gate never runs on them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitegate.base.diagnostics import InputError
from sitegate.engine.packs import load_policies

from .conftest import run_sitegate

HEADER = """\
schema: sitegate/policy/v1
id: custom
version: "1.0.0"
title: Custom
applies_to: ">=8.5"
sources:
  - {id: s, title: S, url: "https://example.com/s", confidence: high}
"""

RULE = """\
  - id: CUSTOM-ONE
    title: One
    description: d
    severity: error
    confidence: high
    source: https://example.com/s
    assert: {fact: agent.managed, op: eq, value: true}
    message: "{host}: {observed}"
    remediation: r
    examples:
      pass: [{facts: {agent: {managed: true}}}]
      fail: [{facts: {agent: {managed: false}}}]
"""


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    d = tmp_path / "pol"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return d


def errors_of(d: Path) -> list:
    with pytest.raises(InputError) as exc:
        load_policies([str(d)])
    return [x for x in exc.value.diagnostics if x.level.value == "error"]


def test_valid_custom_pack_loads(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules:\n" + RULE)
    ps, warnings = load_policies([str(d)])
    assert "custom" in ps.effective and not warnings


def test_version_as_float_is_a_load_error(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER.replace('version: "1.0.0"', "version: 8.10") + "rules:\n" + RULE)
    (e,) = errors_of(d)
    assert e.line == 3 and "read as 8.1" in e.message and "'8.10'" in e.message


def test_value_version_float_is_a_load_error(tmp_path: Path) -> None:
    rule = RULE.replace("{fact: agent.managed, op: eq, value: true}", "{fact: agent.version, op: version_ge, value: 8.10}")
    d = write(tmp_path, HEADER + "rules:\n" + rule.replace("managed: true}", "version: '8.10'}").replace("managed: false}", "version: '8.9'}"))
    errs = errors_of(d)
    assert any("read as 8.1" in e.message and e.line == 15 for e in errs), [e.format() for e in errs]


def test_all_errors_reported_not_only_the_first(tmp_path: Path) -> None:
    bad = RULE.replace("severity: error", "severity: critical").replace("agent.managed", "agent.manged").replace("title: One\n", "title: One\n    colour: red\n")
    d = write(tmp_path, HEADER + "rules:\n" + bad)
    errs = errors_of(d)
    texts = " | ".join(e.format() for e in errs)
    assert "critical" in texts and "colour" in texts, texts
    assert all(e.line > 0 and e.column > 0 for e in errs)


def test_unknown_fact_suggests(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules:\n" + RULE.replace("agent.managed", "agent.manged"))
    (e,) = errors_of(d)
    assert "unknown fact 'agent.manged'" in e.message and "agent.managed" in e.message and e.line == 15


def test_duplicate_rule_id(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules:\n" + RULE + RULE)
    errs = errors_of(d)
    assert any(e.code == "duplicate-rule" and "first at line 9" in e.message for e in errs)


def test_python_object_tag_refused(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules: !!python/object/apply:os.system ['echo pwned']\n")
    (e,) = errors_of(d)
    assert e.code == "yaml-tag" and e.line == 8


def test_billion_laughs_bounded(tmp_path: Path) -> None:
    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lol += f"{cur}: &{cur} [{','.join(['*' + prev] * 9)}]\n"
    d = write(tmp_path, lol)
    (e,) = errors_of(d)
    assert e.code == "too-large"


def test_malformed_yaml(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules:\n  - id: [unclosed\n")
    (e,) = errors_of(d)
    assert e.code == "yaml-syntax" and e.line >= 9


def test_bad_regex_and_specifier(tmp_path: Path) -> None:
    rule = RULE.replace("{fact: agent.managed, op: eq, value: true}", "{fact: os.caption, op: matches, value: '(unclosed'}")
    d = write(tmp_path, HEADER.replace('">=8.5"', '"at least 8.5"') + "rules:\n" + rule)
    errs = errors_of(d)
    assert {e.line for e in errs} == {5, 15}, [e.format() for e in errs]


def test_operand_type_checked(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules:\n" + RULE.replace("{fact: agent.managed, op: eq, value: true}", "{fact: dotnet.release, op: ge, value: '528040'}"))
    (e,) = errors_of(d)
    assert "needs a number" in e.message


def test_message_placeholder_checked(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules:\n" + RULE.replace("{host}: {observed}", "{host}: {__class__}"))
    (e,) = errors_of(d)
    assert "unknown placeholder" in e.message


def test_policy_dir_skips_are_reported(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER + "rules:\n" + RULE)
    (d / "notes.txt").write_text("hello")
    outside = tmp_path / "outside.yaml"
    outside.write_text(HEADER.replace("id: custom", "id: outside") + "rules:\n" + RULE.replace("CUSTOM-ONE", "OUT-ONE"))
    (d / "link.yaml").symlink_to(outside)
    with pytest.raises(InputError) as exc:
        load_policies([str(d)])  # a skipped pack is never a green run
    texts = [x.format() for x in exc.value.diagnostics]
    assert any("notes.txt: warning:" in t and "skipped" in t for t in texts)
    assert any("link.yaml: error:" in t and "out of the policy directory" in t for t in texts)


def test_cli_bad_policy_exit_2_no_traceback(tmp_path: Path) -> None:
    d = write(tmp_path, HEADER.replace('version: "1.0.0"', "version: 8.10") + "rules:\n" + RULE)
    proc = run_sitegate("check", "examples/fleet.json", "--target", "8.7.3", "--policy-dir", str(d))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "p.yaml:3:" in proc.stderr and "nothing was evaluated" in proc.stderr
    proc = run_sitegate("policies", "validate", str(d))
    assert proc.returncode == 2 and "p.yaml:3:" in proc.stderr


def test_cli_policy_dir_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text(HEADER)
    proc = run_sitegate("check", "examples/fleet.json", "--policy-dir", str(f))
    assert proc.returncode == 2 and "is not a directory" in proc.stderr


def test_libyaml_composer_reads_what_the_python_composer_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bundled pack and every corpus policy: the same data, positions and float texts,
    or the same diagnostics, with libyaml's composer and with PyYAML's own."""
    from importlib import resources

    import yaml

    from sitegate.base import yamlload

    paths = [p for p in resources.files("sitegate.policies").iterdir() if p.name.endswith(".yaml")]
    corpus = Path(__file__).parent / "corpus" / "policies"
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in paths]
    texts += [(p.name, p.read_text(encoding="utf-8", errors="replace")) for p in sorted(corpus.glob("*.yaml"))]
    assert yamlload._COMPOSER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def load(name: str, text: str) -> Any:
        try:
            doc = yamlload.load_yaml_text(text, name)
            return ("doc", doc.data, doc.positions, doc.float_text)
        except InputError as exc:
            return ("error", [(d.message.split(":")[0], d.line, d.code) for d in exc.diagnostics])

    fast = [load(n, t) for n, t in texts]
    monkeypatch.setattr(yamlload, "_COMPOSER", yaml.SafeLoader)
    slow = [load(n, t) for n, t in texts]
    assert len(fast) > 15 and sum(1 for f in fast if f[0] == "doc") > 9
    for (name, _), a, b in zip(texts, fast, slow):
        assert a == b, name


@pytest.mark.parametrize("text", [
    "a: &a [*a]\n",  # an alias to its own enclosing node
    "".join(f"a{i}: &a{i} [{'*a%d' % (i - 1) if i else 1}]\n" for i in range(300)),  # nesting through aliases
    "x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 300)) + "  " * 300 + "v: 1\n",  # block mappings
    "- " * 5000 + "v\n",  # beyond libyaml's own limit
])
def test_deep_nesting_is_one_clear_error(text: str) -> None:
    from sitegate.base.yamlload import load_yaml_text

    with pytest.raises(InputError) as exc:
        load_yaml_text(text, "deep.yaml")
    assert [d.message for d in exc.value.diagnostics] == ["the document nests too deeply"]
