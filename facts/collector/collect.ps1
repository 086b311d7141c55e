#Requires -Version 5.1
<#
.SYNOPSIS
    sitegate facts collector: reads what a Symantec/Broadcom ITMS site server is
    made of and writes one sitegate facts JSON file (schemas/facts.v1.schema.json).

.DESCRIPTION
    Read-only. The script changes nothing on the host: it queries CIM classes,
    reads registry values, lists installed Windows features and reads IIS's
    applicationHost.config. The only thing it writes is the facts file (and,
    with -RawDirectory, copies of what it read, for support and for
    `sitegate import --from powershell`).

    Runs on Windows PowerShell 5.1 and PowerShell 7, with no module beyond
    those Windows ships (ServerManager on servers, Dism on desktops,
    WebAdministration when present). Every read is guarded: a read that fails
    leaves its fact out (a rule then reports "unknown", never "pass") and is
    reported as a warning, both on the console and in the file under
    extensions.sitegate_collector_warnings.

    Run it elevated: reading applicationHost.config and
    Get-WindowsOptionalFeature need administrator rights.

    The same conversion, in Python, is sitegate.facts.collector.parse; keep the
    two in step.

.PARAMETER OutFile
    Where to write the facts (default: .\<COMPUTERNAME>.facts.json). UTF-8 without BOM.

.PARAMETER PackageStorePath
    The package server's store, when it is not the default
    <agent install dir>\Package Delivery (Broadcom KB 416632).

.PARAMETER Site
    The ITMS site the host serves (identity.site), which the host cannot know.

.PARAMETER PlannedServices
    Site services to be installed: task, package, network_boot, monitor.

.PARAMETER RawDirectory
    Also save each raw read as JSON there (os.json, features.json, agent.json...),
    in the layout `sitegate import --from powershell` reads.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\collect.ps1 -OutFile C:\Temp\ts01.facts.json -Site Berlin -PlannedServices task,package
#>
[CmdletBinding()]
param(
    [string]$OutFile,
    [string]$PackageStorePath,
    [string]$Site,
    [ValidateSet('task', 'package', 'network_boot', 'monitor')]
    [string[]]$PlannedServices,
    [string]$RawDirectory
)

Set-StrictMode -Version 1
$ErrorActionPreference = 'Stop'

$CollectorName = 'sitegate-collect.ps1'
$CollectorVersion = '1.0.0'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$script:Warnings = New-Object System.Collections.ArrayList

function Add-Warning([string]$Message) {
    [void]$script:Warnings.Add($Message)
    Write-Warning $Message
}

function Save-Raw([string]$Name, $Value) {
    # Copies of raw reads, in the file layout of the PowerShell-export importer.
    if (-not $RawDirectory -or $null -eq $Value) { return }
    try {
        $dir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($RawDirectory)
        [void][System.IO.Directory]::CreateDirectory($dir)
        $json = ConvertTo-Json -InputObject $Value -Depth 6
        [System.IO.File]::WriteAllText((Join-Path $dir $Name), $json, (New-Object System.Text.UTF8Encoding($false)))
    } catch {
        Add-Warning "could not save raw read $Name : $($_.Exception.Message)"
    }
}

# --- Registry ----------------------------------------------------------------
# The 64-bit view, so a 32-bit PowerShell on 64-bit Windows does not read
# Wow6432Node by mistake (the .NET Release value and the 64-bit agent live in
# the native view).
function Open-HklmKey([string]$Path) {
    try {
        $view = [Microsoft.Win32.RegistryView]::Default
        if ([Environment]::Is64BitOperatingSystem) { $view = [Microsoft.Win32.RegistryView]::Registry64 }
        $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $view)
        return $base.OpenSubKey($Path, $false)
    } catch {
        Add-Warning "registry key HKLM\$Path could not be opened: $($_.Exception.Message)"
        return $null
    }
}

function Get-RegValues([string]$Path) {
    # An ordered table of the key's values; $null when the key does not exist.
    $key = Open-HklmKey $Path
    if ($null -eq $key) { return $null }
    $out = [ordered]@{}
    try {
        foreach ($name in $key.GetValueNames()) {
            try { $out[$name] = $key.GetValue($name) } catch { Add-Warning "registry value HKLM\$Path\$name unreadable: $($_.Exception.Message)" }
        }
        $out['SubKeys'] = @($key.GetSubKeyNames())
    } catch {
        Add-Warning "registry key HKLM\$Path unreadable: $($_.Exception.Message)"
    } finally {
        $key.Close()
    }
    return $out
}

