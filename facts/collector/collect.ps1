#Requires -Version 4.0
<#
.SYNOPSIS
    sitegate facts collector: reads what a Symantec/Broadcom ITMS site server is
    made of and saves the raw reads, one JSON file each, for sitegate to convert.

.DESCRIPTION
    Read-only on the host. The script queries CIM classes, reads registry values,
    lists installed Windows features, copies IIS's applicationHost.config (with
    every password attribute removed) and makes one HTTPS request to the
    Notification Server. It converts nothing: it saves what it read in the
    per-host folder layout of `sitegate import --from powershell`, which turns
    the reads into facts (sitegate.facts.collector.parse, the one conversion that
    `sitegate collect` and the importer share):

        <OutDirectory>\<COMPUTERNAME>\os.json, computersystem.json, processors.json,
        memory.json, disks.json, dotnet.json, features.json | optionalfeatures.json |
        win32_optionalfeature.json, iis.json, applicationHost.config |
        requestfiltering.json, agent.json, services.json, knownfolders.json,
        network.json, host.json, collection.json

    Then, on any machine with sitegate:
        sitegate import --from powershell <OutDirectory> -o facts.jsonl

    Needs Windows PowerShell 4.0 or later (Windows Server 2012 R2's own
    PowerShell; 2012 and 2008 R2 need WMF 4.0 or 5.1 first) or PowerShell 7.
    Run it elevated (administrator or the local system account, as an ITMS
    Run Script task does): applicationHost.config and the DISM feature list need
    administrator rights, and the script warns once when it is not elevated.
    In a 32-bit PowerShell on 64-bit Windows it starts itself again in the
    64-bit Windows PowerShell (Sysnative), where Program Files, DISM and
    WebAdministration are the real ones.

    Every probe is wrapped: a read that fails costs only its own file, and is
    reported as a warning on the console and in collection.json (Warnings). A
    file that is missing means "not read", so the fact stays unknown, never false.

.PARAMETER OutDirectory
    Folder to write into; the reads go to <OutDirectory>\<COMPUTERNAME>.
    A share works (one folder per host). Default: $env:ProgramData\sitegate\raw.
    The script's earlier files in that host folder are replaced.

.PARAMETER PackageStorePath
    The package server's store, when it is not the default
    <agent install dir>\Package Delivery (Broadcom KB 416632). Without it the
    default is assumed, and the facts say so (provenance.fact_sources).

.PARAMETER Site
    The ITMS site the host serves (identity.site), which the host cannot know.

.PARAMETER PlannedServices
    Site services to be installed: task, package, network_boot, monitor, as a
    list or one comma-separated string (with -File, "task,package" arrives as
    one string).

.PARAMETER ItmsVersion
    The ITMS version of the Notification Server the host reports to
    (platform.itms_version, e.g. 8.7.3), which the host cannot read: the
    operator's word, as shown in the console.

.PARAMETER ParentNsVersion
    In a Notification Server hierarchy, the ITMS version of the parent NS
    (platform.parent_notification_server_version; KB 179660 upgrades children
    first). The operator's word.

.PARAMETER NsTaskServiceClients
    On the Notification Server itself: how many clients are registered to the
    NS's own task service (load.ns_task_service_clients; KB 390448 recommends at
    most 100). Not every managed endpoint: only the clients that use the NS as
    their task server. The operator's word, from the console.

.PARAMETER SkipNetworkProbe
    Do not make the HTTPS request to the Notification Server (the network facts
    then stay unknown).

.PARAMETER NoRelaunch
    Internal: set when the script starts itself again in 64-bit PowerShell.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\collect.ps1 -OutDirectory \\filer\sitegate\raw -Site Berlin -PlannedServices task,package
#>
[CmdletBinding()]
param(
    [string]$OutDirectory,
    [string]$PackageStorePath,
    [string]$Site,
    # No ValidateSet: with powershell.exe -File, "-PlannedServices task,package"
    # arrives as the one string 'task,package', which a ValidateSet rejects before
    # the script starts. The list is split and checked below.
    [string[]]$PlannedServices,
    [string]$ItmsVersion,
    [string]$ParentNsVersion,
    # A string, so that "not given" and 0 differ; checked below.
    [string]$NsTaskServiceClients,
    [switch]$SkipNetworkProbe,
    [switch]$NoRelaunch
)

