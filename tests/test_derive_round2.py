"""Derived facts added for issue 15: the .NET Framework a host's OS can take
(Microsoft: 4.8.1 installs on Windows Server 2022, Windows 10 20H2 and later and
Windows 11, not on Server 2016 or 2019), and how messages name the OS."""
from __future__ import annotations

from typing import Any

import pytest

from sitegate.facts import normalize
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


# ---------------------------------------------------------------------------
# The tables and branches behind the derived facts, pinned value by value. Every
# expected value is written out by hand: OS names from itms-domain.md 1.3 (and
# Microsoft's NT 6.2/6.3 builds 9200/9600 for Windows 8/8.1 and Server
# 2012/2012 R2), .NET 4.8.1 availability from itms-domain-round2.md section 4,
# feature names from itms-domain.md 3.2. A build one above or one below a known
# one has no name, so a table row keyed on the wrong build is caught.

OS_NAMES = [
    (7601, "desktop", "Windows 7 SP1"),
    (7601, "server", "Windows Server 2008 R2 SP1"),
    (9200, "desktop", "Windows 8"),
    (9200, "server", "Windows Server 2012"),
    (9600, "desktop", "Windows 8.1"),
    (9600, "server", "Windows Server 2012 R2"),
    (14393, "desktop", "Windows 10 1607"),
    (14393, "server", "Windows Server 2016"),
    (17763, "desktop", "Windows 10 1809"),
    (17763, "server", "Windows Server 2019"),
    (19044, "desktop", "Windows 10 21H2"),
    (19045, "desktop", "Windows 10 22H2"),
    (20348, "server", "Windows Server 2022"),
    (22000, "desktop", "Windows 11 21H2"),
    (22621, "desktop", "Windows 11 22H2"),
    (22631, "desktop", "Windows 11 23H2"),
    (26100, "desktop", "Windows 11 24H2"),
    (26100, "server", "Windows Server 2025"),
]
_PTYPE = {"desktop": "workstation", "server": "server"}


@pytest.mark.parametrize("build,family,name", OS_NAMES)
def test_os_name_every_row_and_its_neighbours(build: int, family: str, name: str) -> None:
    from sitegate.facts.normalize import os_name

    assert os_name(build, family) == name
    d = derive({"os": {"build": build, "product_type": _PTYPE[family]}})
    assert (d["os_family"], d["os_name"], d["os_display"]) == (family, name, f"{name} (build {build})")
    known = {(b, f) for b, f, _ in OS_NAMES}
    for near in (build - 1, build + 1):
        if (near, family) not in known:
            assert os_name(near, family) is None, (near, family)
            got = derive({"os": {"build": near, "product_type": _PTYPE[family]}})
            assert "os_name" not in got and got["os_display"] == f"Windows build {near}", (near, family)


def test_os_name_needs_build_and_family() -> None:
    from sitegate.facts.normalize import os_name

    assert os_name(None, "server") is None
    assert os_name(17763, None) is None
    assert os_name(None, None) is None


@pytest.mark.parametrize(
    "build,family,caption,want",
    [
        (17763, "server", None, "Windows Server 2019 (build 17763)"),
        (17763, "server", "Microsoft Windows Server 2019 Datacenter", "Windows Server 2019 (build 17763)"),
        (26200, "desktop", "  Microsoft Windows 11 Pro ", "Microsoft Windows 11 Pro (build 26200)"),
        (26200, "desktop", None, "Windows build 26200"),
        (26200, "desktop", "   ", "Windows build 26200"),
        (None, None, "Microsoft Windows Server 2016 Standard", "Microsoft Windows Server 2016 Standard"),
        (None, "server", " Microsoft Windows Server 2016 Standard", "Microsoft Windows Server 2016 Standard"),
        (None, "server", None, None),
        (None, None, 42, None),
    ],
)
def test_os_display_function(build: int | None, family: str | None, caption: Any, want: str | None) -> None:
    from sitegate.facts.normalize import os_display

    assert os_display(build, family, caption) == want


