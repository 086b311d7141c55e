"""Table-driven tests of the input normalisations in sitegate.facts.normalize."""
from __future__ import annotations

from typing import Any

import pytest

from sitegate.facts import normalize as n


@pytest.mark.parametrize(
    ("text", "integer", "expected"),
    [
        ("16384", True, 16384),
        ("16,384", True, 16384),
        ("16.384", True, 16384),
        ("16 384", True, 16384),
        ("16\u00a0384", True, 16384),
        ("16'384", True, 16384),
        ("1,048,576", True, 1048576),
        ("1.048.576", True, 1048576),
        ("12,5", False, 12.5),
        ("12.5", False, 12.5),
        ("1.234,5", False, 1234.5),
        ("1,234.5", False, 1234.5),
        ("12,5", True, None),
        ("16384.0", True, 16384),
        ("-3", True, -3),
        ("lots", True, None),
        ("", True, None),
        ("1e3", False, 1000.0),
        (True, True, None),
        (42, True, 42),
        (float("nan"), False, None),
    ],
)
def test_parse_number(text: Any, integer: bool, expected: Any) -> None:
    assert n.parse_number(text, integer=integer) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("True", True), ("true", True), ("1", True), ("Yes", True), ("Y", True), ("On", True), ("Enabled", True), ("-1", True),
        ("False", False), ("0", False), ("No", False), ("off", False), ("Disabled", False),
        (True, True), (0, False), (1, True), ("maybe", None), (2, None), (None, None),
    ],
)
def test_to_bool(value: Any, expected: bool | None) -> None:
    assert n.to_bool(value) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11/25/2026 3:04:05 PM", "2026-11-25T15:04:05"),
        ("11/25/2026 3:04 AM", "2026-11-25T03:04:00"),
        ("2026-11-25 15:04:05", "2026-11-25T15:04:05"),
        ("2026-11-25 15:04:05.123", "2026-11-25T15:04:05.123"),
        ("25.11.2026 15:04", "2026-11-25T15:04:00"),
        ("25.11.2026 15:04:05", "2026-11-25T15:04:05"),
        ("25/11/2026 15:04", "2026-11-25T15:04:00"),
        ("03/04/2026", "2026-03-04T00:00:00"),  # en-US console: month first
        ("2026-11-25T15:04:05Z", "2026-11-25T15:04:05Z"),
        ("2026-11-25T15:04:05+01:00", "2026-11-25T15:04:05+01:00"),
        ("/Date(1700000000000)/", "2023-11-14T22:13:20Z"),
        ("/Date(1700000000000+0100)/", "2023-11-14T22:13:20Z"),
        ("someday", None),
        ("", None),
        ("13/13/2026", None),
    ],
)
def test_parse_datetime(text: str, expected: str | None) -> None:
    assert n.parse_datetime(text) == expected


def test_parse_datetime_mapping_format_first() -> None:
    # 04/03/2026 would read month-first; a mapping's date_format says day-first.
    assert n.parse_datetime("04/03/2026 10:00", ("%d/%m/%Y %H:%M",)) == "2026-03-04T10:00:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "workstation"), (2, "domain_controller"), (3, "server"), ("3", "server"), ("Server", "server"),
        ("Domain Controller", "domain_controller"), ("workstation", "workstation"), (7, None), ("x", None), (True, None),
    ],
)
def test_product_type(value: Any, expected: str | None) -> None:
    assert n.product_type(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("64-bit", "x64"), ("64-Bit", "x64"), ("64 bits", "x64"), ("x64", "x64"), ("AMD64", "x64"),
        ("32-bit", "x86"), ("x86", "x86"), ("ARM 64-bit Processor", "arm64"), ("ARM64", "arm64"), ("sparc", None), ("", None),
    ],
)
def test_architecture(value: str, expected: str | None) -> None:
    assert n.architecture(value) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [({"Installed": True}, True), ({"Installed": False, "InstallState": 1}, False), ({"InstallState": 1}, True),
     ({"InstallState": 0}, False), ({"InstallState": "Installed"}, True), ({"InstallState": "Available"}, False), ({}, None)],
)
def test_feature_installed(state: dict[str, Any], expected: bool | None) -> None:
    assert n.feature_installed(state) is expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [("Enabled", True), ("Disabled", False), ("DisabledWithPayloadRemoved", False), (4, True), (0, False), (2, False), ("4", True), (None, None)],
)
def test_optional_feature_enabled(state: Any, expected: bool | None) -> None:
    assert n.optional_feature_enabled(state) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Task Service", "task"), ("package server", "package"), ("NBS", "network_boot"), ("PXE", "network_boot"),
     ("network-boot", "network_boot"), ("Monitor", "monitor"), ("mail", None)],
)
def test_role(value: str, expected: str | None) -> None:
    assert n.role(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Active", "active"), ("In Stock", "in_stock"), ("on_order", "on_order"), ("RETIRED", "retired"), ("Scrapped", None)],
)
def test_asset_status(value: str, expected: str | None) -> None:
    assert n.asset_status(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", True), ("NULL", True), ("null", True), (" (null) ", True), ("N/A", True), (None, True), ("0", False), (0, False)],
)
def test_is_missing(value: Any, expected: bool) -> None:
    assert n.is_missing(value) is expected


@pytest.mark.parametrize(
    ("caption", "edition"),
    [("Microsoft Windows Server 2019 Datacenter", "Datacenter"), ("Microsoft Windows Server 2022 Standard", "Standard"),
     ("Microsoft Windows 10 Pro", "Pro"), ("Microsoft Windows 11 Enterprise", "Enterprise"), ("Windows 7 Professional ", "Pro"),
     ("Something else", None)],
)
def test_os_edition(caption: str, edition: str | None) -> None:
    assert n.os_edition(caption) == edition


@pytest.mark.parametrize(
    ("value", "version", "build"),
    [("10.0.17763", "10.0.17763", 17763), ("10.0.19045.5131", "10.0.19045", 19045), ("6.3", "6.3", None), ("n/a", None, None)],
)
def test_os_version_and_build(value: str, version: str | None, build: int | None) -> None:
    assert n.os_version(value) == version
    assert n.build_from_version(version) == build


def test_units() -> None:
    assert n.to_mb(16777216, "kb") == 16384
    assert n.to_mb(17179869184, "bytes") == 16384
    assert n.to_mb(16, "GB") == 16384
    assert n.to_gb(61440, "mb") == 60.0
    assert n.to_gb(64424509440, "bytes") == 60.0
    assert isinstance(n.to_gb(120, "gb"), float)


@pytest.mark.parametrize(
    ("manufacturer", "model", "expected"),
    [("VMware, Inc.", "VMware7,1", True), ("Microsoft Corporation", "Virtual Machine", True), ("Dell Inc.", "PowerEdge R740", False), (None, None, None)],
)
def test_is_virtual(manufacturer: Any, model: Any, expected: bool | None) -> None:
    assert n.is_virtual(manufacturer, model) is expected


def test_split_list() -> None:
    assert n.split_list("Web-Server; Web-ASP ;;Web-Asp-Net45") == ["Web-Server", "Web-ASP", "Web-Asp-Net45"]
    assert n.split_list("a,b|c") == ["a", "b", "c"]
    assert n.split_list(["x", " "]) == ["x"]
    assert n.split_list(3) is None
