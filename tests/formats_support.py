"""Shared helpers for the output-format tests: fixed clocks, golden files, validators.

Goldens are real files under ``tests/__snapshots__/<test file>/`` (``.sarif``,
``.xml``, ``.md``), rendered from ``examples/fleet.json`` with the *bundled*
policy packs. When packs change, regenerate them and review the diff::

    python -m pytest tests/test_sarif.py tests/test_junit.py tests/test_markdown.py --snapshot-update
"""
from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import xmlschema
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from sitegate.engine.evaluate import evaluate_stream
from sitegate.engine.options import Options
from sitegate.engine.model import FailOn
from sitegate.engine.render import Format, RenderOptions, make_renderer
from sitegate.facts.load import iter_file

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DATA = Path(__file__).resolve().parent / "data"
VENDOR = REPO / "schemas" / "vendor"
# ../shared beside the checkout (/work/main -> /work/shared; a worktree /work/wt/NAME
# has /work/wt/shared beside it): never an absolute path.
SHARED_SCHEMAS = REPO.parent / "shared" / "format-schemas"

FIXED_START = datetime(2026, 11, 20, 9, 30, 0, tzinfo=timezone.utc)
AUDIT_DATE = "2026-11-20"
TARGET = "8.7.3"

SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
JUNIT_XSD_SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"


class SarifSnapshot(SingleFileSnapshotExtension):
    """Golden .sarif files (text)."""

    _write_mode = WriteMode.TEXT
    file_extension = "sarif"


class XmlSnapshot(SingleFileSnapshotExtension):
    """Golden .xml files (text)."""

    _write_mode = WriteMode.TEXT
    file_extension = "xml"


class MarkdownSnapshot(SingleFileSnapshotExtension):
    """Golden .md files (text)."""

    _write_mode = WriteMode.TEXT
    file_extension = "md"


def fixed_now() -> datetime:
    return FIXED_START


def fleet_items(path: Path | None = None, display: str = "examples/fleet.json") -> Iterable[Any]:
    return iter_file(str(path or EXAMPLES / "fleet.json"), display, locate=True)


def options(**kw: Any) -> Options:
    base: dict[str, Any] = dict(
        target=TARGET,
        locate=True,
        full_outcomes=True,
        audit_date=AUDIT_DATE,
        now=fixed_now,
        inputs=("examples/fleet.json",),
    )
    base.update(kw)
    return Options(**base)


def render_many(items: Iterable[Any], policies: Any, opts: Options, formats: dict[str, tuple[Format, RenderOptions]]) -> dict[str, str]:
    """Evaluate once, render into several formats (as the CLI does)."""
    stream = evaluate_stream(items, policies, opts)
    renderers = {k: make_renderer(f, ro) for k, (f, ro) in formats.items()}
    parts: dict[str, list[str]] = {k: [r.start(stream.header)] for k, r in renderers.items()}
    for h in stream.hosts:
        for k, r in renderers.items():
            parts[k].append(r.host(h))
    for k, r in renderers.items():
        parts[k].append(r.finish(stream.summary))
    return {k: "".join(v) for k, v in parts.items()}


def render_one(fmt: Format, policies: Any, opts: Options | None = None, items: Iterable[Any] | None = None, **ro: Any) -> str:
    return render_many(items if items is not None else fleet_items(), policies, opts or options(), {"x": (fmt, RenderOptions(**ro))})["x"]


@lru_cache(maxsize=1)
def report_validator() -> jsonschema.Draft202012Validator:
    """The JSON report's schema (v2), the one ``sitegate schema report`` prints."""
    return jsonschema.Draft202012Validator(json.loads((REPO / "schemas" / "report.v2.schema.json").read_text("utf-8")))


def report_findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding of a v2 JSON report, with its host's name (``host``) and the severity and
    confidence the rules table gives its rule unless the finding gives its own."""
    rules = {r["id"]: r for r in doc["rules"]}
    return [
        {"host": h["name"], "severity": rules[f["rule_id"]]["severity"], "confidence": rules[f["rule_id"]]["confidence"], **f}
        for h in doc["hosts"] for f in h.get("findings", ())
    ]


@lru_cache(maxsize=1)
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((VENDOR / "sarif-schema-2.1.0.json").read_text("utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def assert_valid_sarif(text: str) -> dict[str, Any]:
    """Valid JSON, valid against the OASIS schema, and inside GitHub's documented requirements."""
    doc = json.loads(text)
    errors = sorted(sarif_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]]
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sitegate" and driver["fullName"] and driver["semanticVersion"]
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for r in driver["rules"]:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"] and r["help"]["markdown"]
        assert len(r["properties"]["tags"]) <= 10
        assert r["properties"]["precision"] in ("very-high", "high", "medium", "low")
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert run["automationDetails"]["id"].endswith("/")
    for res in run["results"]:
        assert res["ruleId"] in ids and ids[res["ruleIndex"]] == res["ruleId"]
        assert res["message"]["text"].strip()
        loc = res["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"]["uri"]
        assert loc["physicalLocation"]["region"]["startLine"] >= 1
        assert loc["logicalLocations"][0]["kind"] == "resource"
        plh = res["partialFingerprints"]["primaryLocationLineHash"]
        assert len(plh) == 18 and plh.endswith(":1") and int(plh[:16], 16) >= 0
        if res["level"] != "none":
            assert res["kind"] == "fail"
    inv = run["invocations"][0]
    assert isinstance(inv["exitCode"], int) and inv["startTimeUtc"] and inv["endTimeUtc"]
    return doc


@lru_cache(maxsize=2)
def _xsd(path: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(path)


def assert_valid_junit(text: str) -> None:
    """Valid against the vendored junit-10.xsd; and, when the shared copy is present, against the
    stricter Ant XSD but for the one element outside its profile: a passing case's ``<system-out>``
    (junit-10.xsd allows system-out in a testcase, the Ant XSD in a testsuite only)."""
    errors = list(_xsd(str(VENDOR / "junit-10.xsd")).iter_errors(text))
    assert not errors, [str(e.reason) for e in errors[:10]]
    ant = SHARED_SCHEMAS / "JUnit-ant-windyroad.xsd"
    if ant.exists():
        root = ET.fromstring(text.encode("utf-8"))
        for case in root.iter("testcase"):
            outs = case.findall("system-out")
            # Only a passing case (no failure, error or skipped) carries one, and only one.
            assert len(outs) <= 1 and (not outs or len(case) == 1), ET.tostring(case)[:300]
            for out in outs:
                case.remove(out)
        errors = list(_xsd(str(ant)).iter_errors(ET.tostring(root, encoding="unicode")))
        assert not errors, [str(e.reason) for e in errors[:10]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


__all__ = ["FailOn"]