function Get-Cim([string]$Class, [string[]]$Properties) {
    try {
        # The comma keeps a one-element result an array (return would unroll it).
        return ,@(Get-CimInstance -ClassName $Class -ErrorAction Stop | Select-Object -Property $Properties)
    } catch {
        Add-Warning "$Class could not be read: $($_.Exception.Message)"
        return $null
    }
}

function Get-Member0($Object, [string]$Name) {
    if ($null -eq $Object) { return $null }
    $p = $Object.PSObject.Properties[$Name]
    if ($null -eq $p) { return $null }
    return $p.Value
}

function Remove-Empty($Value) {
    # Facts that could not be read are left out, not written as null, and
    # objects left with no facts disappear, so the file says only what is known.
    if ($Value -is [System.Collections.IDictionary]) {
        $out = [ordered]@{}
        foreach ($k in @($Value.Keys)) {
            $v = Remove-Empty $Value[$k]
            if ($null -ne $v) { $out[$k] = $v }
        }
        if ($out.Count -eq 0) { return $null }
        return $out
    }
    # The comma stops PowerShell from unrolling a list: a one-feature list must
    # stay a JSON array, and an empty one must stay [] (a fact), not vanish.
    if ($Value -is [System.Array]) { return ,$Value }
    return $Value
}

$facts = [ordered]@{}

# --- Operating system -----------------------------------------------------------
$osRaw = Get-Cim 'Win32_OperatingSystem' @('Caption', 'Version', 'BuildNumber', 'ProductType', 'OSArchitecture', 'OperatingSystemSKU', 'TotalVisibleMemorySize', 'SystemDrive', 'CSName')
$csRaw = Get-Cim 'Win32_ComputerSystem' @('Name', 'DNSHostName', 'Domain', 'PartOfDomain', 'Manufacturer', 'Model', 'TotalPhysicalMemory')
$os = $null; if ($osRaw) { $os = $osRaw[0] }
$cs = $null; if ($csRaw) { $cs = $csRaw[0] }
Save-Raw 'os.json' $os
Save-Raw 'computersystem.json' $cs

$name = $env:COMPUTERNAME
if (-not $name -and $cs) { $name = [string]$cs.Name }
$facts['name'] = $name

$identity = [ordered]@{}
if ($cs -and $cs.Domain -and $cs.PartOfDomain -ne $false) {
    # A workgroup computer reports its workgroup as Domain: no DNS domain then.
    $identity['domain'] = ([string]$cs.Domain).ToLowerInvariant()
    $dnsHost = [string]$cs.DNSHostName
    if (-not $dnsHost) { $dnsHost = [string]$cs.Name }
    if ($dnsHost -and ([string]$cs.Domain).Contains('.')) { $identity['fqdn'] = ($dnsHost + '.' + [string]$cs.Domain).ToLowerInvariant() }
}
if ($Site) { $identity['site'] = $Site }

$osFacts = [ordered]@{}
if ($os) {
    if ($os.Caption) {
        $caption = ([string]$os.Caption).Trim()   # Vista/7 captions end in spaces
        $osFacts['caption'] = $caption
        $c = ' ' + $caption.ToLowerInvariant() + ' '
        foreach ($pair in @(@('datacenter', 'Datacenter'), @('standard', 'Standard'), @('essentials', 'Essentials'), @('enterprise', 'Enterprise'), @('education', 'Education'), @('professional', 'Pro'), @(' pro', 'Pro'), @('home', 'Home'), @('ultimate', 'Ultimate'), @('iot', 'IoT'))) {
            if ($c.Contains($pair[0])) { $osFacts['edition'] = $pair[1]; break }
        }
    }
    if ($os.Version -match '(\d+\.\d+(\.\d+)?)') { $osFacts['version'] = $Matches[1] }
    $build = 0
    if ([int]::TryParse([string]$os.BuildNumber, [ref]$build)) { $osFacts['build'] = $build }
    # Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server.
    switch ([int]$os.ProductType) {
        1 { $osFacts['product_type'] = 'workstation' }
        2 { $osFacts['product_type'] = 'domain_controller' }
        3 { $osFacts['product_type'] = 'server' }
        default { Add-Warning "unknown ProductType $($os.ProductType)" }
    }
    # OSArchitecture is localised text ("64-bit", "64 bits", "ARM 64-bit Processor").
    $arch = ([string]$os.OSArchitecture).ToLowerInvariant()
    if ($arch -match 'arm') { if ($arch -match '64') { $osFacts['architecture'] = 'arm64' } }
    elseif ($arch -match '^64') { $osFacts['architecture'] = 'x64' }
    elseif ($arch -match '^32') { $osFacts['architecture'] = 'x86' }
    elseif ($arch) { Add-Warning "unknown OSArchitecture '$arch'" }
}

