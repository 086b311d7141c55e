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


# Composition with 1 to 4 children, each pass (P), fail (F), unknown (U: a missing
# fact) or error (E: a value the operator cannot compare); the result is written
# out by hand. all: any fail fails, else error, else unknown, else pass.
# any: any pass passes, else error, else unknown, else fail. not swaps pass and fail.
E = Leaf(fact="os.caption", op="version_ge", value="8.7")  # error: "Windows" is no version
LEAVES = {"P": P, "F": F, "U": U, "E": E}
WIDE_FACTS = {**FACTS, "os": {"caption": "Windows"}}
NAMES = {"pass": PASS, "fail": FAIL, "unknown": UNKNOWN, "error": 3}

ALL_ROWS = [
    ("P", "pass"), ("F", "fail"), ("U", "unknown"), ("E", "error"),
    ("PP", "pass"), ("PF", "fail"), ("FP", "fail"), ("PU", "unknown"), ("UP", "unknown"), ("UF", "fail"), ("FU", "fail"),
    ("UE", "error"), ("EU", "error"), ("EF", "fail"), ("PE", "error"),
    ("PPP", "pass"), ("PPF", "fail"), ("FPP", "fail"), ("PFP", "fail"), ("PPU", "unknown"), ("UPP", "unknown"),
    ("PUP", "unknown"), ("UUF", "fail"), ("UUU", "unknown"), ("PPE", "error"), ("UEP", "error"), ("EUU", "error"),
    ("FFF", "fail"), ("UFE", "fail"), ("EEF", "fail"),
    ("PPPP", "pass"), ("PPPF", "fail"), ("FPPP", "fail"), ("PPFP", "fail"), ("PPPU", "unknown"), ("UPPP", "unknown"),
    ("PUPU", "unknown"), ("PPUF", "fail"), ("UUUF", "fail"), ("PPPE", "error"), ("EPPU", "error"), ("PUPE", "error"),
    ("FFFF", "fail"), ("UUUU", "unknown"), ("EEEE", "error"), ("UEPF", "fail"),
]
ANY_ROWS = [
    ("P", "pass"), ("F", "fail"), ("U", "unknown"), ("E", "error"),
    ("FF", "fail"), ("FP", "pass"), ("PF", "pass"), ("FU", "unknown"), ("UF", "unknown"), ("UP", "pass"), ("PU", "pass"),
    ("UE", "error"), ("EU", "error"), ("EF", "error"), ("EP", "pass"),
    ("FFF", "fail"), ("FFP", "pass"), ("PFF", "pass"), ("FPF", "pass"), ("FFU", "unknown"), ("UFF", "unknown"),
    ("UUU", "unknown"), ("UUP", "pass"), ("FFE", "error"), ("UEF", "error"), ("EUU", "error"), ("PPP", "pass"),
    ("FFFF", "fail"), ("FFFP", "pass"), ("PFFF", "pass"), ("FFPF", "pass"), ("FFFU", "unknown"), ("UFFF", "unknown"),
    ("UUUP", "pass"), ("FUFU", "unknown"), ("FFFE", "error"), ("EFFU", "error"), ("UUUU", "unknown"), ("EEEE", "error"),
    ("UEFP", "pass"),
]
NOT_ROWS = [("P", "fail"), ("F", "pass"), ("U", "unknown"), ("E", "error")]


def _check(cond: object, expected: str) -> None:
    node = compile_condition(cond, {})  # type: ignore[arg-type]
    assert node.fast(WIDE_FACTS) == NAMES[expected]
    code, evidence = node.explain(WIDE_FACTS)
    assert code == NAMES[expected]
    if expected == "pass":
        assert evidence == []
    else:
        assert evidence, "a non-pass must carry evidence"


@pytest.mark.parametrize("kids,expected", ALL_ROWS)
def test_all_of_one_to_four(kids: str, expected: str) -> None:
    _check(AllOf(all=tuple(LEAVES[k] for k in kids)), expected)
    # the same children inside `not`: pass and fail swap, unknown and error stay
    swapped = {"pass": "fail", "fail": "pass"}.get(expected, expected)
    _check(NotOf(**{"not": AllOf(all=tuple(LEAVES[k] for k in kids))}), swapped)


@pytest.mark.parametrize("kids,expected", ANY_ROWS)
def test_any_of_one_to_four(kids: str, expected: str) -> None:
    _check(AnyOf(any=tuple(LEAVES[k] for k in kids)), expected)
    swapped = {"pass": "fail", "fail": "pass"}.get(expected, expected)
    _check(NotOf(**{"not": AnyOf(any=tuple(LEAVES[k] for k in kids))}), swapped)


@pytest.mark.parametrize("kid,expected", NOT_ROWS)
def test_not(kid: str, expected: str) -> None:
    _check(NotOf(**{"not": LEAVES[kid]}), expected)
    _check(NotOf(**{"not": NotOf(**{"not": LEAVES[kid]})}), {"P": "pass", "F": "fail", "U": "unknown", "E": "error"}[kid])


@pytest.mark.parametrize(
    "cond,expected",
    [
        (AllOf(all=(AnyOf(any=(F, F, P)), P, NotOf(**{"not": F}))), "pass"),
        (AllOf(all=(AnyOf(any=(F, F, U)), P, NotOf(**{"not": F}))), "unknown"),
        (AllOf(all=(AnyOf(any=(F, F, U)), P, NotOf(**{"not": P}))), "fail"),
        (AnyOf(any=(AllOf(all=(P, P, U)), AllOf(all=(P, F, P)), F)), "unknown"),
        (AnyOf(any=(AllOf(all=(P, P, U)), AllOf(all=(P, P, P)), F)), "pass"),
        (AnyOf(any=(NotOf(**{"not": AllOf(all=(P, P, P, F))}), U)), "pass"),
        (NotOf(**{"not": AnyOf(any=(AllOf(all=(P, U, P)), F, F))}), "unknown"),
        (AllOf(all=(AllOf(all=(P, P, P)), AllOf(all=(P, P, P, P)), AnyOf(any=(F, F, F, P)))), "pass"),
        (AllOf(all=(AllOf(all=(P, P, P)), AllOf(all=(P, P, P, P)), AnyOf(any=(F, F, F, F)))), "fail"),
    ],
)
def test_nested_composition(cond: object, expected: str) -> None:
    _check(cond, expected)
