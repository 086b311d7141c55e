"""Shared fixtures of the importer tests: recorded inputs and the facts schema validator."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder of recorded inputs."""
    return DATA


@pytest.fixture(scope="session")
def facts_validator() -> Draft202012Validator:
    """The published facts schema (schemas/facts.v1.schema.json), Draft 2020-12."""
    schema: dict[str, Any] = json.loads((ROOT / "schemas" / "facts.v1.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
