"""Remediation scripts: one PowerShell script per host from its failing findings.

The script is built from this module's own templates. Nothing from a facts file
or a policy ever becomes code: host names and fact values appear only inside
single-quoted PowerShell strings (every single-quote character doubled, the
typographic ones included, since PowerShell treats them as quotes too) or in
``#`` line comments with every line break removed. Feature names come only from
the packs' own ``iis_feature_names`` table and must also look like a feature
name; numbers are emitted only as Python ints; verbs only when they are plain
upper-case words. A finding the templates cannot fix becomes a commented manual
step.

Which fixes exist is decided from the failing rule's own conditions (the fact a
comparison reads and the value the pack gives), so a user's pack that checks
the same facts gets the same fixes.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..facts.normalize import dotnet_version
from .compiler import iter_leaves
from .model import Finding, HostResult, Outcome
from .packs import EffectivePack
from .policy import Lit, Rule, TableRef
from .render.text import escape_surrogates
from .unknowns import user_fact

#: Where an administrator checks a site server's prerequisites in the Symantec
#: Management Console (itms-domain.md sections 3.1 and 6.3: the console's
#: "View Prerequisites for Site Service" and the Site Server Settings page).
CONSOLE_PATH = "Symantec Management Console > Settings > Notification Server > Site Server Settings (select the site server, then View Prerequisites for Site Service)"

#: Offline installer file names Microsoft publishes for .NET Framework 4.8 and 4.8.1.
DOTNET_48_INSTALLER = "ndp48-x86-x64-allos-enu.exe"
DOTNET_481_INSTALLER = "ndp481-x86-x64-allos-enu.exe"

_FEATURE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,79}")
_VERB = re.compile(r"[A-Z]{1,20}")
#: PowerShell's single-quote characters: ' and the typographic U+2018-U+201B.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_REG_NET = r"HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full"
_APPHOST = "MACHINE/WEBROOT/APPHOST"
_VERB_FACTS = {"iis.request_filtering.allowed_verbs", "iis.request_filtering.denied_verbs", "iis.request_filtering.allow_unlisted_verbs"}
_RF = "system.webServer/security/requestFiltering"


def ps_quote(value: Any) -> str:
    """A PowerShell single-quoted string literal holding ``value`` verbatim (inert); a lone
    surrogate, which no UTF-8 script holds, is written as its escape (``\\ud800``), so the
    host guard of such a name refuses to run rather than the script failing to be written."""
    text = escape_surrogates(str(value))
    out = []
    for ch in text:
        out.append(ch + ch if ch in _PS_QUOTES else ch)
    return "'" + "".join(out) + "'"


def comment_text(value: Any, limit: int = 300) -> str:
    """Text safe inside a ``#`` line comment: no line break or other control character survives."""
    text = "".join(" " if (unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in "\u0085") else ch for ch in escape_surrogates(str(value)))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class ManualStep:
    """A finding the script does not fix: what to do, by hand."""

    rule_id: str
    severity: str
    gating: bool
    message: str
    remediation: str


@dataclass
class HostScript:
    """The remediation for one host: a script (when something is scriptable) and manual steps."""

    host: str
    script: str | None
    fixes: list[str] = field(default_factory=list)  # rule ids the script addresses
    manual: list[ManualStep] = field(default_factory=list)
    to_collect: list[str] = field(default_factory=list)  # unknown findings: rule id and missing fact


@dataclass
class _Fixes:
    features: list[str] = field(default_factory=list)  # Server Manager names, in pack order
    feature_rules: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    dotnet_min: int = 0
    dotnet_rules: list[str] = field(default_factory=list)
    max_query_string: int = 0
    verbs: list[str] = field(default_factory=list)
    rf_rules: list[str] = field(default_factory=list)


def _table_values(pack: EffectivePack, ref: TableRef) -> list[Any] | None:
    """A table column as a list (None when the reference filters rows by a fact)."""
    if ref.where:
        return None
    table = pack.tables.get(ref.table)
    if table is None:
        return None
    return [row[ref.column] for row in table.rows if ref.column in row]