_NOT_2016_2019 = "4.8 (4.8.1 cannot be installed on Windows Server 2016 or 2019)"
_SERVER_2022 = "4.8 or 4.8.1 (Windows Server 2022 ships with 4.8)"
_SHIPS_481 = "4.8.1 (this Windows 11 release ships with it)"
_EITHER = "4.8 or 4.8.1"
_NEEDS_20H2 = "4.8 (4.8.1 needs Windows 10 20H2 or later)"
_GENERIC = "4.8 (4.8.1 only on Windows Server 2022, Windows 10 20H2 or later and Windows 11)"


@pytest.mark.parametrize(
    "build,family,want",
    [
        # Servers: 2016 (14393) and 2019 (17763) cannot take 4.8.1, 2022 (20348) can;
        # any other server build (2012 R2, 2025, or one off a known build) gets the general sentence.
        (14393, "server", _NOT_2016_2019), (17763, "server", _NOT_2016_2019),
        (14392, "server", _GENERIC), (14394, "server", _GENERIC),
        (17762, "server", _GENERIC), (17764, "server", _GENERIC),
        (20348, "server", _SERVER_2022), (20347, "server", _GENERIC), (20349, "server", _GENERIC),
        (9600, "server", _GENERIC), (26100, "server", _GENERIC), (None, "server", _GENERIC),
        # Windows 11 22H2, 23H2, 24H2 ship with 4.8.1; other Windows 11 builds (22000 and up) can take it.
        (22621, "desktop", _SHIPS_481), (22631, "desktop", _SHIPS_481), (26100, "desktop", _SHIPS_481),
        (22620, "desktop", _EITHER), (22622, "desktop", _EITHER),
        (22630, "desktop", _EITHER), (22632, "desktop", _EITHER),
        (22000, "desktop", _EITHER), (22001, "desktop", _EITHER), (26200, "desktop", _EITHER),
        # Windows 10 20H2 is build 19042: from there on 4.8.1 installs, below it not.
        (19042, "desktop", _EITHER), (19043, "desktop", _EITHER), (19045, "desktop", _EITHER), (19999, "desktop", _EITHER),
        (19041, "desktop", _NEEDS_20H2), (17763, "desktop", _NEEDS_20H2), (7601, "desktop", _NEEDS_20H2),
        # No released client build lies between Windows 10 (19xxx) and Windows 11 (22000).
        (20000, "desktop", _GENERIC), (21999, "desktop", _GENERIC),
        (None, "desktop", _GENERIC),
        # No product type: nothing is claimed about the build.
        (17763, None, _GENERIC), (22631, None, _GENERIC), (None, None, _GENERIC),
    ],
)
def test_dotnet_upgrade_function(build: int | None, family: str | None, want: str) -> None:
    from sitegate.facts.normalize import dotnet_upgrade

    assert dotnet_upgrade(build, family) == want


def test_dotnet_upgrade_memo_tells_hosts_apart() -> None:
    """The sentence is remembered per (build, product type): hosts that differ in either get their own."""
    hosts = [
        ({"build": 17763, "product_type": "server"}, _NOT_2016_2019),
        ({"build": 17763, "product_type": "workstation"}, _NEEDS_20H2),
        ({"build": 20348, "product_type": "domain_controller"}, _SERVER_2022),
        ({"build": 20348}, _GENERIC),
        ({"product_type": "workstation"}, _GENERIC),
    ]
    for _ in range(2):
        for os_, want in hosts:
            assert derive({"dotnet": {"release": 528040}, "os": os_})["dotnet_upgrade"] == want, os_


