"""Derived facts (facts.normalize.derive) against their plain definitions.

derive remembers its answers for repeated inputs (.NET releases, OS builds,
IIS feature sets, site-service sets): the remembered answer must be the one the
definition gives, every time, and each host must get lists of its own.
"""
from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegate.facts.normalize import derive, feature_name

ROLES = ["task", "package", "network_boot", "monitor"]
services = st.lists(st.sampled_from(ROLES), max_size=5)
installed = st.lists(st.builds(lambda s, v: {"service": s, "version": v}, st.sampled_from(ROLES), st.sampled_from(["8.7.3264.0", "8.6.1"])), max_size=4)
FEATURES = ["Web-ASP", "IIS-ASP", "Web-Metabase", "IIS-Metabase", "Web-Filtering", "IIS-RequestFiltering", "Custom-Thing"]


def _roles(ss: dict[str, Any]) -> dict[str, Any]:
    """The definition: installed services, and roles = installed | planned, both sorted and unique."""
    out: dict[str, Any] = {}
    inst, plan = ss.get("installed"), ss.get("planned")
    if inst is not None:
        out["installed_services"] = sorted({s["service"] for s in inst})
    if inst is not None or plan is not None:
        out["roles"] = sorted(set(out.get("installed_services", ())) | set(plan or ()))
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    inst=st.one_of(st.none(), installed),
    plan=st.one_of(st.none(), services),
    feats=st.one_of(st.none(), st.lists(st.sampled_from(FEATURES), max_size=5)),
)
def test_derived_roles_and_features_match_their_definition(inst: Any, plan: Any, feats: Any) -> None:
    ss = {k: v for k, v in (("installed", inst), ("planned", plan)) if v is not None}
    host: dict[str, Any] = {"name": "h", "site_services": ss}
    if feats is not None:
        host["iis"] = {"features": feats}
    want = _roles(ss)
    if feats is not None:
        want["iis_features"] = sorted({feature_name(f) for f in feats})
    for _ in range(3):  # the first call fills the memo, the next ones read it
        got = derive(host)
        assert got == want
        for key in ("installed_services", "roles", "iis_features"):
            if key in got:
                got[key].append("mutated")  # a host's own list: the next host must not see this


# .NET Framework Release DWORD -> version, at and around every minimum of Microsoft's
# table (shared/reference/itms-domain.md 2.1), written out by hand. derive() shows
# "4.0" for anything below 4.5 and the display text "<version> (<release>)".
DOTNET = [
    (0, "<4.5"), (378388, "<4.5"), (378389, "4.5"), (378390, "4.5"),
    (378674, "4.5"), (378675, "4.5.1"), (378676, "4.5.1"),
    (379892, "4.5.1"), (379893, "4.5.2"), (379894, "4.5.2"),
    (393294, "4.5.2"), (393295, "4.6"), (393296, "4.6"),
    (394253, "4.6"), (394254, "4.6.1"), (394255, "4.6.1"),
    (394801, "4.6.1"), (394802, "4.6.2"), (394803, "4.6.2"),
    (460797, "4.6.2"), (460798, "4.7"), (460799, "4.7"),
    (461307, "4.7"), (461308, "4.7.1"), (461309, "4.7.1"),
    (461807, "4.7.1"), (461808, "4.7.2"), (461814, "4.7.2"),
    (528039, "4.7.2"), (528040, "4.8"), (528041, "4.8"), (528209, "4.8"), (528372, "4.8"), (528449, "4.8"),
    (533319, "4.8"), (533320, "4.8.1"), (533321, "4.8.1"), (533509, "4.8.1"), (4294967295, "4.8.1"),
]


def test_dotnet_version_at_every_boundary() -> None:
    from sitegate.facts.normalize import dotnet_version

    for release, want in DOTNET:
        assert dotnet_version(release) == want, release
        for _ in range(2):  # the second call reads derive's memo
            d = derive({"name": "h", "dotnet": {"release": release}})
            shown = "4.0" if want == "<4.5" else want
            assert (d["dotnet_version"], d["dotnet_display"]) == (shown, f"{want} ({release})"), release


# (product_type, build) -> (os_family, os_name), by hand from itms-domain.md 1.3.
OS = [
    ("server", 17763, "server", "Windows Server 2019"),
    ("domain_controller", 17763, "server", "Windows Server 2019"),
    ("workstation", 17763, "desktop", "Windows 10 1809"),
    ("server", 14393, "server", "Windows Server 2016"),
    ("server", 20348, "server", "Windows Server 2022"),
    ("server", 26100, "server", "Windows Server 2025"),
    ("workstation", 26100, "desktop", "Windows 11 24H2"),
    ("server", 7601, "server", "Windows Server 2008 R2 SP1"),
    ("workstation", 7601, "desktop", "Windows 7 SP1"),
    ("workstation", 19045, "desktop", "Windows 10 22H2"),
    ("server", 19045, "server", None),  # no server was ever built 19045
    ("server", 17762, "server", None),
    ("server", None, "server", None),
    (None, 17763, None, None),
]


def test_os_family_and_name() -> None:
    for ptype, build, family, name in OS:
        os_facts = {k: v for k, v in (("product_type", ptype), ("build", build)) if v is not None}
        for _ in range(2):
            d = derive({"name": "h", "os": os_facts})
            assert d.get("os_family") == family and d.get("os_name") == name, (ptype, build)


def test_no_inputs_no_derived_facts() -> None:
    assert derive({"name": "h"}) == {}
    assert derive({"name": "h", "dotnet": {}, "os": {}, "iis": {}}) == {}
    assert derive({"name": "h", "dotnet": {"release": None}, "iis": {"features": None}, "site_services": {}}) == {}
    assert derive({"name": "h", "site_services": {"installed": [], "planned": None}}) == {"installed_services": [], "roles": []}
    assert derive({"name": "h", "site_services": {"planned": ["task", "task"]}}) == {"roles": ["task"]}