# --- .NET Framework 4.x ------------------------------------------------------------
# HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full, value Release (REG_DWORD);
# no Full key means 4.5 or later is not installed (itms-domain.md 2.2).
$dotnet = [ordered]@{}
$ndp = Get-RegValues 'SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full'
if ($ndp -and $ndp.Contains('Release')) {
    $dotnet['release'] = [int64]$ndp['Release']
    Save-Raw 'dotnet.json' ([pscustomobject]@{ Release = [int64]$ndp['Release'] })
}

# --- IIS ------------------------------------------------------------------------------
$iis = [ordered]@{}
$features = $null
if (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue) {
    try {
        $wf = @(Get-WindowsFeature -Name 'Web-*' -ErrorAction Stop | Select-Object -Property Name, Installed, @{ n = 'InstallState'; e = { [string]$_.InstallState } })
        Save-Raw 'features.json' $wf
        $features = @($wf | Where-Object { $_.Installed } | ForEach-Object { [string]$_.Name } | Sort-Object -Unique)
    } catch {
        Add-Warning "Get-WindowsFeature failed: $($_.Exception.Message)"
    }
} elseif (Get-Command -Name Get-WindowsOptionalFeature -ErrorAction SilentlyContinue) {
    try {
        $of = @(Get-WindowsOptionalFeature -Online -ErrorAction Stop | Where-Object { $_.FeatureName -like 'IIS-*' } | Select-Object -Property FeatureName, @{ n = 'State'; e = { [string]$_.State } })
        Save-Raw 'optionalfeatures.json' $of
        $features = @($of | Where-Object { $_.State -eq 'Enabled' } | ForEach-Object { [string]$_.FeatureName } | Sort-Object -Unique)
    } catch {
        Add-Warning "Get-WindowsOptionalFeature failed (run elevated): $($_.Exception.Message)"
    }
} else {
    Add-Warning 'neither Get-WindowsFeature nor Get-WindowsOptionalFeature is available: IIS features unknown'
}
if ($null -ne $features) {
    $iis['installed'] = [bool](($features -contains 'Web-Server') -or ($features -contains 'Web-WebServer') -or ($features -contains 'IIS-WebServerRole') -or ($features -contains 'IIS-WebServer'))
    $iis['features'] = [object[]]$features
}
$inetstp = Get-RegValues 'SOFTWARE\Microsoft\InetStp'
if ($inetstp -and $inetstp.Contains('MajorVersion')) {
    $minor = 0; if ($inetstp.Contains('MinorVersion')) { $minor = [int]$inetstp['MinorVersion'] }
    $iis['version'] = '{0}.{1}' -f [int]$inetstp['MajorVersion'], $minor
    if (-not $iis.Contains('installed')) { $iis['installed'] = $true }
    Save-Raw 'iis.json' ([pscustomobject]@{ MajorVersion = [int]$inetstp['MajorVersion']; MinorVersion = $minor })
} elseif ($null -eq $inetstp -and -not $iis.Contains('installed')) {
    $iis['installed'] = $false
}

