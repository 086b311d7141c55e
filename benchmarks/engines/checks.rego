# The 36 readiness checks of benchmarks/baseline_loop.py in Rego (v1 syntax).
#
# Input: one host object (facts.v1). Data: the reference tables of baseline_loop.py,
# loaded by compare_engines.py as data.tables (server_builds, desktop_builds,
# legacy_builds, known_itms, agent_min, itms_871, package_features, task_features,
# task_features_75, desktop_names, needed_verbs, default_store_suffix).
# Query: data.sitegate.checks.result -> {"fail": {check...}, "unknown": {check...}}.
#
# Every check is expressed exactly. Differences from Python that only matter for
# wrongly typed facts (excluded from the exact sanity comparison): Python
# truthiness (`if v:`) is written as `v == true`, and a fact that is JSON null
# counts as absent, as in the loop (the generated fleet has no nulls).
package sitegate.checks

import rego.v1

# ---- facts (null when absent)

fact(path) := object.get(input, path, null)

agent_version := fact(["agent", "version"])

itms := fact(["platform", "itms_version"])

ptype := fact(["os", "product_type"])

build := fact(["os", "build"])

release := fact(["dotnet", "release"])

iis_version := fact(["iis", "version"])

feats := fact(["iis", "features"])

rf := fact(["iis", "request_filtering"])

memory := fact(["hardware", "memory_mb"])

endpoints := fact(["load", "endpoints"])

installed_list := object.get(input, ["site_services", "installed"], [])

planned := {r | some r in object.get(input, ["site_services", "planned"], [])}

installed := {s.service | some s in installed_list}

roles := installed | planned

is_task if "task" in roles

is_pkg if "package" in roles

serves_clients if is_task

serves_clients if is_pkg

desktop if ptype == "workstation"

iis_on if fact(["iis", "installed"]) == true

fs := {object.get(data.tables.desktop_names, f, f) | some f in object.get(input, ["iis", "features"], [])}

has_all(required) if every f in required { f in fs }

vtuple(s) := [to_number(p) | some p in split(s, ".")]

itms_871 if {
	itms != null
	vtuple(itms) >= data.tables.itms_871
}

# ---- 0-3 console prerequisites

fail contains "managed" if {
	v := fact(["agent", "managed"])
	v != null
	v != true
}

unknown contains "managed" if fact(["agent", "managed"]) == null

fail contains "local" if {
	v := fact(["agent", "local"])
	v != null
	v != true
}

unknown contains "local" if fact(["agent", "local"]) == null

fail contains "asset_active" if {
	v := fact(["agent", "asset_status"])
	v != null
	v != "active"
}

unknown contains "asset_active" if fact(["agent", "asset_status"]) == null

fail contains "cem_disabled" if fact(["agent", "cem_mode"]) == true

unknown contains "cem_disabled" if fact(["agent", "cem_mode"]) == null

# ---- 4 agent version, 5 ACC for UNC code bases

unknown contains "agent_version_supported" if agent_version == null

unknown contains "agent_version_supported" if itms == null

unknown contains "agent_version_supported" if {
	itms != null
	not data.tables.agent_min[itms]
}

fail contains "agent_version_supported" if {
	agent_version != null
	minimum := data.tables.agent_min[itms]
	vtuple(agent_version) < minimum
}

unc_codebases if fact(["package_store", "unc_codebases"]) == true

unknown contains "acc_for_unc_codebases" if {
	unc_codebases
	fact(["agent", "acc_configured"]) == null
}

fail contains "acc_for_unc_codebases" if {
	unc_codebases
	fact(["agent", "acc_configured"]) == false
}

# ---- 6-10 operating system

fail contains "arch_x64" if {
	v := fact(["os", "architecture"])
	v != null
	v != "x64"
}

unknown contains "arch_x64" if fact(["os", "architecture"]) == null

unknown contains "os_build_supported" if build == null

unknown contains "os_build_supported" if ptype == null

fail contains "os_build_supported" if {
	build != null
	desktop
	not build in data.tables.desktop_builds
}

fail contains "os_build_supported" if {
	build != null
	ptype != null
	not desktop
	not build in data.tables.server_builds
}

unknown contains "os_not_legacy" if build == null

fail contains "os_not_legacy" if {
	build != null
	build in data.tables.legacy_builds
}

unknown contains "product_type_known" if ptype == null

fail contains "product_type_known" if {
	ptype != null
	not ptype in {"workstation", "server", "domain_controller"}
}

unknown contains "not_domain_controller" if ptype == null

fail contains "not_domain_controller" if ptype == "domain_controller"

# ---- 11-12 .NET

unknown contains "dotnet_48_from_871" if itms == null

unknown contains "dotnet_48_from_871" if {
	itms_871
	release == null
}

fail contains "dotnet_48_from_871" if {
	itms_871
	release != null
	release < 528040
}

unknown contains "dotnet_supported_by_ms" if release == null

fail contains "dotnet_supported_by_ms" if {
	release != null
	release < 394802
}

# ---- 13-19 IIS

unknown contains "iis_installed" if {
	serves_clients
	fact(["iis", "installed"]) == null
}

fail contains "iis_installed" if {
	serves_clients
	v := fact(["iis", "installed"])
	v != null
	v != true
}

unknown contains "iis_version_85_plus" if {
	iis_on
	iis_version == null
}

fail contains "iis_version_85_plus" if {
	iis_on
	iis_version != null
	to_number(iis_version) < 8.5
}