def _leaf_value(pack: EffectivePack, value: Any) -> Any:
    if isinstance(value, TableRef):
        return _table_values(pack, value)
    if isinstance(value, Lit):
        return value.value
    return value


def feature_names(pack: EffectivePack | None) -> dict[str, str]:
    """Server Manager name -> client optional-feature name, from the pack table (only well-formed names)."""
    if pack is None or "iis_feature_names" not in pack.tables:
        return {}
    out: dict[str, str] = {}
    for row in pack.tables["iis_feature_names"].rows:
        server, desktop = row.get("server"), row.get("desktop")
        if isinstance(server, str) and isinstance(desktop, str) and _FEATURE_NAME.fullmatch(server) and _FEATURE_NAME.fullmatch(desktop):
            out[server] = desktop
    return out


def dotnet_481_allowed(pack: EffectivePack | None, family: str | None, build: Any) -> bool:
    """Whether the pack's dotnet_481_os table lists this OS (family and build range)."""
    if pack is None or "dotnet_481_os" not in pack.tables or type(build) is not int or family is None:
        return False
    for row in pack.tables["dotnet_481_os"].rows:
        lo, hi = row.get("min_build"), row.get("max_build")
        if row.get("family") == family and isinstance(lo, int) and lo <= build and (not isinstance(hi, int) or build <= hi):
            return True
    return False


def _collect_fixes(finding: Finding, rule: Rule, pack: EffectivePack, facts: dict[str, Any], names: dict[str, str], fx: _Fixes) -> bool:
    """Add the fixes a failing finding calls for; False when none of its failing comparisons is scriptable."""
    failing_facts = {e.fact for e in finding.evidence if e.outcome == "fail"}
    derived = facts.get("derived") or {}
    have = set(derived.get("iis_features") or [])
    scripted = False
    for leaf in iter_leaves(rule.assert_):
        value = _leaf_value(pack, leaf.value)
        if leaf.fact == "derived.iis_features" and leaf.op == "contains_all" and leaf.fact in failing_facts and isinstance(value, list):
            missing = [v for v in value if isinstance(v, str) and v not in have]
            mapped = [v for v in missing if v in names]
            fx.unmapped.extend(v for v in missing if v not in names and v not in fx.unmapped)
            if mapped and len(mapped) == len(missing):
                fx.features.extend(v for v in mapped if v not in fx.features)
                scripted = True
        elif leaf.fact == "iis.installed" and leaf.op == "eq" and value is True and leaf.fact in failing_facts:
            for v in ("Web-Server",):  # the role itself; its name is checked against the pack table
                if v in names and v not in fx.features:
                    fx.features.insert(0, v)
                    scripted = True
        elif leaf.fact == "dotnet.release" and leaf.op == "ge" and type(value) is int and leaf.fact in failing_facts:
            fx.dotnet_min = max(fx.dotnet_min, value)
            scripted = True
        elif leaf.fact == "iis.request_filtering.max_query_string" and leaf.op == "ge" and leaf.fact in failing_facts:
            if type(value) is int and 0 < value <= 65536:
                fx.max_query_string = max(fx.max_query_string, value)
                scripted = True
        elif leaf.fact in ("iis.request_filtering.allowed_verbs", "iis.request_filtering.denied_verbs") and leaf.op in ("contains_all", "contains_none"):
            if failing_facts & _VERB_FACTS and isinstance(value, list):
                verbs = [v for v in value if isinstance(v, str) and _VERB.fullmatch(v)]
                fx.verbs.extend(v for v in verbs if v not in fx.verbs)
                scripted = scripted or bool(verbs)
    if scripted:
        if fx.features and rule.id not in fx.feature_rules and any(e.fact in ("derived.iis_features", "iis.installed") for e in finding.evidence):
            fx.feature_rules.append(rule.id)
        if any(e.fact == "dotnet.release" for e in finding.evidence):
            fx.dotnet_rules.append(rule.id)
        if any(e.fact.startswith("iis.request_filtering.") for e in finding.evidence):
            fx.rf_rules.append(rule.id)
    return scripted