# Request filtering of the Default Web Site: the server-wide section, then a
# <location path="Default Web Site"> overlay; unset attributes keep the IIS
# schema defaults (maxQueryString 2048, maxUrl 4096, allowUnlisted true).
# A site's own web.config may tighten these further and is not read.
function Read-RequestFiltering {
    $winDir = $env:windir
    $sys = 'System32'
    if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) { $sys = 'Sysnative' }
    $path = Join-Path $winDir "$sys\inetsrv\config\applicationHost.config"
    if (-not (Test-Path -LiteralPath $path)) { return $null }
    try {
        $text = [System.IO.File]::ReadAllText($path)
        if ($RawDirectory) {
            try {
                $dir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($RawDirectory)
                [void][System.IO.Directory]::CreateDirectory($dir)
                [System.IO.File]::WriteAllText((Join-Path $dir 'applicationHost.config'), $text, (New-Object System.Text.UTF8Encoding($false)))
            } catch { Add-Warning "could not save applicationHost.config: $($_.Exception.Message)" }
        }
        $xml = New-Object System.Xml.XmlDocument
        $xml.XmlResolver = $null
        $xml.LoadXml($text)
    } catch {
        Add-Warning "applicationHost.config could not be read (run elevated): $($_.Exception.Message)"
        return $null
    }
    $state = @{ maxQueryString = 2048; maxUrl = 4096; allowUnlisted = $true; verbs = [ordered]@{} }
    $overlay = {
        param($scope)
        if ($null -eq $scope) { return }
        $rf = $scope.SelectSingleNode('system.webServer/security/requestFiltering')
        if ($null -eq $rf) { return }
        $rl = $rf.SelectSingleNode('requestLimits')
        if ($rl) {
            foreach ($a in @('maxQueryString', 'maxUrl')) {
                if ($rl.HasAttribute($a)) { $state[$a] = [int64]$rl.GetAttribute($a) }
            }
        }
        $vs = $rf.SelectSingleNode('verbs')
        if ($vs) {
            if ($vs.HasAttribute('allowUnlisted')) { $state.allowUnlisted = ($vs.GetAttribute('allowUnlisted') -eq 'true') }
            foreach ($el in $vs.ChildNodes) {
                if ($el.NodeType -ne [System.Xml.XmlNodeType]::Element) { continue }
                $verb = ([string]$el.GetAttribute('verb')).ToUpperInvariant()
                if ($el.LocalName -eq 'clear') { $state.verbs.Clear() }
                elseif ($el.LocalName -eq 'remove' -and $verb) { if ($state.verbs.Contains($verb)) { $state.verbs.Remove($verb) } }
                elseif ($el.LocalName -eq 'add' -and $verb) { $state.verbs[$verb] = ($el.GetAttribute('allowed') -ne 'false') }
            }
        }
    }
    & $overlay $xml.DocumentElement
    foreach ($loc in @($xml.DocumentElement.SelectNodes('location'))) {
        $p = [string]$loc.GetAttribute('path')
        if ($p -eq '' -or $p -eq '.') { & $overlay $loc }
    }
    foreach ($loc in @($xml.DocumentElement.SelectNodes('location'))) {
        if (([string]$loc.GetAttribute('path')).Trim('/') -eq 'Default Web Site') { & $overlay $loc }
    }
    $allowed = @($state.verbs.Keys | Where-Object { $state.verbs[$_] })
    $denied = @($state.verbs.Keys | Where-Object { -not $state.verbs[$_] })
    return [ordered]@{
        max_query_string     = [int64]$state.maxQueryString
        max_url              = [int64]$state.maxUrl
        allowed_verbs        = [object[]]$allowed
        denied_verbs         = [object[]]$denied
        allow_unlisted_verbs = [bool]$state.allowUnlisted
    }
}
if ($iis['installed'] -eq $true) {
    $rf = Read-RequestFiltering
    if ($null -eq $rf -and (Get-Module -ListAvailable -Name WebAdministration)) {
        # Fallback when the file cannot be read directly: the IIS configuration API.
        try {
            Import-Module WebAdministration -ErrorAction Stop
            $limits = Get-WebConfiguration -PSPath 'MACHINE/WEBROOT/APPHOST' -Location 'Default Web Site' -Filter 'system.webServer/security/requestFiltering/requestLimits' -ErrorAction Stop
            $rf = [ordered]@{ max_query_string = [int64]$limits.maxQueryString; max_url = [int64]$limits.maxUrl }
        } catch {
            Add-Warning "request filtering could not be read through WebAdministration: $($_.Exception.Message)"
        }
    }
    if ($null -ne $rf) { $iis['request_filtering'] = $rf }
}

