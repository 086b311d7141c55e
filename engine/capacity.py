"""Capacity planning: endpoints served against what the site servers can carry.

Hosts are grouped by site and by Notification Server. For each group the
endpoints its existing site servers serve (``load.endpoints``) are set against
what those servers, and the planned candidates, can carry:

- a site server on a server OS: about 15,000 clients (KB 390448);
- the SMP server's own task service: no more than 100 clients (KB 390448);
- a site server on a desktop OS: fewer than 100 endpoints, the OS allowing only
  10 or 20 concurrent connections (KB 390448; IIS request restrictions);
- the task server's default registration limit of 5,000 clients (KB 426743) is
  a configurable setting: reported as a note, not as capacity.

Streaming: the evaluator puts a :class:`CapacityRecord` (a few scalars) on each
HostResult when ``Options.capacity`` is set; :class:`CapacityAccumulator` keeps
one small list of integers per group, never the hosts. Everything here is pure
(no I/O), so renderers can use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

KB390448 = "https://knowledge.broadcom.com/external/article/390448/recommendations-and-requirements-for-upg.html"
KB426743 = "https://knowledge.broadcom.com/external/article/426743/optimizing-agent-assignment-understandin.html"

SERVING_ROLES = frozenset({"task", "package"})


@dataclass(frozen=True)
class CapacityLimits:
    """The figures a group is measured against (each with its source in the module docstring)."""

    server_os: int = 15_000  # clients per site server on a server OS (KB 390448, "about")
    ns_task_service: int = 100  # clients on the SMP server's own task service (KB 390448)
    desktop_os: int = 100  # endpoints a desktop-OS site server should serve ("fewer than 100", KB 390448)
    desktop_connections: int = 20  # concurrent connections a desktop OS allows ("10 or 20", KB 390448)
    registration_limit: int = 5_000  # default task-server registration limit (KB 426743, configurable)


class CapacityRecord(NamedTuple):
    """What capacity planning needs from one host (carried on HostResult.capacity)."""

    name: str
    site: str | None
    ns: str | None
    is_ns: bool
    family: str | None  # server / desktop / None (unknown)
    os_name: str | None
    installed: tuple[str, ...]
    planned: tuple[str, ...]
    endpoints: int | None
    concurrent: int | None


def capacity_record(name: str, f: dict[str, Any]) -> CapacityRecord:
    """The capacity record of one validated host (facts with ``derived``)."""
    ident = f.get("identity") or {}
    d = f.get("derived") or {}
    ss = f.get("site_services") or {}
    load = f.get("load") or {}
    planned = ss.get("planned") or ()
    return CapacityRecord(
        name,
        ident.get("site"),
        ident.get("notification_server"),
        ident.get("is_notification_server") is True,
        d.get("os_family"),
        d.get("os_name"),
        tuple(d.get("installed_services") or ()),
        tuple(planned),
        load.get("endpoints"),
        load.get("concurrent_connections"),
    )


# Indexes into a group's aggregate list.
HOSTS, EXISTING, CANDIDATES, DEMAND, CAP_NOW, CAP_PLANNED, DESKTOPS, DESKTOP_OVER, OVER_REGISTRATION, UNKNOWN_OS, UNKNOWN_LOAD, NS_OVER = range(12)
_FIELDS = 12
MAX_UPGRADE_NAMES = 5


@dataclass(frozen=True)
class GroupView:
    """One site or Notification Server, analysed."""

    kind: str  # "site" or "notification_server"
    key: str
    hosts: int
    site_servers: int  # existing (installed task or package service)
    candidates: int  # planned only
    desktops: int  # site servers and candidates on a desktop OS
    endpoints: int  # served by the existing site servers (candidates' load if there are none)
    capacity_now: int
    capacity_planned: int  # with the candidates
    unknown: int  # site servers whose OS family or load is unknown (not counted)
    desktop_over: int  # desktop site servers above 100 endpoints or the connection limit
    over_registration: int  # task servers above the default registration limit
    ns_over: int  # an NS whose own task service serves more than 100 clients
    deficit: int  # endpoints above capacity_planned (0 when not overloaded)
    servers_needed: int  # server-OS site servers to add to cover the deficit
    upgrades_needed: int | None  # desktop -> server OS upgrades that would cover it (None: not enough desktops)
    upgrade_hosts: tuple[str, ...]  # the desktop site servers to upgrade first (largest load first)
    notes: tuple[str, ...] = ()

    @property
    def overloaded(self) -> bool:
        """More endpoints than the group's site servers (with candidates) can carry."""
        return self.deficit > 0

    @property
    def utilisation(self) -> float | None:
        """Endpoints / planned capacity (None when nothing can carry load)."""
        return self.endpoints / self.capacity_planned if self.capacity_planned else None

    @property
    def flagged(self) -> bool:
        """Overloaded, or with a server-level capacity problem."""
        return self.overloaded or bool(self.desktop_over or self.over_registration or self.ns_over) or (self.endpoints > 0 and self.capacity_planned == 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        u = self.utilisation
        return {
            "kind": self.kind, "key": self.key, "hosts": self.hosts, "site_servers": self.site_servers,
            "candidates": self.candidates, "desktops": self.desktops, "endpoints": self.endpoints,
            "capacity_now": self.capacity_now, "capacity_planned": self.capacity_planned,
            "utilisation": None if u is None else round(u, 4), "overloaded": self.overloaded,
            "deficit": self.deficit, "servers_needed": self.servers_needed,
            "upgrades_needed": self.upgrades_needed, "upgrade_hosts": list(self.upgrade_hosts),
            "unknown": self.unknown, "desktop_over": self.desktop_over,
            "over_registration": self.over_registration, "ns_over": self.ns_over, "notes": list(self.notes),
        }


@dataclass
class CapacityReport:
    """Every group analysed, plus fleet totals."""

    limits: CapacityLimits
    sites: list[GroupView]
    notification_servers: list[GroupView]
    hosts: int
    no_site: int  # hosts with no identity.site (grouped under "(no site)")

    @property
    def overloaded_sites(self) -> list[GroupView]:
        """Overloaded sites, largest deficit first."""
        return sorted((g for g in self.sites if g.overloaded), key=lambda g: (-g.deficit, g.key))

    @property
    def overloaded_notification_servers(self) -> list[GroupView]:
        """Overloaded Notification Servers, largest deficit first."""
        return sorted((g for g in self.notification_servers if g.overloaded), key=lambda g: (-g.deficit, g.key))

    def to_dict(self, max_sites: int = 1000) -> dict[str, Any]:
        """JSON-ready: every NS, the flagged sites (worst first, at most ``max_sites``)."""
        flagged = sorted((g for g in self.sites if g.flagged), key=_worst_first)
        return {
            "limits": {
                "server_os": self.limits.server_os, "ns_task_service": self.limits.ns_task_service,
                "desktop_os": self.limits.desktop_os, "desktop_connections": self.limits.desktop_connections,
                "registration_limit": self.limits.registration_limit,
                "sources": [KB390448, KB426743],
            },
            "hosts": self.hosts,
            "sites_total": len(self.sites),
            "sites_overloaded": sum(1 for g in self.sites if g.overloaded),
            "sites_flagged": len(flagged),
            "sites": [g.to_dict() for g in flagged[:max_sites]],
            "sites_truncated": max(0, len(flagged) - max_sites),
            "notification_servers": [g.to_dict() for g in self.notification_servers],
        }


def _worst_first(g: GroupView) -> tuple[Any, ...]:
    u = g.utilisation
    return (-g.deficit, -(u if u is not None else (1e9 if g.endpoints else 0)), g.key)


class CapacityAccumulator:
    """Per-group aggregates, fed one host at a time (flat in the number of hosts)."""

    def __init__(self, limits: CapacityLimits = CapacityLimits()):
        self.limits = limits
        self.sites: dict[str, list[int]] = {}
        self.nses: dict[str, list[int]] = {}
        # Desktop site servers per group, largest load first, at most MAX_UPGRADE_NAMES each.
        self.desktop_names: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self.hosts = 0
        self.no_site = 0

    def add_result(self, result: Any) -> None:
        """Add a HostResult (ignored when it carries no capacity record)."""
        rec = getattr(result, "capacity", None)
        if rec is not None:
            self.add(rec)

    def add(self, rec: CapacityRecord) -> None:
        """Add one host's record to its site and its Notification Server."""
        self.hosts += 1
        lim = self.limits
        site = rec.site
        if site is None:
            self.no_site += 1
            site = "(no site)"
        ns = rec.ns or "(no notification server)"
        serving_now = not SERVING_ROLES.isdisjoint(rec.installed)
        serving_planned = not serving_now and not SERVING_ROLES.isdisjoint(rec.planned)
        row = [0] * _FIELDS
        row[HOSTS] = 1
        ep = rec.endpoints
        if serving_now or serving_planned or rec.is_ns:
            if rec.is_ns:
                carry: int | None = lim.ns_task_service
            elif rec.family == "server":
                carry = lim.server_os
            elif rec.family == "desktop":
                carry = lim.desktop_os
            else:
                carry = None
            if carry is None:
                row[UNKNOWN_OS] = 1
            if ep is None:
                row[UNKNOWN_LOAD] = 1
            if serving_now or rec.is_ns:
                row[EXISTING] = 1
                row[DEMAND] = ep or 0
                row[CAP_NOW] = carry or 0
            else:
                row[CANDIDATES] = 1
                row[DEMAND] = 0
            row[CAP_PLANNED] = carry or 0
            if rec.family == "desktop" and not rec.is_ns:
                row[DESKTOPS] = 1
                conc = rec.concurrent
                if (ep is not None and ep >= lim.desktop_os) or (conc is not None and conc > lim.desktop_connections):
                    row[DESKTOP_OVER] = 1
            if ep is not None and not rec.is_ns and ("task" in rec.installed or "task" in rec.planned) and ep > lim.registration_limit:
                row[OVER_REGISTRATION] = 1
            if rec.is_ns and ep is not None and ep > lim.ns_task_service:
                row[NS_OVER] = 1
        # Candidates' expected load: kept apart, used when a group has no existing server.
        cand_load = (ep or 0) if serving_planned else 0
        for table, key, kind in ((self.sites, site, "site"), (self.nses, ns, "notification_server")):
            agg = table.get(key)
            if agg is None:
                agg = table[key] = [0] * (_FIELDS + 1)
            for i in range(_FIELDS):
                agg[i] += row[i]
            agg[_FIELDS] += cand_load
            if row[DESKTOPS]:
                names = self.desktop_names.setdefault((kind, key), [])
                names.append((-(ep or 0), rec.name))
                if len(names) > MAX_UPGRADE_NAMES:
                    names.sort()
                    del names[MAX_UPGRADE_NAMES:]

    def add_all(self, records: Iterable[CapacityRecord]) -> "CapacityAccumulator":
        """Add many records; returns self."""
        for r in records:
            self.add(r)
        return self

    def finish(self) -> CapacityReport:
        """Analyse every group."""
        return CapacityReport(
            self.limits,
            [self._view("site", k, v) for k, v in sorted(self.sites.items())],
            [self._view("notification_server", k, v) for k, v in sorted(self.nses.items())],
            self.hosts,
            self.no_site,
        )

    def _view(self, kind: str, key: str, a: list[int]) -> GroupView:
        lim = self.limits
        endpoints = a[DEMAND] if a[EXISTING] else a[_FIELDS]
        deficit = max(0, endpoints - a[CAP_PLANNED])
        servers_needed = -(-deficit // lim.server_os) if deficit else 0
        gain = lim.server_os - lim.desktop_os
        upgrades: int | None = 0
        hosts: tuple[str, ...] = ()
        if deficit:
            k = -(-deficit // gain)
            upgrades = k if k <= a[DESKTOPS] else None
            if upgrades:
                hosts = tuple(n for _, n in sorted(self.desktop_names.get((kind, key), []))[:upgrades])
        notes: list[str] = []
        if deficit:
            fix = f"add {servers_needed} site server(s) on a server OS (about {lim.server_os:,} clients each, KB 390448)"
            if upgrades:
                fix += f", or upgrade {upgrades} desktop-OS site server(s) to a server OS"
                if hosts:
                    fix += " (" + ", ".join(hosts) + (", ..." if upgrades > len(hosts) else "") + ")"
            notes.append(f"overloaded: {endpoints:,} endpoints for a capacity of {a[CAP_PLANNED]:,}; {fix}")
        elif endpoints and not a[CAP_PLANNED] and not a[UNKNOWN_OS]:
            notes.append(f"{endpoints:,} endpoints and no site server that can carry them")
        if a[DESKTOP_OVER]:
            notes.append(
                f"{a[DESKTOP_OVER]} desktop-OS site server(s) serve {lim.desktop_os} or more endpoints or more than "
                f"{lim.desktop_connections} concurrent connections (a desktop OS allows 10 or 20, KB 390448)"
            )
        if a[OVER_REGISTRATION]:
            notes.append(
                f"{a[OVER_REGISTRATION]} task server(s) above the default registration limit of {lim.registration_limit:,} "
                "clients (KB 426743; the limit is configurable: raise it or add task servers)"
            )
        if a[NS_OVER]:
            notes.append(f"the Notification Server's own task service serves more than {lim.ns_task_service} clients (KB 390448)")
        if a[UNKNOWN_OS] or a[UNKNOWN_LOAD]:
            notes.append(f"{a[UNKNOWN_OS] + a[UNKNOWN_LOAD]} site server fact(s) unknown (OS family or endpoints): not counted")
        return GroupView(
            kind=kind, key=key, hosts=a[HOSTS], site_servers=a[EXISTING], candidates=a[CANDIDATES],
            desktops=a[DESKTOPS], endpoints=endpoints, capacity_now=a[CAP_NOW], capacity_planned=a[CAP_PLANNED],
            unknown=a[UNKNOWN_OS] + a[UNKNOWN_LOAD], desktop_over=a[DESKTOP_OVER],
            over_registration=a[OVER_REGISTRATION], ns_over=a[NS_OVER], deficit=deficit,
            servers_needed=servers_needed, upgrades_needed=upgrades, upgrade_hosts=hosts, notes=tuple(notes),
        )


def analyse(records: Iterable[CapacityRecord], limits: CapacityLimits = CapacityLimits()) -> CapacityReport:
    """Group and analyse capacity records in one call."""
    return CapacityAccumulator(limits).add_all(records).finish()