Set-StrictMode -Version 1
$ErrorActionPreference = 'Stop'

$CollectorName = 'sitegate-collect.ps1'
$CollectorVersion = '2.1.0'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$Utf8NoBom = New-Object System.Text.UTF8Encoding($false)
$SiteServices = @('task', 'package', 'network_boot', 'monitor')
# Symantec/Altiris services only: site-service markers must never meet "Citrix Monitor Service".
$VendorPattern = 'Altiris|Symantec'
# Every file this script writes: the earlier run's copies are removed first, so a
# host folder never mixes two runs (features.json of one, optionalfeatures.json of the next).
$RawFiles = @('os.json', 'computersystem.json', 'processors.json', 'memory.json', 'disks.json', 'dotnet.json',
    'features.json', 'optionalfeatures.json', 'win32_optionalfeature.json', 'iis.json', 'applicationHost.config',
    'requestfiltering.json', 'agent.json', 'services.json', 'knownfolders.json', 'network.json', 'host.json', 'collection.json')

# --- Arguments -------------------------------------------------------------------
$Planned = @()
foreach ($item in @($PlannedServices)) {
    foreach ($part in ([string]$item -split '[,;\s]+')) {
        if (-not $part) { continue }
        $low = $part.ToLowerInvariant()
        if ($SiteServices -notcontains $low) {
            throw "-PlannedServices: '$part' is not a site service; give task, package, network_boot or monitor, comma-separated (e.g. -PlannedServices task,package)"
        }
        if ($Planned -notcontains $low) { $Planned += $low }
    }
}

foreach ($v in @(@('-ItmsVersion', $ItmsVersion), @('-ParentNsVersion', $ParentNsVersion))) {
    if ($v[1] -and $v[1] -notmatch '^\d+(\.\d+){1,3}$') {
        throw "$($v[0]): '$($v[1])' is not an ITMS version (give it as the console shows it, e.g. 8.7.3)"
    }
}
if ($NsTaskServiceClients -and $NsTaskServiceClients -notmatch '^\d{1,9}$') {
    throw "-NsTaskServiceClients: '$NsTaskServiceClients' is not a count of clients"
}

$script:Warnings = New-Object System.Collections.ArrayList
function Add-Warning([string]$Message) {
    [void]$script:Warnings.Add($Message)
    Write-Warning $Message
}

