"""A pack for versions no known ITMS release is in (a future release, or the
benchmark pack's ">=99,<100") is reviewed and its examples run at a version of
its own range, not at the newest known release, which its range leaves out."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitegate.engine.examples import KNOWN_RELEASES, representative_target
from sitegate.engine.packs import load_policies

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks" / "engines" / "sitegate-checks"


def test_the_target_of_a_pack_is_inside_its_range() -> None:
    ps, diags = load_policies([str(BENCH)])
    assert not diags
    assert representative_target(ps.effective["bench-baseline-checks"]) == "99"
    assert representative_target(ps.effective["itms-8.7.3"]) == "8.7.3"


@pytest.mark.parametrize(("applies_to", "expected"), [(">=99,<100", "99"), ("==12.1", "12.1"), (">9.0,<=9.5", "9.5"), ("~=10.2", "10.2")])
def test_a_version_from_the_range_itself(applies_to: str, expected: str) -> None:
    class Pack:  # representative_target reads only the range
        pass

    p: Any = Pack()
    p.applies_to = applies_to
    assert expected not in KNOWN_RELEASES
    assert representative_target(p) == expected


def test_show_compiled_works_for_the_benchmark_pack(cli: Any) -> None:
    code, out, err = cli("policies", "show", "bench-baseline-checks", "--policy-dir", str(BENCH), "--compiled", "BENCH-OS-BUILD-SUPPORTED")
    assert code == 0, err
    assert out.startswith("# BENCH-OS-BUILD-SUPPORTED, compiled for ITMS 99 (bench-baseline-checks@1.0.0)")
    assert "def rules(f):" in out
