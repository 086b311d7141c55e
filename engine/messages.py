"""Finding messages: the one formatter of a rule's message template, and the one
list of the placeholders a template may use.

A template's ``{name}`` is a standard placeholder (:data:`STANDARD_PLACEHOLDERS`)
or a fact path, shown as a value is shown in reports (:func:`model.show`). A fact
the host does not have is never written as a value ("it reports to missing"): the
sentence says what is unknown instead (:func:`facts.normalize.missing_phrase`), and
a fact is named as the user supplies it, never by an internal derived path
(:func:`facts.normalize.user_fact`). Unknown and error outcomes get a standard
text instead of the template; an unknown one says which fact is not recorded, or
which value a table had no row for.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..facts.normalize import missing_phrase, user_fact
from .model import ERROR, MISSING, UNKNOWN, Evidence, show

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

#: Every standard placeholder and what it writes, from the first evidence, the host
#: name, the target version and the rule id. Any other name is a fact path.
STANDARD_PLACEHOLDERS: dict[str, Callable[[Evidence | None, str, str, str], str]] = {
    "host": lambda first, host, target, rule: host,
    "observed": lambda first, host, target, rule: show_fact(first.fact, first.observed) if first else "",
    "expected": lambda first, host, target, rule: first.expected if first else "",
    "detail": lambda first, host, target, rule: first.detail if first else "",
    "target": lambda first, host, target, rule: target,
    "rule": lambda first, host, target, rule: rule,
    "fact": lambda first, host, target, rule: user_fact(first.fact) if first else "",
    "label": lambda first, host, target, rule: (first.label or user_fact(first.fact)) if first else "",
}


def show_fact(path: str, value: Any) -> str:
    """A fact's value inside a sentence: the value as reports show it, or, for a
    fact the host does not have, a phrase that says so ("an unknown Notification
    Server"), never the word "missing" as if it were the value."""
    return missing_phrase(path) if value is MISSING or value is None else show(value)


def placeholder_facts(message: str) -> list[str]:
    """The fact paths a template reads (its placeholders that are not standard), in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(message) if m.group(1) not in STANDARD_PLACEHOLDERS]


def lookup_path(f: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a host's facts, or MISSING."""
    o: Any = f
    for p in path.split("."):
        if not isinstance(o, dict):
            return MISSING
        o = o.get(p)
        if o is None:
            return MISSING
    return o


class MessageTemplate:
    """A rule's message, parsed once: literal text and placeholders, in order."""

    __slots__ = ("rule_id", "title", "parts", "_host_slots", "fact_paths")

    def __init__(self, rule_id: str, title: str, message: str):
        self.rule_id = rule_id
        self.title = title
        parts: list[tuple[bool, str]] = []
        at = 0
        for m in PLACEHOLDER.finditer(message):
            if m.start() > at:
                parts.append((False, message[at:m.start()]))
            parts.append((True, m.group(1)))
            at = m.end()
        if at < len(message):
            parts.append((False, message[at:]))
        self.parts = tuple(parts)
        self._host_slots = sum(1 for is_name, text in parts if is_name and text == "host")
        #: The fact paths the template reads, in order, each once: what a
        #: :class:`PendingMessage` keeps of a host's facts.
        self.fact_paths = tuple(dict.fromkeys(text for is_name, text in parts if is_name and text not in STANDARD_PLACEHOLDERS))

    def host_slots(self, code: int) -> int:
        """How many times ``format`` writes the host name for this outcome."""
        if code == UNKNOWN or code == ERROR:
            return 1  # the standard texts start with the host, once
        return self._host_slots

    def format(self, host: str, code: int, ev: list[Evidence] | tuple[Evidence, ...], f: dict[str, Any], target: str) -> str:
        """The finding's message: the template for fails, a standard text otherwise."""
        return self.write(host, code, ev, self.capture(f), target)

    def capture(self, f: dict[str, Any]) -> tuple[Any, ...]:
        """The values of the facts the template reads (``fact_paths``; MISSING where absent)."""
        return tuple(lookup_path(f, p) for p in self.fact_paths) if self.fact_paths else ()

    def write(self, host: str, code: int, ev: list[Evidence] | tuple[Evidence, ...], values: tuple[Any, ...], target: str) -> str:
        """``format`` from captured fact values (:meth:`capture`) instead of the facts."""
        first = ev[0] if ev else None
        if code == UNKNOWN:
            why = first.detail if first and first.detail else "a fact it needs is not recorded"
            return f"{host}: cannot check '{self.title}': {why} (unknown is not a pass)"
        if code == ERROR:
            why = first.detail if first else "evaluation failed"
            return f"{host}: '{self.title}' could not be evaluated: {why}"
        out = []
        standard = STANDARD_PLACEHOLDERS
        paths = self.fact_paths
        for is_name, text in self.parts:
            if not is_name:
                out.append(text)
                continue
            write = standard.get(text)
            out.append(write(first, host, target, self.rule_id) if write is not None else show_fact(text, values[paths.index(text)]))
        return "".join(out)


# Written where the host name goes, then split on: each mark brings exactly two
# NULs, so a message with no other NUL splits unambiguously.
HOST_MARK = "\x00sitegate-host\x00"


class PendingMessage:
    """A finding's message, written only when an output asks for it.

    Most audits write the JSON report, which carries evidence but no message; a
    message is built only for the outputs that show one (SARIF, JUnit, the table,
    Markdown, HTML, plans). It keeps what the message is made of: the template,
    the outcome, the evidence, the target and the values of the facts the template
    reads (never the host's facts: a fleet's results stay small). The finding
    memo shares one per distinct set of values among hosts, so the text is
    written once, split at the host name, and joined per host
    (:meth:`render`); a text the split would make ambiguous (a NUL from a fact
    or the policy besides the marks) is written per host instead.
    """

    __slots__ = ("template", "code", "evidence", "values", "target", "_parts")

    def __init__(self, template: MessageTemplate, code: int, evidence: tuple[Evidence, ...], values: tuple[Any, ...], target: str):
        self.template = template
        self.code = code
        self.evidence = evidence
        self.values = values
        self.target = target
        self._parts: tuple[str, ...] | None | bool = False  # False: not split yet

    def parts(self) -> tuple[str, ...] | None:
        """The message split at the host name, or None when that split could be ambiguous."""
        parts = self._parts
        if parts is False:
            msg = self.template.write(HOST_MARK, self.code, self.evidence, self.values, self.target)
            slots = self.template.host_slots(self.code)
            if msg.count(HOST_MARK) != slots or msg.count("\x00") != 2 * slots:
                parts = None
            else:
                parts = tuple(msg.split(HOST_MARK))
            self._parts = parts
        return parts  # type: ignore[return-value]  # False was replaced above

    def render(self, host: str) -> str:
        """The message for this host."""
        parts = self.parts()
        if parts is None:
            return self.template.write(host, self.code, self.evidence, self.values, self.target)
        return host.join(parts)

    def __getstate__(self) -> tuple[Any, ...]:
        # Sent to and from worker processes (--jobs) without the split text.
        return (self.template, self.code, self.evidence, self.values, self.target)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.template, self.code, self.evidence, self.values, self.target = state
        self._parts = False
