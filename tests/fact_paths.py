"""Writing a value at a dotted fact path of a host's facts, for tests that build facts."""
from __future__ import annotations

from typing import Any


def put(facts: dict[str, Any], path: str, value: Any, *, none_removes: bool = False) -> None:
    """Set ``facts[a][b]...[last] = value``, making (or replacing by) objects on the way.
    ``none_removes``: None takes the fact away instead of writing null."""
    *head, last = path.split(".")
    o = facts
    for part in head:
        nxt = o.get(part)
        if not isinstance(nxt, dict):
            nxt = o[part] = {}
        o = nxt
    if value is None and none_removes:
        o.pop(last, None)
    else:
        o[last] = value
