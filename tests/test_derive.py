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
