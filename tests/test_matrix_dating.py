"""The site-server matrix of every release pack is derived from dates (issue 15, item 1).

Broadcom's per-version matrix was not found, so a release pack's candidates are
the OS builds of itms-base's os_lifecycle table that Microsoft released on or
before that ITMS release (table itms_release) and still supported on that date.
These tests read the YAML files as data (not through the engine) and hold every
pack to that rule, in both directions: no candidate too new or already out of
support, and no qualifying build left out.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

POLICIES = Path(__file__).resolve().parents[1] / "policies"


def _pack(pid: str) -> dict[str, Any]:
    return yaml.safe_load((POLICIES / f"{pid}.yaml").read_text("utf-8"))


RELEASE_PACKS = sorted(
    p.stem for p in POLICIES.glob("itms-*.yaml") if p.stem != "itms-base"
)
CATALOGUE = _pack("itms-base")["tables"]["os_lifecycle"]["rows"]


def _date(text: Any) -> dt.date:
    assert isinstance(text, str), f"{text!r}: dates are quoted strings in the packs"
    return dt.date.fromisoformat(text)


def _released(pid: str) -> dt.date:
    rows = _pack(pid)["tables"]["itms_release"]["rows"]
    assert len(rows) == 1 and rows[0]["itms"] == pid.removeprefix("itms-")
    return _date(rows[0]["released"])


def test_every_release_pack_is_covered() -> None:
    assert RELEASE_PACKS == sorted(
        ["itms-8.5", "itms-8.6", "itms-8.7", "itms-8.7.1", "itms-8.7.2", "itms-8.7.3", "itms-8.8", "itms-8.8.1"]
    )


_URL = re.compile(r"^https://[^\s]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_every_catalogue_row_has_release_and_end_dates() -> None:
    for row in CATALOGUE:
        assert _date(row["released"]) < _date(row["end_date"]), row
        # Each Microsoft release date names the page it was read at, and what it says there.
        assert _URL.match(row["released_source"]), row
        assert row["released_basis"] and row["released"][:4] in row["released_basis"], row


def _date_is_sourced_or_unconfirmed(row: dict[str, Any], column: str) -> bool:
    own = row.get(f"{column}_source")
    if own is not None:
        return bool(_URL.match(str(own)))
    if _URL.match(str(row.get("source", ""))):
        return True
    return row.get("confirmed") is False and bool(row.get("basis") or row.get("note"))


@pytest.mark.parametrize("pid", RELEASE_PACKS + ["itms-base"])
def test_every_date_carries_a_source_url_or_an_unconfirmed_mark(pid: str) -> None:
    """No date ships bare: a URL it was read at, or confirmed: false with its basis."""
    dated = 0
    for name, table in _pack(pid).get("tables", {}).items():
        for row in table["rows"]:
            for column, value in row.items():
                if column.endswith("_source"):
                    assert "TODO" not in str(value), f"{pid}.{name}: {row}"
                if isinstance(value, str) and _ISO_DATE.match(value):
                    dated += 1
                    assert _date_is_sourced_or_unconfirmed(row, column), f"{pid}.{name}.{column}: {row}"
    assert dated > 0


def test_the_date_check_fails_on_a_bare_or_todo_date() -> None:
    assert not _date_is_sourced_or_unconfirmed({"released": "2020-01-01", "released_source": "TODO"}, "released")
    assert not _date_is_sourced_or_unconfirmed({"released": "2020-01-01", "confirmed": True}, "released")
    assert not _date_is_sourced_or_unconfirmed({"released": "2020-01-01", "confirmed": False}, "released")
    assert _date_is_sourced_or_unconfirmed({"released": "2020-01-01", "confirmed": False, "basis": "estimate"}, "released")


@pytest.mark.parametrize("pid", RELEASE_PACKS)
def test_each_itms_date_has_a_source_or_says_it_is_an_estimate(pid: str) -> None:
    (row,) = _pack(pid)["tables"]["itms_release"]["rows"]
    assert row["confirmed"] is False and row["basis"]
    if not _URL.match(str(row.get("source", ""))):
        assert row["estimated"] is True and "estimate" in row["basis"], row


@pytest.mark.parametrize("pid", RELEASE_PACKS)
def test_no_candidate_released_after_its_itms_release(pid: str) -> None:
    released = _released(pid)
    for row in _pack(pid)["tables"]["site_server_os"]["rows"]:
        assert _date(row["released"]) <= released, f"{pid}: {row['name']} ({row['released']}) is newer than ITMS {pid} ({released})"
        assert _date(row["end_of_support"]) > released, f"{pid}: {row['name']} was out of support when {pid} came out"


@pytest.mark.parametrize("pid", RELEASE_PACKS)
def test_candidates_are_exactly_the_builds_the_dates_allow(pid: str) -> None:
    released = _released(pid)
    expected = {
        (r["build"], r["family"]) for r in CATALOGUE
        if _date(r["released"]) <= released < _date(r["end_date"])
    }
    rows = _pack(pid)["tables"]["site_server_os"]["rows"]
    assert {(r["build"], r["family"]) for r in rows} == expected
    by_key = {(r["build"], r["family"]): r for r in CATALOGUE}
    for row in rows:
        src = by_key[(row["build"], row["family"])]
        # Each row carries the Microsoft dates it was derived from, as the catalogue has them.
        assert (row["released"], row["end_of_support"], row["name"]) == (src["released"], src["end_date"], src["name"])


@pytest.mark.parametrize("pid", RELEASE_PACKS)
def test_candidates_stay_unconfirmed_and_say_how_they_were_derived(pid: str) -> None:
    table = _pack(pid)["tables"]["site_server_os"]
    assert table["confidence"] == "low"
    for row in table["rows"]:
        # No Broadcom matrix URL exists for any candidate (TODO until one is found).
        assert row["confirmed"] is False and row["source"] == "TODO"
        assert "derived from dates" in row["note"] and row["released"] in row["note"]
    release = _pack(pid)["tables"]["itms_release"]
    assert release["confidence"] == "low"
    assert all(r["confirmed"] is False and r.get("note") for r in release["rows"])


def test_85_holds_nothing_released_after_85() -> None:
    rows = _pack("itms-8.5")["tables"]["site_server_os"]["rows"]
    builds = {(r["build"], r["family"]) for r in rows}
    # Server 2022, Windows 10 22H2, Windows 11 22H2/23H2 all came out after 8.5 and its 2019 updates.
    assert not builds & {(20348, "server"), (19045, "desktop"), (22621, "desktop"), (22631, "desktop")}
    assert (9600, "server") in builds  # Windows Server 2012 R2


def test_881_holds_server_2025_unconfirmed() -> None:
    rows = _pack("itms-8.8.1")["tables"]["site_server_os"]["rows"]
    (row,) = [r for r in rows if (r["build"], r["family"]) == (26100, "server")]
    assert row["name"] == "Windows Server 2025" and row["confirmed"] is False


def test_windows_7_and_81_lifecycle_rows_are_confirmed() -> None:
    rows = {(r["build"], r["family"]): r for r in CATALOGUE}
    for key, end in (((7601, "desktop"), "2020-01-14"), ((9600, "desktop"), "2023-01-10")):
        assert rows[key]["confirmed"] is True and rows[key]["end_date"] == end
        assert "lifecycle" in rows[key]["confirmed_by"].lower()