def build_host_script(
    host: HostResult,
    rules: dict[str, tuple[Rule, EffectivePack]],
    *,
    target: str,
    tool_version: str,
    facts_digest: str,
) -> HostScript:
    """The remediation for one evaluated host (its facts kept: Options.keep_facts).

    ``rules`` maps a rule id to the rule and the effective pack it was evaluated
    in (its tables); ``facts_digest`` is the sha256 of the facts file.
    """
    facts = host.facts or {}
    derived = facts.get("derived") or {}
    family = derived.get("os_family")
    build = (facts.get("os") or {}).get("build")
    out = HostScript(host=host.name, script=None)
    fx = _Fixes()
    addressed: list[Finding] = []
    pack_for_tables: EffectivePack | None = None
    for finding in host.findings:
        if finding.waived is not None:
            continue
        entry = rules.get(finding.rule_id)
        if finding.outcome is Outcome.UNKNOWN:
            missing = ", ".join(sorted({user_fact(e.fact) for e in finding.evidence if e.outcome == "unknown"})) or "a fact"
            out.to_collect.append(f"{finding.rule_id}: {missing}")
            continue
        if finding.outcome is not Outcome.FAIL or entry is None:
            if finding.outcome is Outcome.ERROR:
                out.manual.append(ManualStep(finding.rule_id, finding.severity, finding.gating, finding.message, "The rule could not be evaluated; see the check report."))
            continue
        rule, pack = entry
        pack_for_tables = pack_for_tables or pack
        names = feature_names(pack)
        if family in ("server", "desktop") and _collect_fixes(finding, rule, pack, facts, names, fx):
            addressed.append(finding)
        else:
            out.manual.append(ManualStep(finding.rule_id, finding.severity, finding.gating, finding.message, rule.remediation))
    if fx.unmapped:
        out.manual.append(ManualStep(
            "IIS", "note", False, f"{host.name}: IIS role services not in the pack's iis_feature_names table",
            "Install by hand: " + ", ".join(fx.unmapped)))
    if not addressed:
        return out
    out.fixes = [f.rule_id for f in addressed]
    out.script = _render(host, facts, addressed, out.manual, out.to_collect, fx, pack_for_tables, family, build, target, tool_version, facts_digest)
    return out


def _header(host: HostResult, facts: dict[str, Any], addressed: Sequence[Finding], manual: Sequence[ManualStep],
            to_collect: Sequence[str], target: str, tool_version: str, digest: str, family: str | None, build: Any) -> list[str]:
    derived = facts.get("derived") or {}
    os_name = derived.get("os_name") or (facts.get("os") or {}).get("caption") or "unknown OS"
    lines = [
        "#Requires -RunAsAdministrator",
        "# sitegate remediation script. Review it, run it with -WhatIf first, then run it as Administrator.",
        f"# Host:          {comment_text(host.name)}",
        f"# Target:        ITMS {comment_text(target)}",
        f"# Generated by:  sitegate {comment_text(tool_version)}",
        f"# Facts file:    {comment_text(host.source)} (record {host.index + 1}, line {host.line})",
        f"# Facts sha256:  {comment_text(digest)}",
        f"# OS:            {comment_text(os_name)} (build {comment_text(build)}, {comment_text(family)})",
        "# Findings this script addresses:",
    ]
    for f in addressed:
        gate = "gates" if f.gating else "does not gate"
        lines.append(f"#   {comment_text(f.rule_id)} ({comment_text(f.severity)}, {gate}): {comment_text(f.message)}")
    if manual:
        lines.append(f"# Manual steps (not scripted): {len(manual)}, listed at the end of this script.")
    if to_collect:
        lines.append("# Not decided (facts missing; collect them and run sitegate again):")
        lines.extend(f"#   {comment_text(t)}" for t in to_collect)
    return lines


