"""atheris harness for the facts and policy loaders.

Every input must either load or be refused with located diagnostics; any
other exception is a bug (the fuzzer stops and writes the crashing input).
Run it with ``fuzz/run.sh`` (bounded time); see the README, "Fuzzing".
"""
from __future__ import annotations

import io
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from sitegate.base.diagnostics import InputError
    from sitegate.base.yamlload import load_yaml_text
    from sitegate.base.textio import decode
    from sitegate.facts.load import HostRecord, Rejected, iter_document, iter_jsonl

_TMP = tempfile.mkdtemp(prefix="sitegate-fuzz-")


def _check_items(items: list[object]) -> None:
    for item in items:
        assert isinstance(item, (HostRecord, Rejected)), type(item)
        if isinstance(item, Rejected):
            assert item.diagnostics, "a rejection without a reason"


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 3)
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    if which == 0:  # facts: a whole JSON document, decoded as the loader does
        try:
            text = decode(body, "<fuzz>")
        except InputError:
            return
        _check_items(list(iter_document(text, "<fuzz>", locate=True)))
    elif which == 1:  # facts: JSON Lines from bytes
        _check_items(list(iter_jsonl(io.BytesIO(body), "<fuzz>", locate=True)))
    elif which == 2:  # policies: YAML text (tags, aliases, duplicate keys, nesting)
        try:
            text = decode(body, "<fuzz>")
            load_yaml_text(text, "<fuzz>")
        except InputError as exc:
            assert exc.diagnostics and all(d.line >= 0 for d in exc.diagnostics)
    else:  # policies: a whole pack file through schema, models and semantics
        from sitegate.engine.packs import load_pack_file

        path = os.path.join(_TMP, "p.yaml")
        with open(path, "wb") as fh:
            fh.write(body)
        try:
            load_pack_file(path, "p.yaml")
        except InputError as exc:
            assert exc.diagnostics


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