# --- 64-bit ------------------------------------------------------------------------
# A 32-bit PowerShell on 64-bit Windows (a 32-bit launcher may start one) sees
# Program Files (x86), cannot run DISM and loads no WebAdministration: start the
# 64-bit Windows PowerShell instead, through Sysnative (the 64-bit System32 as a
# 32-bit process names it).
if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess -and -not $NoRelaunch) {
    $ps64 = Join-Path $env:windir 'Sysnative\WindowsPowerShell\v1.0\powershell.exe'
    if ($PSCommandPath -and (Test-Path -LiteralPath $ps64)) {
        $argv = @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', $PSCommandPath, '-NoRelaunch')
        if ($OutDirectory) { $argv += @('-OutDirectory', $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutDirectory).TrimEnd('\')) }
        if ($PackageStorePath) { $argv += @('-PackageStorePath', $PackageStorePath.TrimEnd('\')) }
        if ($Site) { $argv += @('-Site', $Site) }
        if ($Planned.Count -gt 0) { $argv += @('-PlannedServices', ($Planned -join ',')) }
        if ($ItmsVersion) { $argv += @('-ItmsVersion', $ItmsVersion) }
        if ($ParentNsVersion) { $argv += @('-ParentNsVersion', $ParentNsVersion) }
        if ($NsTaskServiceClients) { $argv += @('-NsTaskServiceClients', $NsTaskServiceClients) }
        if ($SkipNetworkProbe) { $argv += '-SkipNetworkProbe' }
        & $ps64 @argv
        exit $LASTEXITCODE
    }
    Add-Warning '32-bit PowerShell on 64-bit Windows and no 64-bit PowerShell to start: Windows features, IIS settings and Program Files may be read wrongly or not at all'
}

# --- Output folder -------------------------------------------------------------------
$ComputerName = $env:COMPUTERNAME
if (-not $ComputerName) { $ComputerName = [Environment]::MachineName }
if (-not $OutDirectory) { $OutDirectory = Join-Path $env:ProgramData 'sitegate\raw' }
$OutRoot = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutDirectory)
$HostDir = [System.IO.Path]::Combine($OutRoot, $ComputerName)
[void][System.IO.Directory]::CreateDirectory($HostDir)
foreach ($f in $RawFiles) {
    $old = [System.IO.Path]::Combine($HostDir, $f)
    if ([System.IO.File]::Exists($old)) { [System.IO.File]::Delete($old) }
}
$CollectedAt = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', $Invariant)

# Shared between probes (each probe runs in its own scope; this table is the one
# thing they all see and change).
$State = @{ ProductType = $null; InetStp = $null; AgentDir = $null; NsName = $null }

# --- Helpers ---------------------------------------------------------------------------
function Save-Raw([string]$Name, $Value) {
    # One raw read as JSON, UTF-8 without a BOM. -Depth 6 keeps nested values whole.
    $json = ConvertTo-Json -InputObject $Value -Depth 6
    [System.IO.File]::WriteAllText([System.IO.Path]::Combine($HostDir, $Name), $json, $Utf8NoBom)
}

function Invoke-Probe([string]$What, [scriptblock]$Body) {
    # One failing probe costs only its own facts: any error becomes a warning.
    try {
        [void](& $Body)
    } catch {
        Add-Warning "$What could not be read: $($_.Exception.Message)"
    }
}

function Read-RegistryKey([string]$Path) {
    # HKLM\$Path in the 64-bit view, then in the 32-bit one (WOW6432Node: a 32-bit
    # agent on 64-bit Windows keeps its key there). Found = $false only when the key
    # is absent from both views; a key that exists but cannot be read throws, so
    # the caller's probe reports it and no "absent" is written.
    $views = @([Microsoft.Win32.RegistryView]::Default)
    if ([Environment]::Is64BitOperatingSystem) {
        $views = @([Microsoft.Win32.RegistryView]::Registry64, [Microsoft.Win32.RegistryView]::Registry32)
    }
    foreach ($view in $views) {
        $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $view)
        try {
            $key = $base.OpenSubKey($Path, $false)
            if ($null -eq $key) { continue }
            try {
                $values = [ordered]@{}
                foreach ($name in $key.GetValueNames()) { $values[$name] = $key.GetValue($name) }
                return [ordered]@{ Found = $true; View = [string]$view; Values = $values; SubKeys = [object[]]@($key.GetSubKeyNames()) }
            } finally {
                $key.Close()
            }
        } finally {
            $base.Close()
        }
    }
    return [ordered]@{ Found = $false }
}

function Get-Cim([string]$Class, [string[]]$Properties) {
    # The comma keeps a one-element result an array (return would unroll it).
    return ,@(Get-CimInstance -ClassName $Class -ErrorAction Stop | Select-Object -Property $Properties)
}

# --- Rights ------------------------------------------------------------------------------
$Elevated = $null
Invoke-Probe 'administrator rights' {
    $principal = New-Object System.Security.Principal.WindowsPrincipal([System.Security.Principal.WindowsIdentity]::GetCurrent())
    $script:Elevated = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
    if (-not $script:Elevated) {
        Add-Warning 'not running elevated: applicationHost.config and the Windows feature list may be unreadable; run as administrator or as local system'
    }
}

# --- Probes ----------------------------------------------------------------------------------
Invoke-Probe 'Win32_OperatingSystem' {
    $os = Get-Cim 'Win32_OperatingSystem' @('Caption', 'Version', 'BuildNumber', 'ProductType', 'OSArchitecture', 'OperatingSystemSKU', 'TotalVisibleMemorySize', 'SystemDrive', 'CSName')
    if ($os.Count -gt 0) {
        $State.ProductType = $os[0].ProductType
        Save-Raw 'os.json' $os[0]
    }
}

Invoke-Probe 'Win32_ComputerSystem' {
    $cs = Get-Cim 'Win32_ComputerSystem' @('Name', 'DNSHostName', 'Domain', 'PartOfDomain', 'Manufacturer', 'Model', 'TotalPhysicalMemory')
    if ($cs.Count -gt 0) { Save-Raw 'computersystem.json' $cs[0] }
}

Invoke-Probe 'Win32_Processor' {
    Save-Raw 'processors.json' (Get-Cim 'Win32_Processor' @('NumberOfCores', 'NumberOfLogicalProcessors', 'Architecture'))
}

Invoke-Probe 'Win32_PhysicalMemory' {
    Save-Raw 'memory.json' (Get-Cim 'Win32_PhysicalMemory' @('Capacity', 'DeviceLocator'))
}

Invoke-Probe 'Win32_LogicalDisk' {
    Save-Raw 'disks.json' (Get-Cim 'Win32_LogicalDisk' @('DeviceID', 'DriveType', 'FreeSpace', 'Size'))
}

# HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full, value Release (REG_DWORD).
Invoke-Probe '.NET Framework registry key' {
    $ndp = Read-RegistryKey 'SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full'
    $raw = [ordered]@{}
    if ($ndp.Found) {
        foreach ($k in @('Release', 'Version')) { if ($ndp.Values.Contains($k)) { $raw[$k] = $ndp.Values[$k] } }
        $raw['RegistryView'] = $ndp.View
    }
    Save-Raw 'dotnet.json' $raw
}

# Windows features: Server Manager on servers, DISM on workstations (ProductType 1),
# each falling through to the next method when it fails (RSAT's Get-WindowsFeature
# exists on a client but refuses to run there; DISM fails in PowerShell 7 on some
# clients). Win32_OptionalFeature needs neither module.
Invoke-Probe 'Windows features' {
    $methods = @('ServerManager', 'Dism', 'Cim')
    if ($State.ProductType -eq 1) { $methods = @('Dism', 'Cim', 'ServerManager') }
    $errors = @()
    foreach ($m in $methods) {
        try {
            if ($m -eq 'ServerManager') {
                if (-not (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue)) { continue }
                $wf = @(Get-WindowsFeature -Name 'Web-*' -ErrorAction Stop | Select-Object -Property Name, Installed, @{ n = 'InstallState'; e = { [string]$_.InstallState } })
                Save-Raw 'features.json' ([object[]]$wf)
            } elseif ($m -eq 'Dism') {
                if (-not (Get-Command -Name Get-WindowsOptionalFeature -ErrorAction SilentlyContinue)) { continue }
                $of = @(Get-WindowsOptionalFeature -Online -ErrorAction Stop | Where-Object { $_.FeatureName -like 'IIS-*' } | Select-Object -Property FeatureName, @{ n = 'State'; e = { [string]$_.State } })
                Save-Raw 'optionalfeatures.json' ([object[]]$of)
            } else {
                $cf = @(Get-CimInstance -ClassName Win32_OptionalFeature -ErrorAction Stop | Where-Object { ([string]$_.Name).StartsWith('IIS-', [StringComparison]::OrdinalIgnoreCase) } | Select-Object -Property Name, InstallState)
                Save-Raw 'win32_optionalfeature.json' ([object[]]$cf)
            }
            return
        } catch {
            $errors += "$m : $($_.Exception.Message)"
        }
    }
    throw ('no method worked (' + ($errors -join '; ') + ')')
}

# HKLM\SOFTWARE\Microsoft\InetStp: MajorVersion/MinorVersion; absent = IIS never installed.
Invoke-Probe 'IIS registry key (InetStp)' {
    $inetstp = Read-RegistryKey 'SOFTWARE\Microsoft\InetStp'
    $raw = [ordered]@{}
    if ($inetstp.Found) {
        foreach ($k in @('MajorVersion', 'MinorVersion')) { if ($inetstp.Values.Contains($k)) { $raw[$k] = $inetstp.Values[$k] } }
        $raw['RegistryView'] = $inetstp.View
    }
    $State.InetStp = $inetstp.Found
    Save-Raw 'iis.json' $raw
}

# applicationHost.config, copied with every password attribute removed (app pool
# identities and UNC virtual directories keep [enc:...:enc] secrets there). A site's
# own web.config may tighten request filtering further and is not read.
Invoke-Probe 'applicationHost.config' {
    # Known absent: no IIS, nothing to read. Unknown (InetStp unreadable): try anyway.
    if ($State.InetStp -eq $false) { return }
    $sys = 'System32'
    if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) { $sys = 'Sysnative' }
    $path = [System.IO.Path]::Combine($env:windir, "$sys\inetsrv\config\applicationHost.config")
    $saved = $false
    try {
        $text = [System.IO.File]::ReadAllText($path)
        $xml = New-Object System.Xml.XmlDocument
        $xml.XmlResolver = $null
        $xml.PreserveWhitespace = $true
        $xml.LoadXml($text)
        foreach ($attr in @($xml.SelectNodes("//@*[contains(translate(local-name(), 'PASSWORD', 'password'), 'password')]"))) {
            [void]$attr.OwnerElement.RemoveAttributeNode($attr)
        }
        [System.IO.File]::WriteAllText([System.IO.Path]::Combine($HostDir, 'applicationHost.config'), $xml.OuterXml, $Utf8NoBom)
        $saved = $true
    } catch {
        Add-Warning "applicationHost.config could not be read at ${path}: $($_.Exception.Message)"
    }
    if ($saved) { return }
    # Fallback: the IIS configuration API (needs IIS Management Scripts and Tools).
    if ($PSVersionTable.PSVersion.Major -ge 6) {
        Import-Module WebAdministration -SkipEditionCheck -ErrorAction Stop
    } else {
        Import-Module WebAdministration -ErrorAction Stop
    }
    $limits = Get-WebConfiguration -PSPath 'MACHINE/WEBROOT/APPHOST' -Location 'Default Web Site' -Filter 'system.webServer/security/requestFiltering/requestLimits' -ErrorAction Stop
    if ($null -eq $limits) { throw 'WebAdministration returned no requestLimits' }
    Save-Raw 'requestfiltering.json' ([ordered]@{ maxQueryString = $limits.maxQueryString; maxUrl = $limits.maxUrl })
}

# HKLM\SOFTWARE\Altiris\Altiris Agent: Version, InstallDir, MachineGuid, and the
# Servers subkey naming the Notification Server [COMMUNITY: values as read by
# public admin scripts; not a Broadcom-documented interface]. The file version of
# <InstallDir>\AeXNSAgent.exe is read too: sitegate uses it when Version is missing.
Invoke-Probe 'Symantec Management Agent registry key' {
    $agent = Read-RegistryKey 'SOFTWARE\Altiris\Altiris Agent'
    $raw = [ordered]@{}
    if (-not $agent.Found) {
        Add-Warning 'the Symantec Management Agent registry key is absent (64-bit and 32-bit views): agent facts unknown'
        Save-Raw 'agent.json' $raw
        return
    }
    foreach ($k in @('Version', 'InstallDir', 'MachineGuid')) { if ($agent.Values.Contains($k)) { $raw[$k] = [string]$agent.Values[$k] } }
    $raw['SubKeys'] = $agent.SubKeys
    $raw['RegistryView'] = $agent.View
    if ($raw.Contains('InstallDir') -and $raw['InstallDir']) {
        $State.AgentDir = $raw['InstallDir']
        Invoke-Probe 'agent file version (AeXNSAgent.exe)' {
            $exe = [System.IO.Path]::Combine($State.AgentDir, 'AeXNSAgent.exe')
            if ([System.IO.File]::Exists($exe)) {
                $fv = [System.Diagnostics.FileVersionInfo]::GetVersionInfo($exe)
                $raw['FileVersion'] = '{0}.{1}.{2}.{3}' -f $fv.FileMajorPart, $fv.FileMinorPart, $fv.FileBuildPart, $fv.FilePrivatePart
            }
        }
    }
    Invoke-Probe 'agent Servers registry key' {
        $servers = Read-RegistryKey 'SOFTWARE\Altiris\Altiris Agent\Servers'
        if ($servers.Found) {
            # The default value names the NS; subkeys are the fallback.
            $list = @()
            if ($servers.Values.Contains('') -and $servers.Values['']) { $list += [string]$servers.Values[''] }
            $list += @($servers.SubKeys | ForEach-Object { [string]$_ })
            $raw['Servers'] = [object[]]$list
            if ($list.Count -gt 0) { $State.NsName = $list[0] }
        }
    }
    Save-Raw 'agent.json' $raw
}

# Windows services through CIM (PowerShell 7.0-7.5's Get-Service loses the whole
# list on the first service it cannot query), Symantec/Altiris only.
Invoke-Probe 'Win32_Service' {
    $svcs = @(Get-CimInstance -ClassName Win32_Service -ErrorAction Stop |
        Where-Object { ([string]$_.DisplayName -match $VendorPattern) -or ([string]$_.Name -match $VendorPattern) } |
        Select-Object -Property Name, DisplayName, State, StartMode)
    Save-Raw 'services.json' ([object[]]$svcs)
}

# KB 416632: a package store must not be a Windows Known Folder or inside one.
# ProgramW6432/CommonProgramW6432 name the 64-bit Program Files even where .NET's
# SpecialFolder gives Program Files (x86).
Invoke-Probe 'Known Folders' {
    $known = @([Enum]::GetValues([System.Environment+SpecialFolder]) | ForEach-Object { [Environment]::GetFolderPath($_) } | Where-Object { $_ })
    foreach ($v in @($env:ProgramW6432, $env:CommonProgramW6432)) { if ($v) { $known += $v } }
    $raw = [ordered]@{ KnownFolders = [object[]]@($known | Select-Object -Unique) }
    $profiles = Read-RegistryKey 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
    if ($profiles.Found -and $profiles.Values.Contains('ProfilesDirectory')) {
        $raw['ProfilesDirectory'] = [Environment]::ExpandEnvironmentVariables([string]$profiles.Values['ProfilesDirectory'])
    }
    Save-Raw 'knownfolders.json' $raw
}

# HTTPS to the Notification Server (KB 430121: task servers try HTTPS first). The
# NS URL the agent uses: HKLM\SOFTWARE\Altiris\eXpress\NS Client\NSs\<NS>\NSWeb
# [COMMUNITY: public admin scripts write it; not a Broadcom-documented interface].
# The certificate is accepted during the handshake only to be checked afterwards
# with this host's own X509Chain, so reachability and trust are told apart.
Invoke-Probe 'Notification Server HTTPS probe' {
    $raw = [ordered]@{ Attempted = $false }
    Invoke-Probe 'NS Client registry key' {
        $nss = Read-RegistryKey 'SOFTWARE\Altiris\eXpress\NS Client\NSs'
        if (-not $nss.Found) { return }
        $names = @($nss.SubKeys)
        $pick = @($names | Where-Object { $State.NsName -and ([string]$_ -eq $State.NsName) })
        if ($pick.Count -eq 0 -and $names.Count -eq 1) { $pick = $names }
        if ($pick.Count -gt 0) {
            $web = Read-RegistryKey ('SOFTWARE\Altiris\eXpress\NS Client\NSs\' + $pick[0])
            if ($web.Found -and $web.Values.Contains('NSWeb')) { $raw['NsUrl'] = [string]$web.Values['NSWeb'] }
        }
    }
    $target = $State.NsName
    $port = 443
    $uri = $null
    if ($raw.Contains('NsUrl') -and [Uri]::TryCreate($raw['NsUrl'], [UriKind]::Absolute, [ref]$uri)) {
        $target = $uri.Host
        if ($uri.Scheme -eq 'https') { $port = $uri.Port }
    }
    if ($SkipNetworkProbe -or -not $target) {
        Save-Raw 'network.json' $raw
        return
    }
    $raw['NsHost'] = $target
    $raw['Port'] = $port
    $raw['Attempted'] = $true
    $raw['Connected'] = $false
    $raw['TlsEstablished'] = $false
    $seen = @{ Cert = $null; Errors = $null }
    $callback = {
        param($sender, $certificate, $chain, $errors)
        $seen['Cert'] = $certificate
        $seen['Errors'] = [string]$errors
        return $true
    }.GetNewClosure()
    $tcp = New-Object System.Net.Sockets.TcpClient
    try {
        $async = $tcp.BeginConnect($target, $port, $null, $null)
        if (-not $async.AsyncWaitHandle.WaitOne(15000)) { throw (New-Object System.TimeoutException("connecting to ${target}:$port timed out")) }
        $tcp.EndConnect($async)
        $raw['Connected'] = $true
        $ssl = New-Object System.Net.Security.SslStream($tcp.GetStream(), $false, ([System.Net.Security.RemoteCertificateValidationCallback]$callback))
        $ssl.ReadTimeout = 15000
        $ssl.WriteTimeout = 15000
        $ssl.AuthenticateAsClient($target, $null, [System.Security.Authentication.SslProtocols]'Tls, Tls11, Tls12', $false)
        $raw['TlsEstablished'] = $true
        $request = [System.Text.Encoding]::ASCII.GetBytes("GET /Altiris/ HTTP/1.1`r`nHost: $target`r`nUser-Agent: $CollectorName`r`nConnection: close`r`n`r`n")
        $ssl.Write($request, 0, $request.Length)
        $ssl.Flush()
        $reader = New-Object System.IO.StreamReader($ssl, [System.Text.Encoding]::ASCII)
        $raw['StatusLine'] = [string]$reader.ReadLine()
    } catch {
        $e = $_.Exception
        while ($e -is [System.Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
        $raw['Error'] = $e.Message
        $raw['ErrorType'] = $e.GetType().FullName
    } finally {
        $tcp.Close()
    }
    if ($seen['Cert']) {
        $cert = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2($seen['Cert'])
        $chain = New-Object System.Security.Cryptography.X509Certificates.X509Chain
        # Revocation is not checked: an unreachable CRL would fail every chain on a closed network.
        $chain.ChainPolicy.RevocationMode = [System.Security.Cryptography.X509Certificates.X509RevocationMode]::NoCheck
        [void]$chain.ChainPolicy.ApplicationPolicy.Add((New-Object System.Security.Cryptography.Oid('1.3.6.1.5.5.7.3.1')))
        $raw['ChainBuilt'] = $chain.Build($cert)
        $raw['ChainStatus'] = [object[]]@($chain.ChainStatus | ForEach-Object { [string]$_.Status })
        $raw['SslPolicyErrors'] = $seen['Errors']
        $raw['CertificateSubject'] = $cert.Subject
        $raw['CertificateNotAfter'] = $cert.NotAfter.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', $Invariant)
    }
    Save-Raw 'network.json' $raw
}

# What the operator says and the host cannot know (sitegate standard columns).
Invoke-Probe 'host.json' {
    $hostInfo = [ordered]@{}
    if ($Site) { $hostInfo['site'] = $Site }
    if ($Planned.Count -gt 0) { $hostInfo['planned_services'] = [object[]]$Planned }
    if ($ItmsVersion) { $hostInfo['itms_version'] = $ItmsVersion }
    if ($ParentNsVersion) { $hostInfo['parent_notification_server_version'] = $ParentNsVersion }
    if ($NsTaskServiceClients) { $hostInfo['ns_task_service_clients'] = [int]$NsTaskServiceClients }
    if ($hostInfo.Count -gt 0) { Save-Raw 'host.json' $hostInfo }
}

# --- The run's own record ---------------------------------------------------------------------
$collection = [ordered]@{
    CollectedAt            = $CollectedAt
    CollectorName          = $CollectorName
    CollectorVersion       = $CollectorVersion
    ComputerName           = $ComputerName
    Is64BitOperatingSystem = [Environment]::Is64BitOperatingSystem
    Is64BitProcess         = [Environment]::Is64BitProcess
    Elevated               = $Elevated
    PSVersion              = $PSVersionTable.PSVersion.ToString()
}
if ($PackageStorePath) { $collection['PackageStorePath'] = $PackageStorePath }
$collection['Warnings'] = [object[]]$script:Warnings.ToArray()
try {
    Save-Raw 'collection.json' $collection
} catch {
    Write-Error "sitegate: could not write to ${HostDir}: $($_.Exception.Message)" -ErrorAction Continue
    exit 1
}
Write-Host "sitegate raw reads written to $HostDir ($($script:Warnings.Count) warning(s)); convert with: sitegate import --from powershell `"$HostDir`" -o facts.json"
exit 0