def _render(host: HostResult, facts: dict[str, Any], addressed: Sequence[Finding], manual: Sequence[ManualStep],
            to_collect: Sequence[str], fx: _Fixes, pack: EffectivePack | None, family: str | None, build: Any,
            target: str, tool_version: str, digest: str) -> str:
    lines = _header(host, facts, addressed, manual, to_collect, target, tool_version, digest, family, build)
    allow_481 = dotnet_481_allowed(pack, family, build)
    lines += ["[CmdletBinding(SupportsShouldProcess)]", "param("]
    if fx.dotnet_min:
        installers = f"{DOTNET_48_INSTALLER} or {DOTNET_481_INSTALLER}" if allow_481 else DOTNET_48_INSTALLER
        lines += [f"    # Full path of the .NET Framework offline installer ({installers}).",
                  "    [string]$DotNetInstallerPath = ''"]
    lines += [")", "Set-StrictMode -Version Latest", "$ErrorActionPreference = 'Stop'", ""]
    lines += [
        f"$SitegateHost = {ps_quote(host.name)}",
        "# The guard compares the first label of the host name, as COMPUTERNAME holds no domain.",
        "$ExpectedName = $SitegateHost.Split('.')[0]",
        "if ($env:COMPUTERNAME -ne $ExpectedName) {",
        "    throw ('This script was written for {0}, not for {1}: nothing was changed.' -f $SitegateHost, $env:COMPUTERNAME)",
        "}",
        "$script:RestartNeeded = $false",
        "",
    ]
    if fx.features:
        lines += _features_block(fx, feature_names(pack), family)
    if fx.max_query_string or fx.verbs:
        lines += _request_filtering_block(fx)
    if fx.dotnet_min:
        lines += _dotnet_block(fx, family, build, allow_481)
    if manual:
        lines.append("# Manual steps (sitegate cannot script these; check each in the console):")
        lines.append(f"#   Console: {CONSOLE_PATH}")
        for m in manual:
            gate = "gates" if m.gating else "does not gate"
            lines.append(f"#   {comment_text(m.rule_id)} ({comment_text(m.severity)}, {gate}): {comment_text(m.message)}")
            lines.append(f"#     Fix: {comment_text(m.remediation, 600)}")
        lines.append("")
    lines += [
        "if ($script:RestartNeeded) {",
        "    Write-Warning 'A restart is needed to finish these changes. Restart, then collect facts and run sitegate again.'",
        "} else {",
        "    Write-Host 'Done. Collect facts again and run sitegate to confirm.'",
        "}",
    ]
    return "\r\n".join(lines) + "\r\n"


def _ps_list(values: Iterable[str]) -> str:
    return "@(" + ", ".join(ps_quote(v) for v in values) + ")"


def _features_block(fx: _Fixes, names: dict[str, str], family: str | None) -> list[str]:
    rules = ", ".join(fx.feature_rules)
    if family == "server":
        return [
            f"# {rules}: IIS role services missing on this host (names from the pack table iis_feature_names).",
            f"$Features = {_ps_list(fx.features)}",
            "if ($PSCmdlet.ShouldProcess($SitegateHost, ('Install-WindowsFeature ' + ($Features -join ', ')))) {",
            "    $Result = Install-WindowsFeature -Name $Features",
            "    if (-not $Result.Success) { throw 'Install-WindowsFeature did not succeed.' }",
            "    if ([string]$Result.RestartNeeded -eq 'Yes') { $script:RestartNeeded = $true }",
            "}",
            "",
        ]
    desktop = [names[f] for f in fx.features]
    return [
        f"# {rules}: IIS optional features missing on this host (client names from the pack table iis_feature_names).",
        f"$Features = {_ps_list(desktop)}",
        "if ($PSCmdlet.ShouldProcess($SitegateHost, ('Enable-WindowsOptionalFeature -Online -FeatureName ' + ($Features -join ', ')))) {",
        "    $Result = Enable-WindowsOptionalFeature -Online -FeatureName $Features -All -NoRestart",
        "    if ($Result.RestartNeeded) { $script:RestartNeeded = $true }",
        "}",
        "",
    ]


