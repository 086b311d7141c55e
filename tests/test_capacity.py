"""Capacity planning: grouping by site and Notification Server, limits, fixes."""
from __future__ import annotations

from sitegate.engine.capacity import CapacityAccumulator, CapacityLimits, CapacityRecord, analyse, capacity_record


def rec(name: str, site: str | None = "S1", ns: str | None = "NS1", *, family: str | None = "server", installed=("task",), planned=(),
        endpoints: int | None = 100, concurrent: int | None = None, is_ns: bool = False) -> CapacityRecord:
    return CapacityRecord(name, site, ns, is_ns, family, None, tuple(installed), tuple(planned), endpoints, concurrent)


def site(report, key):
    return next(g for g in report.sites if g.key == key)


def test_server_os_site_within_capacity() -> None:
    r = analyse([rec("A", endpoints=9000), rec("B", endpoints=5000)])
    g = site(r, "S1")
    assert (g.site_servers, g.endpoints, g.capacity_now, g.capacity_planned) == (2, 14000, 30000, 30000)
    assert not g.overloaded and g.deficit == 0 and g.servers_needed == 0
    assert g.over_registration == 2 - 1  # 9,000 > the 5,000 default registration limit
    assert any("KB 426743" in n for n in g.notes)


def test_overloaded_site_needs_servers_or_upgrades() -> None:
    r = analyse([
        rec("D1", family="desktop", installed=("package",), endpoints=900),
        rec("D2", family="desktop", installed=("task",), endpoints=400, concurrent=40),
        rec("D3", family="desktop", installed=("task",), endpoints=50),
    ])
    g = site(r, "S1")
    assert g.endpoints == 1350 and g.capacity_planned == 300
    assert g.overloaded and g.deficit == 1050
    assert g.servers_needed == 1
    assert g.upgrades_needed == 1 and g.upgrade_hosts == ("D1",)  # the busiest desktop first
    assert g.desktop_over == 2
    assert r.overloaded_sites == [g]


def test_candidates_add_planned_capacity_but_not_demand() -> None:
    r = analyse([
        rec("OLD", family="desktop", installed=("task",), endpoints=800),
        rec("NEW", family="server", installed=(), planned=("task",), endpoints=800),
    ])
    g = site(r, "S1")
    assert (g.site_servers, g.candidates) == (1, 1)
    assert g.endpoints == 800 and g.capacity_now == 100 and g.capacity_planned == 15100
    assert not g.overloaded


def test_group_with_only_candidates_uses_their_load() -> None:
    g = site(analyse([rec("C", installed=(), planned=("package",), endpoints=20000)]), "S1")
    assert g.site_servers == 0 and g.endpoints == 20000 and g.deficit == 5000 and g.servers_needed == 1


def test_notification_server_task_service_limit() -> None:
    r = analyse([rec("SMP", site="HQ", is_ns=True, installed=("task", "package"), endpoints=250)])
    g = site(r, "HQ")
    assert g.capacity_now == 100 and g.ns_over == 1 and g.overloaded
    ns = r.notification_servers[0]
    assert ns.key == "NS1" and ns.ns_over == 1


def test_grouping_by_ns_spans_sites_and_unknowns_are_noted() -> None:
    r = analyse([
        rec("A", site="S1", ns="NS1", endpoints=100),
        rec("B", site="S2", ns="NS1", endpoints=200),
        rec("C", site="S3", ns="NS2", family=None, endpoints=300),
        rec("D", site=None, ns=None, endpoints=None),
        rec("E", site="S1", ns="NS1", installed=("monitor",), endpoints=999),  # serves no endpoints
    ])
    by_ns = {g.key: g for g in r.notification_servers}
    assert by_ns["NS1"].endpoints == 300 and by_ns["NS1"].site_servers == 2 and by_ns["NS1"].hosts == 3
    assert by_ns["NS2"].unknown == 1 and by_ns["NS2"].capacity_planned == 0
    assert "(no notification server)" in by_ns and r.no_site == 1
    assert site(r, "S1").endpoints == 100


def test_limits_are_configurable() -> None:
    acc = CapacityAccumulator(CapacityLimits(registration_limit=10_000))
    acc.add(rec("A", endpoints=9000))
    assert site(acc.finish(), "S1").over_registration == 0


def test_capacity_record_from_facts() -> None:
    f = {
        "identity": {"site": "Lyon", "notification_server": "NS-EU-01", "is_notification_server": False},
        "site_services": {"installed": [{"service": "package"}], "planned": ["task"]},
        "load": {"endpoints": 450, "concurrent_connections": 60},
        "derived": {"os_family": "desktop", "os_name": "Windows 10 22H2", "installed_services": ["package"]},
    }
    r = capacity_record("WKS", f)
    assert r == CapacityRecord("WKS", "Lyon", "NS-EU-01", False, "desktop", "Windows 10 22H2", ("package",), ("task",), 450, 60)
    assert capacity_record("X", {"derived": {}}).endpoints is None


def test_accumulator_memory_is_per_group_not_per_host() -> None:
    acc = CapacityAccumulator()
    for i in range(5000):
        acc.add(rec(f"H{i}", site=f"S{i % 10}", family="desktop" if i % 2 else "server", endpoints=10))
    assert len(acc.sites) == 10 and len(acc.nses) == 1
    assert all(len(v) <= 5 for v in acc.desktop_names.values())
    rep = acc.finish()
    assert rep.hosts == 5000 and sum(g.hosts for g in rep.sites) == 5000
    assert rep.to_dict()["sites_total"] == 10
