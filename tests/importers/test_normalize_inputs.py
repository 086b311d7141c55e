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


# Conversions by hand: 1 KiB = 1024 bytes, 1 MiB = 1024 KiB, 1 GiB = 1024 MiB, 1 TiB = 1024 GiB.
@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (17179869184, "b", 16384), (17179869184, "bytes", 16384), (16777216, "kb", 16384), (16777216, "KB", 16384),
        (16384, "mb", 16384), (16, "gb", 16384), (1, "tb", 1048576), (2, "TB", 2097152),
        (1572864, "b", 2),  # 1.5 MiB rounds to 2 (half to even)
        (1536, "kb", 2), (2560, "kb", 2),  # 1.5 -> 2, 2.5 -> 2
    ],
)
def test_to_mb(value: float, unit: str, expected: int) -> None:
    assert n.to_mb(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (64424509440, "b", 60.0), (64424509440, "bytes", 60.0), (62914560, "kb", 60.0), (61440, "mb", 60.0),
        (120, "gb", 120.0), (2, "tb", 2048.0), (1, "TB", 1024.0),
        (1000000000, "bytes", 0.93),  # 0.9313... GiB: two decimals
        (1000, "mb", 0.98),  # 0.9765625 GiB
        (1536, "mb", 1.5),
    ],
)
def test_to_gb(value: float, unit: str, expected: float) -> None:
    got = n.to_gb(value, unit)
    assert type(got) is float and got == expected


def test_collector_memory_and_disk_helpers() -> None:
    # Win32_OperatingSystem.TotalVisibleMemorySize is KB (itms-domain.md 8.x: 4193764 on a 4 GB DC).
    assert n.kb_to_mb(4193764) == 4095  # 4095.47
    assert n.kb_to_mb(16777216) == 16384
    assert n.kb_to_mb(1536) == 2  # 1.5 rounds half to even
    assert n.bytes_to_gb(64424509440) == 60.0
    assert n.bytes_to_gb(1000000000) == 0.93
    assert n.bytes_to_gb(1610612736) == 1.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8.7.3264.0", "8.7.3264.0"), ("Symantec Management Agent 8.7.3264", "8.7.3264"), ("v8.8", "8.8"),
     ("1.2.3.4.5", "1.2.3.4"), ("agent", None), ("", None), (None, None)],
)
def test_agent_version(text: Any, expected: str | None) -> None:
    assert n.agent_version(text) == expected


@pytest.mark.parametrize(("version", "build"), [("10.0.x", None), ("10.x.17763", 17763), ("10.0", None), ("", None), (None, None)])
def test_build_from_version_third_part(version: str | None, build: int | None) -> None:
    assert n.build_from_version(version) == build


def test_to_bool_vbscript_true() -> None:
    assert n.to_bool(-1) is True
    assert n.to_bool(-2) is None


def test_parse_number_defaults_and_keywords() -> None:
    assert n.parse_number("12,5") == 12.5  # integer defaults to False: a fraction is kept
    assert n.parse_number(value="16,384") == 16384
    with pytest.raises(TypeError):
        n.parse_number("12,5", True)  # type: ignore[misc]  # integer is keyword-only


@pytest.mark.parametrize(("state", "expected"), [({"InstallState": "1"}, True), ({"InstallState": " 1 "}, True), ({"InstallState": "0"}, False), ({"InstallState": "2"}, False)])
def test_feature_installed_digit_text(state: dict[str, Any], expected: bool) -> None:
    assert n.feature_installed(state) is expected


@pytest.mark.parametrize(
    ("text", "formats", "expected"),
    [
        ("/Date(1700000000123)/", (), "2023-11-14T22:13:20.123Z"),
        ("/Date(1700000000999)/", (), "2023-11-14T22:13:20.999Z"),
        ("2026-11-25 15:04:05.999", (), "2026-11-25T15:04:05.999"),
        ("2026-11-25 15:04:05.9996", (), "2026-11-25T15:04:05.999"),  # milliseconds are truncated
        ("2026-11-25 15:04:05", ("%d/%m/%Y",), "2026-11-25T15:04:05"),  # a mapping format that does not fit falls through
        ("Tuesday", (), None),  # has a 'T' but is no ISO date
    ],
)
def test_parse_datetime_more(text: str, formats: tuple[str, ...], expected: str | None) -> None:
    assert n.parse_datetime(text, formats) == expected


def test_parse_datetime_tries_every_mapping_format() -> None:
    # Day-first patterns from a mapping: the second one fits. Without them the text
    # would read month-first (April 3rd).
    assert n.parse_datetime("04/03/2026 10:00", ("%d/%m/%Y", "%d/%m/%Y %H:%M")) == "2026-03-04T10:00:00"
    assert n.parse_datetime("04/03/2026 10:00") == "2026-04-03T10:00:00"