unknown contains "package_iis_features" if {
	iis_on
	feats == null
	is_pkg
}

fail contains "package_iis_features" if {
	iis_on
	feats != null
	is_pkg
	not has_all(data.tables.package_features)
}

unknown contains "task_iis_features" if {
	iis_on
	feats == null
	is_task
}

task_features_ok if has_all(data.tables.task_features)

task_features_ok if {
	iis_version == "7.5"
	has_all(data.tables.task_features_75)
}

fail contains "task_iis_features" if {
	iis_on
	feats != null
	is_task
	not task_features_ok
}

unknown contains "request_filtering_feature" if {
	iis_on
	feats == null
}

fail contains "request_filtering_feature" if {
	iis_on
	feats != null
	not "Web-Filtering" in fs
}

unknown contains "max_query_string_2048" if {
	iis_on
	rf == null
}

unknown contains "max_query_string_2048" if {
	iis_on
	rf != null
	object.get(rf, "max_query_string", null) == null
}

fail contains "max_query_string_2048" if {
	iis_on
	rf != null
	v := object.get(rf, "max_query_string", null)
	v != null
	v < 2048
}

unknown contains "verbs_get_post_head" if {
	iis_on
	rf == null
}

verb_blocked(verb) if verb in object.get(rf, "denied_verbs", [])

verb_blocked(verb) if {
	object.get(rf, "allow_unlisted_verbs", null) == false
	not verb in object.get(rf, "allowed_verbs", [])
}

fail contains "verbs_get_post_head" if {
	iis_on
	rf != null
	some verb in data.tables.needed_verbs
	verb_blocked(verb)
}

# ---- 20-26 hardware and package store

unknown contains "memory_8g" if memory == null

fail contains "memory_8g" if {
	memory != null
	memory < 8192
}

big_task if {
	is_task
	endpoints != null
	endpoints > 5000
}

unknown contains "memory_16g_big_task" if {
	big_task
	memory == null
}

fail contains "memory_16g_big_task" if {
	big_task
	memory != null
	memory < 16384
}

unknown contains "logical_procs_4_task" if {
	is_task
	fact(["hardware", "logical_processors"]) == null
}

fail contains "logical_procs_4_task" if {
	is_task
	v := fact(["hardware", "logical_processors"])
	v != null
	v < 4
}

unknown contains "system_drive_10g" if fact(["hardware", "system_drive_free_gb"]) == null

fail contains "system_drive_10g" if {
	v := fact(["hardware", "system_drive_free_gb"])
	v != null
	v < 10
}

unknown contains "package_store_20g" if {
	is_pkg
	fact(["hardware", "package_store_free_gb"]) == null
}

fail contains "package_store_20g" if {
	is_pkg
	v := fact(["hardware", "package_store_free_gb"])
	v != null
	v < 20
}

unknown contains "package_store_fixed" if {
	is_pkg
	fact(["package_store", "fixed_media"]) == null
}

fail contains "package_store_fixed" if {
	is_pkg
	v := fact(["package_store", "fixed_media"])
	v != null
	v != true
}

# KB 416632 is about a custom location; the default store is exempt
unknown contains "package_store_not_known" if {
	is_pkg
	fact(["package_store", "in_known_folder"]) == null
}

fail contains "package_store_not_known" if {
	is_pkg
	fact(["package_store", "in_known_folder"]) == true
	path := object.get(input, ["package_store", "path"], "")
	not endswith(path, data.tables.default_store_suffix)
}

# ---- 27-31 capacity

unknown contains "task_endpoints_15000" if {
	is_task
	endpoints == null
}

fail contains "task_endpoints_15000" if {
	is_task
	endpoints != null
	endpoints > 15000
}

unknown contains "task_endpoints_5000" if {
	is_task
	endpoints == null
}

fail contains "task_endpoints_5000" if big_task

unknown contains "desktop_endpoints_20" if ptype == null

unknown contains "desktop_endpoints_20" if {
	desktop
	endpoints == null
}

fail contains "desktop_endpoints_20" if {
	desktop
	endpoints != null
	endpoints > 20
}

unknown contains "desktop_connections_10" if ptype == null

unknown contains "desktop_connections_10" if {
	desktop
	fact(["load", "concurrent_connections"]) == null
}

fail contains "desktop_connections_10" if {
	desktop
	v := fact(["load", "concurrent_connections"])
	v != null
	v > 10
}

unknown contains "ns_task_clients_100" if {
	fact(["identity", "is_notification_server"]) == true
	endpoints == null
}

fail contains "ns_task_clients_100" if {
	fact(["identity", "is_notification_server"]) == true
	endpoints != null
	endpoints > 100
}

# ---- 32-33 site services

unknown contains "service_not_installed" if count(object.get(input, "site_services", {})) == 0

fail contains "service_not_installed" if {
	count(object.get(input, "site_services", {})) > 0
	count(installed & planned) > 0
}

unknown contains "service_version_matches" if {
	count(installed_list) > 0
	agent_version == null
}

fail contains "service_version_matches" if {
	agent_version != null
	some s in installed_list
	object.get(s, "version", null) != agent_version
}

# ---- 34-35 platform

unknown contains "itms_version_known" if itms == null

fail contains "itms_version_known" if {
	itms != null
	not itms in data.tables.known_itms
}

fail contains "ig_version_matches" if {
	ig := fact(["platform", "internet_gateway_version"])
	ig != null
	itms != null
	ig != itms
}

result := {"fail": fail, "unknown": unknown}