@pytest.mark.parametrize(
    "name,want",
    [
        ("IIS-ASP", "Web-ASP"), ("iis-asp", "Web-ASP"), (" IIS-ASP ", "Web-ASP"),
        ("Web-ASP", "Web-ASP"), ("web-asp", "Web-ASP"), ("WEB-ASP ", "Web-ASP"),
        ("IIS-RequestFiltering", "Web-Filtering"), ("web-filtering", "Web-Filtering"),
        ("IIS-Metabase", "Web-Metabase"), ("IIS-WindowsAuthentication", "Web-Windows-Auth"),
        ("IIS-ASPNET45", "Web-Asp-Net45"), ("web-asp-net45", "Web-Asp-Net45"),
        (" Custom-Thing ", "Custom-Thing"),
    ],
)
def test_feature_name_one_identity(name: str, want: str) -> None:
    from sitegate.facts.normalize import feature_name

    assert feature_name(name) == want


def test_derived_iis_features_by_server_manager_name() -> None:
    host = {"iis": {"features": ["IIS-ASP", "web-asp", "IIS-Metabase", "Web-Filtering", "IIS-RequestFiltering", "Custom-Thing"]}}
    for _ in range(2):
        assert derive(host)["iis_features"] == ["Custom-Thing", "Web-ASP", "Web-Filtering", "Web-Metabase"]


def test_missing_phrase_generic_wording() -> None:
    from sitegate.facts.normalize import missing_phrase

    assert missing_phrase("derived.installed_services") == "an unknown installed services (site_services.installed not recorded)"
    assert missing_phrase("load.endpoint_count") == "an unknown endpoint count (load.endpoint_count not recorded)"
    assert missing_phrase("a.b.last_seen") == "an unknown last seen (a.b.last_seen not recorded)"
    assert missing_phrase("hostname") == "an unknown hostname (hostname not recorded)"
    assert missing_phrase("os.build") == "an unknown build"


def test_a_number_written_as_a_float_does_not_change_the_next_hosts_answer() -> None:
    """Some JSON writers emit 461815.0 and 17763.0 (JSON Schema's integer admits them).
    derive remembers its answers per value, and 461815.0 == 461815: a host written with
    integers after such a host still gets its own display text and upgrade sentence."""
    derive({"dotnet": {"release": 461815.0}, "os": {"build": 17763.0, "product_type": "server"}})
    d = derive({"dotnet": {"release": 461815}, "os": {"build": 17763, "product_type": "server"}})
    assert d["dotnet_display"] == "4.7.2 (461815)"
    assert d["dotnet_upgrade"] == _NOT_2016_2019
    assert d["os_display"] == "Windows Server 2019 (build 17763)"


def test_derive_only_the_dotnet_facts_asked_for() -> None:
    """A run whose rules read the .NET version but not the upgrade sentence (or the other
    way round) still gets what it reads: values written out by hand (528040 is 4.8)."""
    host = {"dotnet": {"release": 528040}, "os": {"build": 17763, "product_type": "server"}}
    got = derive(host, frozenset({"dotnet_version"}))
    assert got["dotnet_version"] == "4.8" and got["dotnet_display"] == "4.8 (528040)", got
    got = derive(host, frozenset({"dotnet_display"}))
    assert got["dotnet_display"] == "4.8 (528040)", got
    got = derive(host, frozenset({"dotnet_upgrade"}))
    assert isinstance(got.get("dotnet_upgrade"), str) and got["dotnet_upgrade"], got
    assert "dotnet_version" not in got  # not asked for: not computed
    got = derive(host, frozenset({"roles"}))
    assert not {"dotnet_version", "dotnet_display", "dotnet_upgrade"} & set(got), got