# --- Hardware ---------------------------------------------------------------------------
$hardware = [ordered]@{}
$cpus = Get-Cim 'Win32_Processor' @('NumberOfCores', 'NumberOfLogicalProcessors')
Save-Raw 'processors.json' $cpus
if ($cpus) {
    $hardware['logical_processors'] = [int](($cpus | Measure-Object -Property NumberOfLogicalProcessors -Sum).Sum)
    $hardware['cores'] = [int](($cpus | Measure-Object -Property NumberOfCores -Sum).Sum)
}
# Installed memory: the DIMMs' capacity is what sizing tables mean; the OS's
# visible memory (in kilobytes) is a little less, so it is the fallback.
$dimms = Get-Cim 'Win32_PhysicalMemory' @('Capacity', 'DeviceLocator')
Save-Raw 'memory.json' $dimms
if ($dimms -and $dimms.Count -gt 0) {
    $hardware['memory_mb'] = [int64][math]::Round((($dimms | Measure-Object -Property Capacity -Sum).Sum) / 1MB)
} elseif ($os -and $os.TotalVisibleMemorySize) {
    $hardware['memory_mb'] = [int64][math]::Round([double]$os.TotalVisibleMemorySize / 1024)
}
$disks = Get-Cim 'Win32_LogicalDisk' @('DeviceID', 'DriveType', 'FreeSpace', 'Size')
Save-Raw 'disks.json' $disks
function Find-Disk([string]$Path) {
    if (-not $disks -or -not $Path -or $Path.Length -lt 2) { return $null }
    $id = $Path.Substring(0, 2).ToUpperInvariant()
    foreach ($d in $disks) { if (([string]$d.DeviceID).ToUpperInvariant() -eq $id) { return $d } }
    return $null
}
if ($os) {
    $sd = Find-Disk ([string]$os.SystemDrive)
    if ($sd -and $null -ne $sd.FreeSpace) { $hardware['system_drive_free_gb'] = [math]::Round([double]$sd.FreeSpace / 1GB, 2) }
}
if ($cs) {
    $hw = (([string]$cs.Manufacturer) + ' ' + ([string]$cs.Model)).ToLowerInvariant()
    $isVm = $false
    foreach ($m in @('virtual machine', 'vmware', 'virtualbox', 'kvm', 'qemu', 'xen', 'hvm domu', 'parallels', 'bochs', 'openstack', 'google compute engine', 'amazon ec2')) {
        if ($hw.Contains($m)) { $isVm = $true }
    }
    if ($hw.Trim()) { $hardware['virtual'] = $isVm }
}

# --- Symantec Management Agent ----------------------------------------------------------
$defaultStore = $null
# HKLM\SOFTWARE\Altiris\Altiris Agent: Version, InstallDir, MachineGuid, and the
# Servers subkey naming the Notification Server [COMMUNITY: values as read by
# public admin scripts; not a Broadcom-documented interface].
$agent = [ordered]@{}
$agentKey = Get-RegValues 'SOFTWARE\Altiris\Altiris Agent'
$agentSubKeys = @()
if ($null -eq $agentKey) {
    Add-Warning 'the Symantec Management Agent registry key is absent: agent facts unknown'
} else {
    if ($agentKey.Contains('Version') -and ([string]$agentKey['Version']) -match '(\d+(\.\d+){1,3})') { $agent['version'] = $Matches[1] }
    if ($agentKey.Contains('MachineGuid') -and $agentKey['MachineGuid']) { $identity['resource_guid'] = ([string]$agentKey['MachineGuid']).Trim('{}').ToLowerInvariant() }
    $agentSubKeys = @($agentKey['SubKeys'])
    $servers = Get-RegValues 'SOFTWARE\Altiris\Altiris Agent\Servers'
    $ns = $null
    if ($servers) {
        if ($servers.Contains('') -and $servers['']) { $ns = [string]$servers[''] }
        elseif (@($servers['SubKeys']).Count -gt 0) { $ns = [string]@($servers['SubKeys'])[0] }
    }
    if ($ns) { $identity['notification_server'] = $ns.Trim() }
    $rawAgent = [ordered]@{}
    foreach ($k in @('Version', 'InstallDir', 'MachineGuid')) { if ($agentKey.Contains($k)) { $rawAgent[$k] = [string]$agentKey[$k] } }
    if ($ns) { $rawAgent['Servers'] = @($ns) }
    $rawAgent['SubKeys'] = [object[]]$agentSubKeys
    Save-Raw 'agent.json' ([pscustomobject]$rawAgent)
    if ($agentKey.Contains('InstallDir') -and $agentKey['InstallDir']) {
        # Default package store: <agent install dir>\Package Delivery (KB 416632).
        $defaultStore = Join-Path ([string]$agentKey['InstallDir']) 'Package Delivery'
        if (-not $PackageStorePath) { $PackageStorePath = $defaultStore }
    }
}