def _request_filtering_block(fx: _Fixes) -> list[str]:
    rules = ", ".join(fx.rf_rules)
    lines = [
        f"# {rules}: IIS request filtering (server-wide, applicationHost.config).",
        "Import-Module WebAdministration",
        f"$AppHost = {ps_quote(_APPHOST)}",
    ]
    if fx.max_query_string:
        lines += [
            f"$Limits = {ps_quote(_RF + '/requestLimits')}",
            "$Current = [int](Get-WebConfigurationProperty -PSPath $AppHost -Filter $Limits -Name maxQueryString).Value",
            f"if ($Current -lt {int(fx.max_query_string)}) {{",
            f"    if ($PSCmdlet.ShouldProcess($SitegateHost, 'Set request filtering maxQueryString to {int(fx.max_query_string)}')) {{",
            f"        Set-WebConfigurationProperty -PSPath $AppHost -Filter $Limits -Name maxQueryString -Value {int(fx.max_query_string)}",
            "    }",
            "}",
        ]
    if fx.verbs:
        lines += [
            f"$Verbs = {ps_quote(_RF + '/verbs')}",
            f"foreach ($Verb in {_ps_list(fx.verbs)}) {{",
            "    $Entry = @(Get-WebConfiguration -PSPath $AppHost -Filter ($Verbs + '/add') | Where-Object { $_.verb -eq $Verb })",
            "    if ($Entry.Count -eq 0) {",
            "        if ($PSCmdlet.ShouldProcess($SitegateHost, ('Allow the HTTP verb ' + $Verb + ' in request filtering'))) {",
            "            Add-WebConfigurationProperty -PSPath $AppHost -Filter $Verbs -Name '.' -Value @{ verb = $Verb; allowed = $true }",
            "        }",
            "    } elseif (-not [bool]$Entry[0].allowed) {",
            "        if ($PSCmdlet.ShouldProcess($SitegateHost, ('Stop denying the HTTP verb ' + $Verb + ' in request filtering'))) {",
            "            Set-WebConfigurationProperty -PSPath $AppHost -Filter ($Verbs + \"/add[@verb='\" + $Verb + \"']\") -Name allowed -Value $true",
            "        }",
            "    }",
            "}",
        ]
    return lines + [""]


def _dotnet_block(fx: _Fixes, family: str | None, build: Any, allow_481: bool) -> list[str]:
    rules = ", ".join(fx.dotnet_rules)
    need = dotnet_version(fx.dotnet_min)
    if allow_481:
        offer = "This OS can take .NET Framework 4.8 or 4.8.1 (pack table dotnet_481_os)."
    else:
        offer = "This OS can take .NET Framework 4.8, not 4.8.1 (4.8.1 installs only where the pack table dotnet_481_os lists the OS)."
    lines = [
        f"# {rules}: .NET Framework {need} or later is needed (Release {int(fx.dotnet_min)}).",
        f"# {offer}",
        "$NetKey = " + ps_quote(_REG_NET),
        "$Release = 0",
        "$Item = Get-ItemProperty -LiteralPath $NetKey -Name Release -ErrorAction SilentlyContinue",
        "if ($null -ne $Item) { $Release = [int]$Item.Release }",
        f"if ($Release -ge {int(fx.dotnet_min)}) {{",
        "    Write-Verbose ('.NET Framework Release {0} already meets the requirement.' -f $Release)",
        "} else {",
        "    if ([string]::IsNullOrEmpty($DotNetInstallerPath)) {",
        f"        throw ('.NET Framework Release {{0}} is below {int(fx.dotnet_min)}: give the offline installer with -DotNetInstallerPath.' -f $Release)",
        "    }",
        "    if (-not (Test-Path -LiteralPath $DotNetInstallerPath -PathType Leaf)) { throw ('No installer at {0}.' -f $DotNetInstallerPath) }",
    ]
    if not allow_481:
        lines.append("    if ((Split-Path -Leaf $DotNetInstallerPath) -like 'ndp481*') { throw '.NET Framework 4.8.1 does not install on this OS: use the 4.8 offline installer.' }")
    lines += [
        "    if ($PSCmdlet.ShouldProcess($SitegateHost, ('Install .NET Framework from ' + $DotNetInstallerPath))) {",
        "        $Process = Start-Process -FilePath $DotNetInstallerPath -ArgumentList '/q', '/norestart' -Wait -PassThru",
        "        switch ($Process.ExitCode) {",
        "            0 { }",
        "            3010 { $script:RestartNeeded = $true }",
        "            1641 { $script:RestartNeeded = $true }",
        "            5100 { throw 'The .NET Framework installer says this computer does not meet its requirements (exit code 5100).' }",
        "            default { throw ('The .NET Framework installer failed with exit code {0}.' -f $Process.ExitCode) }",
        "        }",
        "    }",
        "}",
        "",
    ]
    return lines


