"""Only the derived facts a run reads are computed, and no output changes for it.

``facts.normalize.derive(host, only)`` computes the derived facts named in ``only``
(``engine.rules.derived_needed``: what the loaded packs' rules read, plus the roles
and OS name every host result carries, plus what capacity records read). These
tests run the same inputs with every derived fact computed and with only the
needed ones, for every bundled target and the benchmark pack, in every output
format, on the example facts and on a generated fleet, and require the same bytes.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sitegate.engine import evaluate as evaluate_mod
from sitegate.engine import parallel as parallel_mod
from sitegate.engine import run as run_mod
from sitegate.engine.examples import KNOWN_RELEASES
from sitegate.engine.packs import load_policies
from sitegate.engine.render import Format, RenderOptions
from sitegate.engine.rules import derived_needed
from sitegate.engine.run import RunOptions, run
from sitegate.facts.normalize import DERIVED_NAMES, derive

from .test_audit import generate

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = [str(REPO / "examples" / n) for n in ("fleet.json", "package-server-2012r2.json", "task-server-86.json")]
CHECKS = str(REPO / "benchmarks" / "engines" / "sitegate-checks")
FIXED = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
OUTPUTS = tuple((f, RenderOptions()) for f in Format)
PS, _ = load_policies()
TARGETS = [t for t in KNOWN_RELEASES if PS.select(t)]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(generate(tmp_path_factory.mktemp("derive") / "fleet.jsonl", 400, seed=13, broken=0.02))


def _outputs(inputs: list[str], monkeypatch: pytest.MonkeyPatch, full: bool, **kw: Any) -> tuple[list[bytes], int]:
    with monkeypatch.context() as m:
        if full:
            for mod in (run_mod, evaluate_mod, parallel_mod):
                m.setattr(mod, "derived_needed", lambda *a, **k: None)
        r = run(inputs, RunOptions(outputs=OUTPUTS, audit_date="2026-11-25", now=lambda: FIXED, **kw))
        texts = [bytearray() for _ in OUTPUTS]
        for item in r:
            for buf, part in zip(texts, item.parts):
                buf += part if isinstance(part, bytes) else part.encode()
        return [bytes(t) for t in texts], r.exit_code


def _same(inputs: list[str], monkeypatch: pytest.MonkeyPatch, **kw: Any) -> None:
    full, full_code = _outputs(inputs, monkeypatch, True, **kw)
    some, some_code = _outputs(inputs, monkeypatch, False, **kw)
    assert some_code == full_code
    for fmt, a, b in zip(Format, full, some):
        assert a == b, f"{fmt.value} differs"
    assert all(full)


@pytest.mark.parametrize("target", TARGETS)
def test_every_bundled_target_and_format_on_the_examples_and_a_fleet(target: str, fleet: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same([*EXAMPLES, fleet], monkeypatch, target=target)


def test_each_host_its_own_target(fleet: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same([*EXAMPLES, fleet], monkeypatch)


# The benchmark pack (benchmarks/engines/sitegate-checks) applies to "ITMS 99", beside the bundled packs.
@pytest.mark.parametrize("target", ["99", "8.7.3", None])
def test_the_benchmark_pack_which_reads_few_derived_facts(target: str | None, fleet: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with_checks, _ = load_policies([CHECKS])
    needed = derived_needed(with_checks, "99")
    assert needed is not None and {"dotnet_version", "dotnet_display", "dotnet_upgrade", "os_display"}.isdisjoint(needed)
    _same([*EXAMPLES, fleet], monkeypatch, target=target, policy_dirs=(CHECKS,))


def test_with_two_processes(fleet: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _same([fleet], monkeypatch, target="99", policy_dirs=(CHECKS,), jobs=2)


def test_what_is_needed_besides_the_rules() -> None:
    checks, _ = load_policies([CHECKS], include_bundled=False)
    needed = derived_needed(checks)
    assert needed is not None and needed == derived_needed(checks, "99")
    assert derived_needed(checks, "8.7.3") == {"roles", "os_name"}  # no pack applies: no rule reads anything
    assert needed is not None and {"roles", "os_name"} <= needed  # plans and host results
    assert derived_needed(checks, keep_facts=True) is None  # facts kept for sitegate plan: all
    with_capacity = derived_needed(checks, capacity=True)
    assert with_capacity is not None and {"os_family", "os_name", "installed_services"} <= with_capacity
    # The bundled packs read a fact of every group: all are derived, with no test per host.
    assert derived_needed(PS) is None and derived_needed(PS, "8.7.3") is None


HOST = {
    "name": "H", "dotnet": {"release": 528040}, "os": {"build": 17763, "product_type": 3, "caption": "Microsoft Windows Server 2019"},
    "site_services": {"installed": [{"service": "task"}], "planned": ["package"]}, "iis": {"features": ["IIS-ASP", "Web-Server"]},
}


def test_derive_computes_what_it_is_asked_for() -> None:
    host: dict[str, Any] = {**HOST, "os": {**HOST["os"], "product_type": "server"}}
    full = derive(host)
    assert set(full) == DERIVED_NAMES
    for name in DERIVED_NAMES:
        some = derive(host, frozenset({name}))
        assert some[name] == full[name]
        assert {k: v for k, v in some.items()} == {k: full[k] for k in some}  # what comes along is the same
    assert derive(host, frozenset()) == {}
    assert set(derive(host, frozenset({"iis_features"}))) == {"iis_features"}
    assert set(derive(host, frozenset({"dotnet_upgrade"}))) == {"dotnet_upgrade"}
    assert set(derive(host, frozenset({"roles"}))) == {"roles", "installed_services"}


MINIMAL = """\
schema: sitegate/policy/v1
id: derive-minimal
version: "1.0.0"
title: "A pack that reads no derived fact"
description: Only memory, so a run derives only what every host result carries.
applies_to: ">=99,<100"
sources:
  - id: test
    title: a test pack
    url: https://example.invalid/test
    confidence: low
rules:
  - id: MIN-MEMORY-8G
    title: "At least 8 GB of memory"
    description: memory only.
    severity: warning
    confidence: low
    source: https://example.invalid/test
    sources: [test]
    assert: {fact: hardware.memory_mb, op: ge, value: 8192, label: memory MB}
    message: "{host}: {label} {observed}, expected {expected}"
    remediation: Add memory.
    examples:
      pass: [{facts: {hardware: {memory_mb: 8192}}}]
      fail: [{facts: {hardware: {memory_mb: 4096}}}]
"""


def test_a_pack_that_reads_no_derived_fact(tmp_path: Path, fleet: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the roles and the OS name are derived; every output still names each host's
    OS as the build says (not its caption), with and without capacity records."""
    (tmp_path / "pack.yaml").write_text(MINIMAL, encoding="utf-8")
    ps, _ = load_policies([str(tmp_path)])
    assert derived_needed(ps, "99") == {"roles", "os_name"}
    _same([*EXAMPLES, fleet], monkeypatch, target="99", policy_dirs=(str(tmp_path),))
    _same([*EXAMPLES, fleet], monkeypatch, target="99", policy_dirs=(str(tmp_path),), capacity=True)