# --- Site services (best effort) ---------------------------------------------------------
# [SOLID, ITMS 7.5 help] "Symantec Network Boot Service (PXE and BSDP)" / "(TFTP)";
# [INFERENCE] agent subkeys named after the package and task services. Only
# positive findings are written: no finding leaves "installed" unknown.
$found = [ordered]@{}
$markers = @(@('symantec network boot service', 'network_boot'), @('package server', 'package'), @('client task server', 'task'), @('task server', 'task'), @('monitor service', 'monitor'))
$names = New-Object System.Collections.ArrayList
foreach ($s in $agentSubKeys) { [void]$names.Add([string]$s) }
try {
    $svcs = @(Get-Service -ErrorAction Stop | Select-Object -Property Name, DisplayName, @{ n = 'Status'; e = { [string]$_.Status } })
    Save-Raw 'services.json' @($svcs | Where-Object { ($_.DisplayName -match 'Altiris|Symantec') })
    foreach ($s in $svcs) { [void]$names.Add([string]$s.DisplayName); [void]$names.Add([string]$s.Name) }
} catch {
    Add-Warning "services could not be listed: $($_.Exception.Message)"
}
foreach ($n in $names) {
    $low = $n.ToLowerInvariant()
    foreach ($m in $markers) {
        if ($low.Contains($m[0]) -and -not $found.Contains($m[1])) { $found[$m[1]] = $true; break }
    }
}
$siteServices = [ordered]@{}
if ($found.Count -gt 0) {
    $siteServices['installed'] = [object[]]@($found.Keys | Sort-Object | ForEach-Object { [ordered]@{ service = $_ } })
}
if ($PlannedServices) { $siteServices['planned'] = [object[]]@($PlannedServices | Select-Object -Unique) }

# --- Package store -------------------------------------------------------------------------
$packageStore = [ordered]@{}
if ($PackageStorePath) {
    $packageStore['path'] = $PackageStorePath
    # KB 416632: a custom location must not be a Windows Known Folder or inside one;
    # the product's default location counts as valid. The Known Folders are the
    # special folders .NET resolves here plus the profiles root (every user's
    # folders), drive roots left out; no answer when they cannot be read.
    $norm = { param([string]$p) $p.Trim().Replace('/', '\').TrimEnd('\').ToLowerInvariant() }
    $storeNorm = & $norm $PackageStorePath
    if ($defaultStore -and $storeNorm -eq (& $norm $defaultStore)) {
        $packageStore['in_known_folder'] = $false
    } else {
        try {
            $known = @([Enum]::GetValues([Environment+SpecialFolder]) | ForEach-Object { [Environment]::GetFolderPath($_) })
            $profiles = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList' -ErrorAction Stop).ProfilesDirectory
            if ($profiles) { $known += [Environment]::ExpandEnvironmentVariables([string]$profiles) }
            $inside = $false
            foreach ($k in $known) {
                if (-not $k) { continue }
                $kn = & $norm $k
                if ($kn.Length -le 2) { continue }  # a drive root is no Known Folder of its own
                if ($storeNorm -eq $kn -or $storeNorm.StartsWith($kn + '\')) { $inside = $true; break }
            }
            $packageStore['in_known_folder'] = $inside
        } catch {
            Add-Warning "package_store.in_known_folder: Known Folders could not be read: $($_.Exception.Message)"
        }
    }
    if ($PackageStorePath.StartsWith('\\')) {
        $packageStore['fixed_media'] = $false
    } else {
        $pd = Find-Disk $PackageStorePath
        if ($pd) {
            if ($null -ne $pd.FreeSpace) { $hardware['package_store_free_gb'] = [math]::Round([double]$pd.FreeSpace / 1GB, 2) }
            # Win32_LogicalDisk.DriveType 3 = local (fixed) disk.
            $packageStore['fixed_media'] = ([int]$pd.DriveType -eq 3)
        }
    }
}

# --- Assemble and write ------------------------------------------------------------------------
$facts['identity'] = $identity
$facts['os'] = $osFacts
$facts['dotnet'] = $dotnet
$facts['iis'] = $iis
$facts['hardware'] = $hardware
$facts['agent'] = $agent
$facts['site_services'] = $siteServices
$facts['package_store'] = $packageStore
$facts['provenance'] = [ordered]@{
    collected_at = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', $Invariant)
    collected_by = [ordered]@{ name = $CollectorName; version = $CollectorVersion }
}
if ($script:Warnings.Count -gt 0) {
    $facts['extensions'] = [ordered]@{ sitegate_collector_warnings = [object[]]$script:Warnings.ToArray() }
}
$facts = Remove-Empty $facts

if (-not $OutFile) { $OutFile = ".\$name.facts.json" }
$target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
$json = ConvertTo-Json -InputObject $facts -Depth 6
# UTF-8 without a BOM: Out-File and Set-Content on 5.1 would write UTF-16 or ANSI.
[System.IO.File]::WriteAllText($target, $json, (New-Object System.Text.UTF8Encoding($false)))
Write-Host "sitegate facts written to $target ($($script:Warnings.Count) warning(s))"
