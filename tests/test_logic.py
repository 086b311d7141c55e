"""Three-valued composition: unknown is never turned into a pass."""
from __future__ import annotations

import pytest

from sitegate.engine.compiler import FAIL, PASS, UNKNOWN, compile_condition
from sitegate.engine.policy import AllOf, AnyOf, Leaf, NotOf

P = Leaf(fact="agent.managed", op="eq", value=True)  # passes on facts below
F = Leaf(fact="agent.local", op="eq", value=True)  # fails
U = Leaf(fact="agent.cem_mode", op="eq", value=False)  # unknown (missing)
FACTS = {"agent": {"managed": True, "local": False}, "derived": {}}


@pytest.mark.parametrize(
    "cond,expected",
    [
        (AllOf(all=(P, P)), PASS),
        (AllOf(all=(P, F)), FAIL),
        (AllOf(all=(P, U)), UNKNOWN),
        (AllOf(all=(U, F)), FAIL),
        (AnyOf(any=(F, P)), PASS),
        (AnyOf(any=(F, F)), FAIL),
        (AnyOf(any=(F, U)), UNKNOWN),
        (AnyOf(any=(U, P)), PASS),
        (NotOf(**{"not": P}), FAIL),
        (NotOf(**{"not": F}), PASS),
        (NotOf(**{"not": U}), UNKNOWN),
        (AllOf(all=(AnyOf(any=(F, U)), P)), UNKNOWN),
    ],
)
def test_composition(cond: object, expected: int) -> None:
    node = compile_condition(cond, {})  # type: ignore[arg-type]
    assert node.fast(FACTS) == expected
    code, evidence = node.explain(FACTS)
    assert code == expected
    if expected != PASS:
        assert evidence, "a non-pass must carry evidence"