# --- files ---------------------------------------------------------------------------------

def script_file_names(hosts: Sequence[str]) -> list[str]:
    """A file name per host: sanitised, never a path, unique even on a case-insensitive file system."""
    taken: set[str] = set()
    out = []
    for name in hosts:
        base = unicodedata.normalize("NFKC", name)
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._-")[:80] or "host"
        if base.split(".")[0].upper() in _WINDOWS_RESERVED:
            base = "_" + base
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.lower())
        out.append(candidate + ".ps1")
    return out


class RemediateDirError(Exception):
    """The output directory cannot take the scripts (a usage error)."""


def check_output_dir(directory: str, inputs: Iterable[str]) -> None:
    """-o DIR must be a directory we can write (created if missing), and not inside an input folder."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise RemediateDirError(f"{directory}: is a file, not a directory")
    real = os.path.realpath(directory)
    for path in inputs:
        if path == "-" or not os.path.exists(path):
            continue
        root = os.path.realpath(path)
        if os.path.isdir(root) and (real == root or real.startswith(root.rstrip(os.sep) + os.sep)):
            raise RemediateDirError(f"{directory}: is inside the input folder {path}; write the scripts elsewhere")
        if not os.path.isdir(root) and real == root:
            raise RemediateDirError(f"{directory}: is an input file")


def write_scripts(directory: str, files: Sequence[tuple[str, str]]) -> list[str]:
    """Write (file name, text) pairs into directory atomically: every file, or none.

    Each text goes to a temporary file in the same directory first; only when
    all are written are they renamed into place. A failure removes the temporary
    files and raises OSError. Returns the paths written.
    """
    os.makedirs(directory, exist_ok=True)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise RemediateDirError(f"{directory}: not writable")
    temps: list[tuple[str, str]] = []
    try:
        for name, text in files:
            if os.path.basename(name) != name or name in ("", ".", ".."):
                raise RemediateDirError(f"{name!r} is not a plain file name")
            fd, tmp = tempfile.mkstemp(prefix=".sitegate-", suffix=".tmp", dir=directory)
            temps.append((tmp, os.path.join(directory, name)))
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
                fh.write(text)
            os.chmod(tmp, 0o644 & ~_umask())
        for tmp, final in temps:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    return [final for _, final in temps]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_sha256(path: str) -> str:
    """sha256 of a file's bytes ('' for stdin or an unreadable file)."""
    if path == "-" or not os.path.isfile(path):
        return ""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fix_notes(host: HostResult, rules: dict[str, tuple[Rule, EffectivePack]]) -> dict[str, str]:
    """One line per scriptable failing finding: the fix for this host's OS (for plans and work lists).

    Needs the host's facts (Options.keep_facts). Findings with no scripted fix get no note:
    their rule's own remediation applies.
    """
    facts = host.facts or {}
    derived = facts.get("derived") or {}
    family = derived.get("os_family")
    build = (facts.get("os") or {}).get("build")
    os_name = derived.get("os_name") or "this OS"
    notes: dict[str, str] = {}
    if family not in ("server", "desktop"):
        return notes
    for finding in host.findings:
        entry = rules.get(finding.rule_id)
        if finding.outcome is not Outcome.FAIL or entry is None or finding.waived is not None:
            continue
        rule, pack = entry
        fx = _Fixes()
        if not _collect_fixes(finding, rule, pack, facts, feature_names(pack), fx):
            continue
        parts = []
        if fx.features:
            if family == "server":
                parts.append("Install-WindowsFeature " + ", ".join(fx.features))
            else:
                names = feature_names(pack)
                parts.append("Enable-WindowsOptionalFeature -Online -FeatureName " + ", ".join(names[f] for f in fx.features))
        if fx.max_query_string:
            parts.append(f"set request filtering maxQueryString to {fx.max_query_string}")
        if fx.verbs:
            parts.append("allow the verbs " + ", ".join(fx.verbs) + " in request filtering")
        if fx.dotnet_min:
            if dotnet_481_allowed(pack, family, build):
                parts.append(f"install .NET Framework 4.8 or 4.8.1 ({os_name} takes either; offline installers {DOTNET_48_INSTALLER}, {DOTNET_481_INSTALLER}), then reboot")
            else:
                parts.append(f"install .NET Framework 4.8 (offline installer {DOTNET_48_INSTALLER}; 4.8.1 does not install on {os_name}), then reboot")
        notes[finding.rule_id] = "; ".join(parts) + " (sitegate remediate writes the script)"
    return notes


