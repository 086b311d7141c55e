-- sitegate: export site-server candidates from the ITMS CMDB (SQL Server,
-- Symantec_CMDB database) as a CSV with sitegate's standard columns.
--
-- Run it in SSMS ("Results to File", or right-click the grid > "Save Results As"
-- > CSV) or with sqlcmd:
--
--   sqlcmd -S SQLSERVER -d Symantec_CMDB -E -i cmdb-export.sql -s "," -W -o candidates.csv
--   sitegate import --from csv candidates.csv -o facts.jsonl
--
-- sqlcmd writes a dashed separator line under the header; delete it (or use
-- SSMS's CSV export). NULL cells are read as missing facts, never as values.
--
-- PROVENANCE OF THE JOINS. Broadcom's own SQL KBs were not reachable when
-- this was written; every table, view and column below comes from public
-- community code by Symantec/partner consultants (itms-domain.md section 8.1).
-- Treat each join as [COMMUNITY], unconfirmed against your CMDB version, and
-- check it on a test system first:
--   vComputer (Guid, Name, [IP Address])
--       https://github.com/AlexHedley/symantec-connect-articles
--       (src/input/posts/Workflow - Component - Developer Guide - SQL.md)
--   vComputerResource (Guid, IsManaged)
--       https://github.com/ludovicferre/pingcomputers (pingcomputers.cs)
--   Inv_AeX_AC_Identification (_ResourceGuid, [OS Name], fqdn)
--       pingcomputers.cs; https://github.com/Tiberriver256/PoshAltiris
--   Inv_AeX_AC_TCPIP (_ResourceGuid, [Host Name], [Primary DNS Suffix])
--       pingcomputers.cs; AlexHedley article above
--   Inv_AeX_AC_Client_Agent (_ResourceGuid, [Agent Name], [Product Version]),
--       [Agent Name] = 'Altiris Agent' is the Symantec Management Agent itself
--       https://github.com/Protirus/AgentsMonitoring (spTrendAgentVersions.sql)
--   vSiteServices (Guid, [Host Name], [Primary DNS Suffix]): computers with a
--       task or package service; the view does not say WHICH service
--       pingcomputers.cs (commented query "Get TS/PS computers")
--   ResourceUpdateSummary (ResourceGuid, ModifiedDate): last inventory time
--       pingcomputers.cs
--
-- NOT FOUND in any reachable source, so left NULL here (fill them from the
-- console, a column mapping's `constants:`, or the on-host collector):
-- os_version / os_build / os_product_type / os_architecture (the columns of an
-- OS inventory table such as Inv_AeX_AC_Operating_System were not confirmed),
-- dotnet_release, iis_*, memory_mb, processors, disk space, virtual, local,
-- asset_status, cem_mode, the per-computer list of site services and their
-- versions, endpoints and the NS's ITMS version. Rather than guessing column
-- names (a wrong guess fails the query, or worse, fills a fact wrongly), each
-- is a NULL placeholder with a comment saying where it might come from.

SET NOCOUNT ON;

SELECT
    c.[Name]                                                    AS name,
    -- FQDN = host name + primary DNS suffix (community practice, pingcomputers).
    CASE WHEN t.[Primary DNS Suffix] IS NULL OR t.[Primary DNS Suffix] = ''
         THEN NULL
         ELSE LOWER(t.[Host Name] + '.' + t.[Primary DNS Suffix]) END AS fqdn,
    NULLIF(t.[Primary DNS Suffix], '')                          AS domain,
    CAST(NULL AS nvarchar(256))                                 AS site,            -- site membership view: not confirmed
    CAST(NULL AS nvarchar(256))                                 AS notification_server,
    LOWER(CONVERT(nvarchar(36), c.[Guid]))                      AS resource_guid,
    i.[OS Name]                                                 AS os_caption,      -- informative only; rules key on build
    CAST(NULL AS nvarchar(32))                                  AS os_version,      -- Win32_OperatingSystem.Version: table not confirmed
    CAST(NULL AS int)                                           AS os_build,
    CAST(NULL AS nvarchar(32))                                  AS os_product_type, -- 1 workstation, 2 DC, 3 server
    CAST(NULL AS nvarchar(16))                                  AS os_architecture,
    CAST(NULL AS bigint)                                        AS dotnet_release,  -- registry DWORD; needs a custom inventory
    CAST(NULL AS nvarchar(8))                                   AS iis_installed,
    CAST(NULL AS nvarchar(2000))                                AS iis_features,    -- ';'-separated Server Manager names
    CAST(NULL AS bigint)                                        AS memory_mb,
    CAST(NULL AS int)                                           AS logical_processors,
    CAST(NULL AS int)                                           AS cores,
    CAST(NULL AS decimal(12, 2))                                AS system_drive_free_gb,
    CAST(NULL AS decimal(12, 2))                                AS package_store_free_gb,
    CAST(NULL AS nvarchar(8))                                   AS virtual,
    a.[Product Version]                                         AS agent_version,
    CASE cr.[IsManaged] WHEN 1 THEN 'True' WHEN 0 THEN 'False' END AS managed,
    CAST(NULL AS nvarchar(8))                                   AS local,           -- "Local" prerequisite: source not confirmed
    CAST(NULL AS nvarchar(32))                                  AS asset_status,    -- community SQL uses vPMCore_GetAllRetiredMachines
    CAST(NULL AS nvarchar(8))                                   AS cem_mode,        -- see KB 187342 (text not reachable)
    -- vSiteServices lists task/package servers without the service type, so it
    -- cannot fill installed_services; it only says "is a site server" (below).
    CAST(NULL AS nvarchar(200))                                 AS installed_services,
    CAST(NULL AS nvarchar(200))                                 AS planned_services, -- your plan, not the CMDB's
    CAST(NULL AS int)                                           AS endpoints,
    CAST(NULL AS int)                                           AS concurrent_connections,
    CAST(NULL AS nvarchar(16))                                  AS itms_version,    -- the NS's version: take it from the console
    -- ISO 8601 (style 126) so no locale can misread the date.
    CONVERT(nvarchar(30), ru.LastInventory, 126)                AS collected_at
FROM vComputer AS c
JOIN vComputerResource AS cr
    ON cr.[Guid] = c.[Guid]
LEFT JOIN Inv_AeX_AC_Identification AS i
    ON i.[_ResourceGuid] = c.[Guid]
LEFT JOIN Inv_AeX_AC_TCPIP AS t
    ON t.[_ResourceGuid] = c.[Guid]
    -- a multi-homed computer has one TCPIP row per adapter: keep one
    AND t.[_id] = (SELECT MIN(t2.[_id]) FROM Inv_AeX_AC_TCPIP AS t2 WHERE t2.[_ResourceGuid] = c.[Guid])
LEFT JOIN Inv_AeX_AC_Client_Agent AS a
    ON a.[_ResourceGuid] = c.[Guid]
   AND a.[Agent Name] = 'Altiris Agent'
LEFT JOIN (
    SELECT ResourceGuid, MAX(ModifiedDate) AS LastInventory
    FROM ResourceUpdateSummary
    GROUP BY ResourceGuid
) AS ru
    ON ru.ResourceGuid = c.[Guid]
WHERE
    -- Existing site servers, plus the candidates you name. Remove the first
    -- line to list only candidates; edit the list (or use a filter's members).
    c.[Guid] IN (SELECT s.[Guid] FROM vSiteServices AS s)
    OR c.[Name] IN (N'CANDIDATE01', N'CANDIDATE02')
ORDER BY c.[Name];

-- [_id] on Inv_AeX_AC_TCPIP is the usual row key of CMDB inventory tables
-- ([INFERENCE]; not in the community sources above). If your CMDB has no such
-- column, drop that AND line and de-duplicate the output by name instead.
