"""Derived facts added for issue 15: the .NET Framework a host's OS can take
(Microsoft: 4.8.1 installs on Windows Server 2022, Windows 10 20H2 and later and
Windows 11, not on Server 2016 or 2019), and how messages name the OS."""
from __future__ import annotations

from typing import Any

import pytest

from sitegate.facts.normalize import derive


@pytest.mark.parametrize(
    "os_,want",
    [
        ({"build": 14393, "product_type": "server"}, "4.8 (4.8.1 cannot be installed on Windows Server 2016 or 2019)"),
        ({"build": 17763, "product_type": "domain_controller"}, "4.8 (4.8.1 cannot be installed on Windows Server 2016 or 2019)"),
        ({"build": 20348, "product_type": "server"}, "4.8 or 4.8.1 (Windows Server 2022 ships with 4.8)"),
        ({"build": 19042, "product_type": "workstation"}, "4.8 or 4.8.1"),
        ({"build": 19041, "product_type": "workstation"}, "4.8 (4.8.1 needs Windows 10 20H2 or later)"),
        ({"build": 22000, "product_type": "workstation"}, "4.8 or 4.8.1"),
        ({"build": 22631, "product_type": "workstation"}, "4.8.1 (this Windows 11 release ships with it)"),
        ({"build": 9600, "product_type": "server"}, "4.8 (4.8.1 only on Windows Server 2022, Windows 10 20H2 or later and Windows 11)"),
        ({"build": 17763}, "4.8 (4.8.1 only on Windows Server 2022, Windows 10 20H2 or later and Windows 11)"),
        (None, "4.8 (4.8.1 only on Windows Server 2022, Windows 10 20H2 or later and Windows 11)"),
    ],
)
def test_dotnet_upgrade_by_os(os_: dict[str, Any] | None, want: str) -> None:
    host: dict[str, Any] = {"dotnet": {"release": 461814}}
    if os_ is not None:
        host["os"] = os_
    assert derive(host)["dotnet_upgrade"] == want
    # Asked twice (the memo path) it gives the same answer.
    assert derive(host)["dotnet_upgrade"] == want


def test_no_dotnet_no_upgrade_text() -> None:
    assert "dotnet_upgrade" not in derive({"os": {"build": 17763, "product_type": "server"}})


@pytest.mark.parametrize(
    "os_,want",
    [
        ({"build": 17763, "product_type": "server"}, "Windows Server 2019 (build 17763)"),
        ({"build": 26200, "product_type": "workstation", "caption": "Microsoft Windows 11 Pro "}, "Microsoft Windows 11 Pro (build 26200)"),
        ({"build": 26200, "product_type": "workstation"}, "Windows build 26200"),
        ({"caption": "Microsoft Windows Server 2016 Standard"}, "Microsoft Windows Server 2016 Standard"),
    ],
)
def test_os_display(os_: dict[str, Any], want: str) -> None:
    assert derive({"os": os_})["os_display"] == want


def test_no_os_no_display() -> None:
    assert "os_display" not in derive({"os": {"product_type": "server"}})


@pytest.mark.parametrize(
    "path,want",
    [
        ("derived.installed_services", "site_services.installed"),
        ("derived.os_family", "os.product_type"),
        ("derived.iis_features", "iis.features"),
        ("derived.dotnet_upgrade", "dotnet.release"),
        ("load.endpoints", "load.endpoints"),
    ],
)
def test_user_fact_names_what_the_user_can_supply(path: str, want: str) -> None:
    from sitegate.facts.normalize import user_fact

    assert user_fact(path) == want


def test_missing_phrase_never_says_missing() -> None:
    from sitegate.facts.normalize import missing_phrase

    assert missing_phrase("identity.notification_server") == "an unknown Notification Server"
    generic = missing_phrase("derived.installed_services")
    assert "missing" not in generic and "derived." not in generic and "site_services.installed" in generic


@pytest.mark.parametrize(
    "build,family",
    [(b, "server") for b in (7601, 9600, 14393, 17763, 20348, 26100)]
    + [(b, "desktop") for b in (7601, 9600, 17763, 19041, 19042, 19044, 19045, 22000, 22621, 22631, 26100)],
)
def test_dotnet_upgrade_agrees_with_the_remediation_table(build: int, family: str) -> None:
    """Two places know where .NET 4.8.1 installs: the message's derived.dotnet_upgrade
    (facts layer) and itms-base's table dotnet_481_os, from which sitegate remediate
    writes its scripts. They must offer 4.8.1 to the same hosts."""
    from pathlib import Path

    import yaml

    from sitegate.facts.normalize import dotnet_upgrade

    base = yaml.safe_load((Path(__file__).resolve().parents[1] / "policies" / "itms-base.yaml").read_text("utf-8"))
    rows = base["tables"]["dotnet_481_os"]["rows"]
    table_offers = any(r["family"] == family and r["min_build"] <= build <= r["max_build"] for r in rows)
    text = dotnet_upgrade(build, family)
    message_offers = text.startswith("4.8.1") or text.startswith("4.8 or 4.8.1")
    assert message_offers == table_offers, (build, family, text)