@dataclass
class RemediationRun:
    """`sitegate remediate` as data: a script or manual steps per host, and the exit code."""

    target: str
    scripts: list[HostScript] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (file name, script text), in host order
    diagnostics: list[str] = field(default_factory=list)
    hosts_evaluated: int = 0
    exit_code: int = 0

    def summary_text(self, directory: str) -> str:
        """What was written, and the hosts left with manual steps or facts to collect."""
        lines = []
        names = dict(zip((s.host for s in self.scripts if s.script is not None), (f for f, _ in self.files)))
        for s in self.scripts:
            if s.script is not None:
                lines.append(f"SCRIPT   {comment_text(s.host)}: {os.path.join(directory, names[s.host])} ({', '.join(s.fixes)})"
                             + (f"; {len(s.manual)} manual step(s) listed in it" if s.manual else ""))
            elif s.manual:
                lines.append(f"MANUAL   {comment_text(s.host)}: no scriptable fix; " + "; ".join(f"{m.rule_id}: {comment_text(m.remediation, 200)}" for m in s.manual))
            if s.to_collect:
                lines.append(f"COLLECT  {comment_text(s.host)}: " + "; ".join(comment_text(t) for t in s.to_collect))
        manual_only = sum(1 for s in self.scripts if s.script is None and s.manual)
        lines.extend(self.diagnostics)
        lines.append(f"{len(self.files)} script(s) written to {directory} for ITMS {self.target}; {manual_only} host(s) with manual steps only; "
                     f"{self.hosts_evaluated} host(s) evaluated (exit code {self.exit_code})")
        return "\n".join(lines) + "\n"


def remediate(items: Any, policies: Any, options: Any, *, target: str) -> RemediationRun:
    """Evaluate the facts at ``target`` and build each host's script.

    ``items`` are the facts (as ``evaluate`` takes them), ``options`` an
    ``engine.evaluate.Options`` (--fail-on, waivers, audit date; its target is
    replaced). Exit code: 2 for bad input (as ``check``); 1 when a gating finding
    is left that no script fixes (a manual step or a fact to collect); 0 otherwise.
    """
    from dataclasses import replace

    from . import __version__
    from .evaluate import evaluate

    report = evaluate(items, policies, replace(options, target=target, keep_facts=True, full_outcomes=False))
    out = RemediationRun(target=target)
    rules = {rule.id: (rule, e) for e in policies.select(target) for rule in e.rules}
    digests: dict[str, str] = {}
    left_gating = False
    for host in report.hosts:
        if host.rejected:
            continue
        out.hosts_evaluated += 1
        if host.source not in digests:
            digests[host.source] = file_sha256(host.source) or "(not a single file)"
        hs = build_host_script(host, rules, target=target, tool_version=__version__, facts_digest=digests[host.source])
        fixed = set(hs.fixes)
        if any(f.gating and f.rule_id not in fixed for f in host.findings):
            left_gating = True
        if hs.script is not None or hs.manual or hs.to_collect:
            out.scripts.append(hs)
    with_script = [s for s in out.scripts if s.script is not None]
    out.files = list(zip(script_file_names([s.host for s in with_script]), [s.script or "" for s in with_script]))
    out.diagnostics = [d.format() for d in report.summary.diagnostics if d.level.value == "error"]
    out.exit_code = 2 if report.exit_code == 2 else (1 if left_gating else 0)
    return out