def test_derive_only_the_role_os_and_feature_facts_asked_for() -> None:
    """Each group of derived facts comes when one of its names is asked for, with values
    written out by hand (build 17763 on a server is Windows Server 2019; roles are the
    installed and planned services; feature names in Server Manager's spelling)."""
    host = {
        "os": {"build": 17763, "product_type": "server", "caption": "Microsoft Windows Server 2019 Standard"},
        "site_services": {"installed": [{"service": "task"}], "planned": ["package"]},
        "iis": {"features": ["Web-Server", "web-asp"]},
    }
    roles = {"installed_services": ["task"], "roles": ["package", "task"]}
    os_ = {"os_family": "server", "os_name": "Windows Server 2019", "os_display": "Windows Server 2019 (build 17763)"}
    iis = {"iis_features": ["Web-ASP", "Web-Server"]}
    assert derive(host, frozenset({"roles"})) == roles
    assert derive(host, frozenset({"installed_services"})) == roles
    assert derive(host, frozenset({"os_name"})) == os_
    assert derive(host, frozenset({"iis_features"})) == iis
    assert derive(host, frozenset({"roles", "iis_features"})) == {**roles, **iis}


def test_os_display_remembered_per_product_type_and_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """The display text is remembered with the OS name per (product type, build): the
    next host with another build or product type gets its own; a build written as a
    float (17763.0, its caption shows) neither fills nor reads an integer's memo."""
    monkeypatch.setattr(normalize, "_OS_MEMO", {})  # the float host comes first to an empty memo
    hosts = [
        ({"build": 17763.0, "product_type": "server"}, None),
        ({"build": 17763, "product_type": "server"}, "Windows Server 2019 (build 17763)"),
        ({"build": 20348, "product_type": "server"}, "Windows Server 2022 (build 20348)"),
        ({"build": 17763, "product_type": "workstation"}, "Windows 10 1809 (build 17763)"),
        ({"build": 17763.0, "product_type": "server", "caption": "Microsoft Windows Server 2019 Datacenter"}, "Microsoft Windows Server 2019 Datacenter"),
        ({"build": 17763, "product_type": "server", "caption": "Microsoft Windows Server 2019 Datacenter"}, "Windows Server 2019 (build 17763)"),
        ({"build": 26200, "product_type": "server", "caption": "Next "}, "Next (build 26200)"),
        ({"build": 26200, "product_type": "server", "caption": "Other"}, "Other (build 26200)"),
    ]
    for _ in range(2):  # the second round reads the memo
        for os_, want in hosts:
            assert derive({"os": os_}).get("os_display") == want, os_
            assert derive({"os": os_}, frozenset({"os_name"})).get("os_display") == want, os_


def test_each_selection_gets_its_own_groups() -> None:
    """Which groups derive computes is remembered per selection: selections asked in
    turn, twice over, each get their own (a plain set too, answered but not kept)."""
    host = {
        "dotnet": {"release": 528040},
        "os": {"build": 17763, "product_type": "server"},
        "site_services": {"installed": [{"service": "task"}], "planned": ["package"]},
        "iis": {"features": ["Web-ASP"]},
    }
    dotnet = {"dotnet_version", "dotnet_display"}
    os_ = {"os_family", "os_name", "os_display"}
    roles = {"installed_services", "roles"}
    cases: list[tuple[Any, set[str]]] = [
        (frozenset({"os_name"}), os_),
        (frozenset({"roles"}), roles),
        (frozenset({"iis_features"}), {"iis_features"}),
        (frozenset({"dotnet_upgrade"}), {"dotnet_upgrade"}),
        (frozenset({"dotnet_display"}), dotnet),
        (frozenset({"os_family", "iis_features"}), os_ | {"iis_features"}),
        ({"roles", "dotnet_version"}, roles | dotnet),
        (frozenset(), set()),
        (None, dotnet | os_ | roles | {"iis_features", "dotnet_upgrade"}),
    ]
    for _ in range(2):
        for only, want in cases:
            assert set(derive(host, only)) == want, only


def test_installed_items_that_are_not_objects_are_passed_over() -> None:
    host = {"site_services": {"installed": [{"service": "task"}, "package", None, {"service": "monitor"}]}}
    for _ in range(2):
        assert derive(host) == {"installed_services": ["monitor", "task"], "roles": ["monitor", "task"]}
