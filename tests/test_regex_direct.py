"""RE2's compiled matcher called directly answers as the wrapper's search() does."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegate.engine.operators import compile_regex, regex_search

PATTERNS = [
    r"Server 20(19|22)", r"^$", r"", r"^a", r"a$", r"(?i)standard", r"\bSQL\b", r"é+", r"^\d+\.\d+(\.\d+)*$",
    r"[\x{10000}-\x{10FFFF}]", r"x*", r"(a|b)(c|d)?", r"\pL+$",
]
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["Microsoft Windows Server 2019 Standard", "", "8.7.3", "sql server", "é", "\U0001F600", "a\nb", "A"]),
)


@settings(max_examples=500, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), text=texts)
def test_direct_match_equals_the_wrappers_search(pattern: str, text: str) -> None:
    want = compile_regex(pattern).search(text) is not None
    assert regex_search(pattern)(text) is want


def test_a_lone_surrogate_fails_alike() -> None:
    for call in (lambda: compile_regex("a").search("\ud800"), lambda: regex_search("a")("\ud800")):
        try:
            call()
        except UnicodeEncodeError:
            continue
        raise AssertionError("expected UnicodeEncodeError")
