"""Static checks over collect.ps1, for the defect classes a real Windows run found or would find.

PowerShell cannot be installed here, so these read the script's text. A small
tokenizer blanks comments and string contents (keeping line numbers and braces
outside strings), which is enough to know the top-level statements, which code
sits inside which block, and what the code (not its comments) calls. The
checks are line-based on purpose: tree-sitter-powershell reports false errors
on this very script (1MB suffixes, calculated properties, nested type names).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from sitegate.facts.importers.powershell import FILE_NAMES

SCRIPT = Path(__file__).resolve().parents[2] / "facts" / "collector" / "collect.ps1"
TEXT = SCRIPT.read_text("utf-8")


def blank(text: str, *, strings: bool = False) -> str:
    """The script with comments removed and string contents blanked (quotes, newlines and braces outside kept).

    With ``strings`` the string contents are kept: only comments go.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("<#", i):
            j = text.find("#>", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "'":
            j = i + 1
            while j < n and not (text[j] == "'" and not text.startswith("''", j)):
                j += 2 if text.startswith("''", j) else 1
            out.append("'" + (text[i + 1:j] if strings else re.sub(r"[^\n]", "_", text[i + 1:j])) + "'")
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "`" else 1
            out.append('"' + (text[i + 1:j] if strings else re.sub(r"[^\n]", "_", text[i + 1:j])) + '"')
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


CODE = blank(TEXT)
NO_COMMENTS = blank(TEXT, strings=True)
assert len(CODE) == len(TEXT) == len(NO_COMMENTS)


@dataclass
class Line:
    """One line of the script: its number, original text, blanked code and brace depth at its start."""

    number: int
    text: str
    code: str
    depth: int


def lines() -> list[Line]:
    out: list[Line] = []
    depth = 0
    for number, (text, code) in enumerate(zip(TEXT.splitlines(), CODE.splitlines()), 1):
        out.append(Line(number, text, code, depth))
        depth += code.count("{") - code.count("}")
    assert depth == 0, "unbalanced braces"
    return out


LINES = lines()


def blocks(opener: re.Pattern[str]) -> list[tuple[int, int]]:
    """(first, last) line numbers of each top-level block whose first line matches ``opener``."""
    spans: list[tuple[int, int]] = []
    for idx, ln in enumerate(LINES):
        if ln.depth == 0 and opener.match(ln.code):
            end = idx
            while end + 1 < len(LINES) and LINES[end + 1].depth > 0:
                end += 1
            spans.append((ln.number, LINES[end].number))
    return spans


def section(start_marker: str, end_marker: str) -> list[Line]:
    first = next(ln.number for ln in LINES if ln.text.startswith(start_marker))
    last = next(ln.number for ln in LINES if ln.text.startswith(end_marker))
    return [ln for ln in LINES if first < ln.number < last]


def function_body(name: str) -> str:
    ((first, last),) = blocks(re.compile(rf"^function {re.escape(name)}\b"))
    return "\n".join(ln.code for ln in LINES if first <= ln.number <= last)


PROBE = re.compile(r"^Invoke-Probe '")
PROBE_SPANS = blocks(PROBE)
FUNCTION_SPANS = blocks(re.compile(r"^function "))


def inside(number: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= number <= b for a, b in spans)


def test_tokenizer_sees_the_script_right() -> None:
    # A few anchors that a broken tokenizer would miss: it must be able to fail.
    assert len(PROBE_SPANS) >= 15
    assert {"Add-Warning", "Save-Raw", "Invoke-Probe", "Read-RegistryKey", "Get-Cim"} <= {
        re.match(r"^function ([\w-]+)", LINES[a - 1].code).group(1) for a, _ in FUNCTION_SPANS  # type: ignore[union-attr]
    }
    assert "Altiris" not in CODE.replace("Altiris_", "")  # only inside strings and comments


def test_no_validateset_on_list_parameters() -> None:
    """19.1: with -File, 'task,package' arrives as one string, which a ValidateSet rejects before the script runs."""
    first = next(ln.number for ln in LINES if ln.code.startswith("param("))
    last = next(ln.number for ln in LINES if ln.number > first and ln.code.startswith(")"))
    param_code = "\n".join(ln.code for ln in LINES if first <= ln.number <= last)
    assert "[string[]]$PlannedServices" in param_code
    assert "ValidateSet" not in CODE
    # The list is split on commas, semicolons and blanks inside the script, then checked with a clear message.
    assert "-split '[,;\\s]+'" in TEXT
    assert "is not a site service" in TEXT and "throw" in CODE


def test_services_only_through_the_vendor_filter() -> None:
    """19.2/19.3: services come from CIM Win32_Service, filtered to Symantec/Altiris; the script matches no markers."""
    assert "Get-Service" not in CODE  # PowerShell 7.0-7.5 lose the whole list on one unqueryable service
    assert "$VendorPattern = 'Altiris|Symantec'" in TEXT
    (svc,) = [ln for ln in LINES if "Win32_Service" in ln.text and "Get-CimInstance" in ln.code]
    following = "\n".join(ln.text for ln in LINES if svc.number <= ln.number <= svc.number + 3)
    assert "-match $VendorPattern" in following
    # The role markers live in Python only (parse._SERVICE_MARKERS); the script converts nothing.
    for marker in ("monitor service", "task server", "package server", "network boot service"):
        assert marker not in NO_COMMENTS.lower(), marker


def test_every_registry_read_has_a_32_bit_fallback() -> None:
    """19.3: one registry reader, 64-bit view then WOW6432Node; nothing reads HKLM another way."""
    assert CODE.count("OpenBaseKey") == 1
    reader = function_body("Read-RegistryKey")
    assert "OpenBaseKey" in reader and "Registry64" in reader and "Registry32" in reader
    assert reader.index("Registry64") < reader.index("Registry32")
    for forbidden in ("HKLM:", "Registry::", "Get-ItemProperty", "StdRegProv", "reg.exe", "reg query"):
        assert forbidden not in TEXT, forbidden
    # Every HKLM path literal is an argument of Read-RegistryKey.
    for ln in LINES:
        if re.search(r"'SOFTWARE\\", ln.text):
            assert "Read-RegistryKey" in ln.code, f"line {ln.number}: {ln.text.strip()}"


def test_every_probe_is_wrapped() -> None:
    """19.4: between the probes markers every top-level statement is an Invoke-Probe block."""
    body = section("# --- Rights", "# --- The run's own record")
    for ln in body:
        if ln.depth == 0 and ln.code.strip() and not ln.code.startswith("}"):
            assert PROBE.match(ln.code) or ln.code.startswith("$Elevated = $null"), f"line {ln.number} is outside a probe: {ln.text}"
    # And every read anywhere in the script happens inside a probe (or a helper a probe calls).
    reads = re.compile(r"Get-CimInstance|Get-Cim |Read-RegistryKey '|Get-WindowsFeature|Get-WindowsOptionalFeature|ReadAllText|Get-WebConfiguration|GetVersionInfo|TcpClient")
    for ln in LINES:
        if reads.search(ln.code) and not inside(ln.number, FUNCTION_SPANS):
            assert inside(ln.number, PROBE_SPANS), f"line {ln.number} reads outside a probe: {ln.text.strip()}"
    wrapper = function_body("Invoke-Probe")
    assert "try" in wrapper and "catch" in wrapper and "Add-Warning" in wrapper


def test_features_choose_by_product_type_and_fall_through() -> None:
    """19.3: ServerManager first on servers, DISM first on workstations, CIM last; a failure tries the next."""
    assert "if ($State.ProductType -eq 1) { $methods = @('Dism', 'Cim', 'ServerManager') }" in TEXT
    assert "$methods = @('ServerManager', 'Dism', 'Cim')" in TEXT
    (span,) = [s for s in PROBE_SPANS if "'Windows features'" in LINES[s[0] - 1].text]
    probe = "\n".join(ln.code for ln in LINES if span[0] <= ln.number <= span[1])
    assert "foreach ($m in $methods)" in probe and probe.count("catch") == 1 and "return" in probe


def test_unreadable_is_not_absent_in_the_script() -> None:
    """19.2: a key that cannot be opened throws (its probe warns, no file is written); only absence writes {}."""
    reader = function_body("Read-RegistryKey")
    assert "catch" not in reader  # a SecurityException must reach the probe, not become "absent"
    assert "return [ordered]@{ Found = $false }" in TEXT
    assert "if ($null -eq $limits) { throw" in TEXT  # Get-WebConfiguration's $null is no 0
    assert "Get-Module -ListAvailable" not in TEXT  # PowerShell 7 hides WebAdministration there


def test_warns_once_when_not_elevated() -> None:
    assert TEXT.count("WindowsBuiltInRole]::Administrator") == 1
    assert TEXT.count("not running elevated") == 1


def test_64_bit_relaunch_and_program_files() -> None:
    """19.2: a 32-bit host starts the 64-bit PowerShell through Sysnative; ProgramW6432 is a Known Folder."""
    assert "Sysnative\\WindowsPowerShell\\v1.0\\powershell.exe" in TEXT
    assert "-not [Environment]::Is64BitProcess -and -not $NoRelaunch" in TEXT
    assert "exit $LASTEXITCODE" in TEXT
    assert "$env:ProgramW6432" in TEXT and "$env:CommonProgramW6432" in TEXT


def test_powershell_4_compatible() -> None:
    """19.4: #Requires 4.0 (Server 2012 R2's own PowerShell) and nothing newer in the code."""
    assert TEXT.startswith("#Requires -Version 4.0\n")
    newer = {
        "::new(": "5.0 constructor syntax", "?.": "7.1 null-conditional", "??": "7.0 null-coalescing", "&&": "7.0 pipeline chain",
        "||": "7.0 pipeline chain", "-Parallel": "7.0 ForEach-Object -Parallel", "Write-Information": "5.0", "Compress-Archive": "5.0",
        "Expand-Archive": "5.0", "New-TemporaryFile": "5.0", "Get-ItemPropertyValue": "5.0", "-AsHashtable": "6.0", "utf8NoBOM": "6.0",
        "Get-Clipboard": "5.0", "ConvertFrom-String": "5.0", "$PSEdition": "5.1", ".PSEdition": "5.1",
    }
    for token, why in newer.items():
        assert token not in CODE, f"{token}: {why}"
    for ln in LINES:
        assert not re.match(r"^\s*(class|enum|using)\s", ln.code), f"line {ln.number}: 5.0 syntax"
        assert not re.search(r"\)\s*\?\s*[^:]+:", ln.code), f"line {ln.number}: 7.0 ternary"
    assert TEXT.isascii()  # 5.1 reads a BOM-less script as ANSI


def test_holds_no_conversion() -> None:
    """13.5: the script saves raw reads only; no facts key, unit arithmetic or facts document is written by it."""
    for key in ("memory_mb", "product_type", "max_query_string", "in_known_folder", "fixed_media", "collected_by", "site_services", "/ 1MB", "/ 1GB", "/ 1024"):
        assert key not in CODE, key
    assert CODE.count("ConvertTo-Json") == 1  # in Save-Raw only
    assert "ConvertTo-Json" in function_body("Save-Raw")


def test_every_file_written_is_one_the_importer_reads() -> None:
    """19.5: each Save-Raw name is a file of the importer's layout and in the script's clean-up list."""
    saved = set(re.findall(r"Save-Raw '([\w.]+)'", TEXT))
    listed = set(re.findall(r"'([\w.]+\.(?:json|config))'", TEXT.split("$RawFiles = @(")[1].split(")")[0]))
    assert saved | {"applicationHost.config"} == listed
    for name in saved:
        assert name.rsplit(".", 1)[0].lower() in FILE_NAMES, name
    assert "'applicationHost.config'), $xml.OuterXml" in TEXT


def test_read_only_on_the_host() -> None:
    for verb in ("Set-ItemProperty", "Remove-Item", "New-ItemProperty", "Install-WindowsFeature", "Enable-WindowsOptionalFeature",
                 "Set-Content", "Out-File", "Restart-", "Stop-Service", "Set-Service", "CreateSubKey", "SetValue", "DeleteValue"):
        assert verb not in CODE, verb
    assert "OpenSubKey($Path, $false)" in TEXT  # registry keys opened read-only
    # The only deletions are this script's own earlier output files.
    deletes = [ln for ln in LINES if "Delete(" in ln.code]
    assert len(deletes) == 1 and "$HostDir" in LINES[deletes[0].number - 2].text
    # Passwords never leave the host in the applicationHost.config copy.
    assert "'password'" in TEXT and "RemoveAttributeNode" in TEXT
    assert "UTF8Encoding($false)" in TEXT and "[System.IO.File]::WriteAllText" in TEXT


def test_powershell_parses_the_script() -> None:
    pwsh = shutil.which("pwsh") or shutil.which("powershell")
    if pwsh is None:
        pytest.skip(
            "PowerShell is not installed here (no Debian package, no PyPI/npm package that ships it, "
            "and downloads from GitHub are not reachable); the static checks above stand in for it"
        )
    cmd = (
        "$e=$null;$t=$null;[void][System.Management.Automation.Language.Parser]::ParseFile("
        f"'{SCRIPT}',[ref]$t,[ref]$e);if($e){{$e|ForEach-Object{{$_.ToString()}};exit 1}}"
    )
    proc = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-Command", cmd], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
