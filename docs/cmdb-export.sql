-- sitegate: export site-server candidates from the ITMS CMDB (SQL Server,
-- Symantec_CMDB database) as a CSV with sitegate's standard columns.
--
-- Read-only: it reads CMDB tables and views and writes only to a temporary
-- table of its own session (#sitegate_out). One batch, one result set.
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
-- Before the first run on a CMDB, run docs/cmdb-discovery.sql (also read-only)
-- and compare its output with the names below; docs/cmdb-export.md lists every
-- standard column, the table it comes from here and how sure that is.
--
-- Evidence tags per object (sources in docs/cmdb-export.md):
--   [SEEN]  joined or selected in public working code by ITMS consultants
--   [DOC]   named in a Broadcom/Symantec KB or a Symantec Connect schema article
--   [GUESS] the meaning is documented but the SQL name is not confirmed: such a
--           column is read only through sp_executesql behind a sys.columns
--           check, so a wrong guess leaves NULL and never fails the query.
--
-- The CMDB cannot give (no standard inventory holds them; collect them on the
-- host, see docs/collect-with-itms.md): the .NET Framework Release value, the
-- IIS role services and request filtering, the package store, CEM mode, the
-- NS URL and its certificate chain as seen from the host. Nor were tables found
-- for: site, owning Notification Server, the NS's ITMS version, product type
-- (1/2/3), memory, processors, disk space, which site service is installed and
-- its version, endpoints per task server. Those columns are not emitted.

SET NOCOUNT ON;

-- 0 = only [SEEN]/[DOC] objects; 1 = also the guarded [GUESS] columns.
DECLARE @probe bit = 1;

-- Candidates that are not site servers yet: put their computer names here.
-- Existing site servers (vSiteServices) are always exported.
DECLARE @candidates TABLE (Name nvarchar(256) PRIMARY KEY);
INSERT INTO @candidates (Name) VALUES (N'CANDIDATE01'), (N'CANDIDATE02');

IF OBJECT_ID(N'tempdb..#sitegate_out') IS NOT NULL
BEGIN
    DROP TABLE #sitegate_out;
END;
CREATE TABLE #sitegate_out (
    resource_guid     uniqueidentifier NOT NULL PRIMARY KEY,
    name              nvarchar(256)  NULL,
    fqdn              nvarchar(512)  NULL,
    domain            nvarchar(256)  NULL,
    os_caption        nvarchar(256)  NULL,
    os_version        nvarchar(32)   NULL,
    os_build          int            NULL,
    os_edition        nvarchar(64)   NULL,
    os_architecture   nvarchar(16)   NULL,
    iis_installed     nvarchar(8)    NULL,
    [virtual]         nvarchar(8)    NULL,
    agent_version     nvarchar(64)   NULL,
    managed           nvarchar(8)    NULL,
    [local]           nvarchar(8)    NULL,
    asset_status      nvarchar(64)   NULL,
    collected_at      nvarchar(30)   NULL,
    h_host            nvarchar(256)  NULL,  -- helper, not exported
    h_suffix          nvarchar(256)  NULL   -- helper, not exported
);

-- 1. Rows. RM_ResourceComputer [SEEN: Guid, Name] holds every computer
--    resource. vComputer holds only Active computers [DOC: KB 180417], so an
--    export based on it drops Retired or Disposed candidates without a word and
--    "Asset status is active" could never be seen failing.
--    vSiteServices [SEEN: Guid] = computers with a task or package service.
INSERT INTO #sitegate_out (resource_guid, name)
SELECT rc.[Guid], rc.[Name]
FROM RM_ResourceComputer AS rc
WHERE rc.[Guid] IN (SELECT s.[Guid] FROM vSiteServices AS s)
   OR rc.[Name] IN (SELECT c.Name FROM @candidates AS c);

-- 2. [SEEN] managed flag: vComputerResource (Guid, IsManaged).
UPDATE o SET managed = CASE cr.[IsManaged] WHEN 1 THEN N'True' WHEN 0 THEN N'False' END
FROM #sitegate_out AS o
JOIN vComputerResource AS cr ON cr.[Guid] = o.resource_guid;

-- 3. [SEEN] basic inventory identity: Inv_AeX_AC_Identification ([OS Name], fqdn, [Domain]).
UPDATE o SET
    os_caption = NULLIF(i.[OS Name], N''),
    fqdn       = LOWER(NULLIF(i.[fqdn], N'')),
    domain     = NULLIF(i.[Domain], N'')  -- NetBIOS/AD domain; the DNS suffix below wins when known
FROM #sitegate_out AS o
JOIN Inv_AeX_AC_Identification AS i ON i.[_ResourceGuid] = o.resource_guid;

-- 4. [SEEN] TCP/IP: one row per adapter; keep the lowest _id.
UPDATE o SET h_host = t.[Host Name], h_suffix = NULLIF(t.[Primary DNS Suffix], N'')
FROM #sitegate_out AS o
CROSS APPLY (
    SELECT TOP (1) t2.[Host Name], t2.[Primary DNS Suffix]
    FROM Inv_AeX_AC_TCPIP AS t2
    WHERE t2.[_ResourceGuid] = o.resource_guid
    ORDER BY t2.[_id]
) AS t;

UPDATE #sitegate_out SET
    fqdn   = COALESCE(fqdn, CASE WHEN h_suffix IS NOT NULL AND h_host IS NOT NULL
                                 THEN LOWER(h_host + N'.' + h_suffix) END),
    domain = COALESCE(h_suffix, domain);

-- 5. [SEEN] agent version: the Symantec Management Agent's own row.
UPDATE o SET agent_version = a.[Product Version]
FROM #sitegate_out AS o
JOIN Inv_AeX_AC_Client_Agent AS a
  ON a.[_ResourceGuid] = o.resource_guid
 AND a.[Agent Name] = N'Altiris Agent';

-- 6. [SEEN] asset status: the "Asset's Status" association (type GUID below)
--    from the computer to a Fixed Asset Status resource (Active, Retired,
--    Disposed, ...). No association means the status was never set, which is
--    NOT the same as Active: the cell stays NULL (unknown).
UPDATE o SET asset_status = st.[Name]
FROM #sitegate_out AS o
JOIN ResourceAssociation AS ra
  ON ra.ParentResourceGuid = o.resource_guid
 AND ra.ResourceAssociationTypeGuid = '3028166f-c0d6-41d8-9cb7-f64852e0fd01'
JOIN vRM_Fixed_Asset_Status_Resource_Type_Item AS st
  ON st.[Guid] = ra.ChildResourceGuid;

-- 7. [SEEN view and columns; that computers' make and model land there is our
--    reading] virtual machine from vAsset.Manufacturer/Model, with the same
--    hypervisor markers as sitegate's importers. Unknown make/model stays NULL.
UPDATE o SET [virtual] =
    CASE WHEN x.mm IS NULL THEN NULL
         WHEN x.mm LIKE N'%virtual machine%' OR x.mm LIKE N'%vmware%'
           OR x.mm LIKE N'%virtualbox%' OR x.mm LIKE N'%kvm%' OR x.mm LIKE N'%qemu%'
           OR x.mm LIKE N'%xen%' OR x.mm LIKE N'%parallels%' OR x.mm LIKE N'%bochs%'
           OR x.mm LIKE N'%openstack%' OR x.mm LIKE N'%google compute engine%'
           OR x.mm LIKE N'%amazon ec2%' THEN N'True'
         ELSE N'False' END
FROM #sitegate_out AS o
CROSS APPLY (
    SELECT TOP (1) NULLIF(LTRIM(RTRIM(ISNULL(va.Manufacturer, N'') + N' ' + ISNULL(va.Model, N''))), N'') AS mm
    FROM vAsset AS va
    WHERE va._ResourceGuid = o.resource_guid
) AS x;

-- 8. [SEEN] last inventory time, any data class: ResourceUpdateSummary.
UPDATE o SET collected_at = CONVERT(nvarchar(30), ru.LastInventory, 126)
FROM #sitegate_out AS o
JOIN (SELECT ResourceGuid, MAX(ModifiedDate) AS LastInventory
      FROM ResourceUpdateSummary GROUP BY ResourceGuid) AS ru
  ON ru.ResourceGuid = o.resource_guid;

-- 9. [GUESS] names whose MEANING is documented. Each runs only when sys.columns
--    finds the column; otherwise the cell stays NULL.
IF @probe = 1
BEGIN
    DECLARE @ident int = OBJECT_ID(N'dbo.Inv_AeX_AC_Identification');

    -- KB 150579: the OS details of Resource Manager come from this data class;
    -- its column c3 is the system type ("Win64"; KB 155980: "Win32, Win64").
    IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = @ident AND name = N'System Type')
    BEGIN
        EXEC sp_executesql N'
            UPDATE o SET os_architecture =
                CASE i.[System Type] WHEN N''Win64'' THEN N''x64'' WHEN N''Win32'' THEN N''x86'' END
            FROM #sitegate_out AS o JOIN Inv_AeX_AC_Identification AS i ON i.[_ResourceGuid] = o.resource_guid;';
    END;

    -- KB 150579: c5 is the OS type ("Professional"), an edition.
    IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = @ident AND name = N'OS Type')
    BEGIN
        EXEC sp_executesql N'
            UPDATE o SET os_edition = NULLIF(i.[OS Type], N'''')
            FROM #sitegate_out AS o JOIN Inv_AeX_AC_Identification AS i ON i.[_ResourceGuid] = o.resource_guid;';
    END;

    -- KB 150579: c13 is the OS build number, c6 the version "10.0" (major.minor).
    IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = @ident AND name = N'OS Build Number')
    BEGIN
        EXEC sp_executesql N'
            UPDATE o SET os_build = CASE WHEN b.v NOT LIKE N''%[^0-9]%'' AND LEN(b.v) BETWEEN 1 AND 9
                                         THEN CONVERT(int, b.v) END
            FROM #sitegate_out AS o JOIN Inv_AeX_AC_Identification AS i ON i.[_ResourceGuid] = o.resource_guid
            CROSS APPLY (SELECT LTRIM(RTRIM(CONVERT(nvarchar(20), i.[OS Build Number]))) AS v) AS b;';
    END;
    IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = @ident AND name = N'OS Version')
    BEGIN
        EXEC sp_executesql N'
            UPDATE o SET os_version = CASE WHEN v.v IS NULL THEN NULL
                                           WHEN o.os_build IS NOT NULL AND v.v NOT LIKE N''%.%.%''
                                           THEN v.v + N''.'' + CONVERT(nvarchar(10), o.os_build)
                                           ELSE v.v END
            FROM #sitegate_out AS o JOIN Inv_AeX_AC_Identification AS i ON i.[_ResourceGuid] = o.resource_guid
            CROSS APPLY (SELECT NULLIF(LTRIM(RTRIM(CONVERT(nvarchar(32), i.[OS Version]))), N'''') AS v) AS v;';
    END;

    -- KB 155980 and KB 154274 name an IsLocal attribute beside IsManaged; the
    -- view that exposes it is not confirmed.
    IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(N'dbo.vComputerResource') AND name = N'IsLocal')
    BEGIN
        EXEC sp_executesql N'
            UPDATE o SET [local] = CASE cr.[IsLocal] WHEN 1 THEN N''True'' WHEN 0 THEN N''False'' END
            FROM #sitegate_out AS o JOIN vComputerResource AS cr ON cr.[Guid] = o.resource_guid;';
    END;

    -- Inv_AeX_AC_NT_Services is a 7.5 basic-inventory table [DOC]; its column
    -- names are not confirmed. Positive evidence only: a W3SVC (World Wide Web
    -- Publishing Service) row means IIS is installed; no row proves nothing.
    IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(N'dbo.Inv_AeX_AC_NT_Services') AND name = N'Name')
    BEGIN
        EXEC sp_executesql N'
            UPDATE o SET iis_installed = N''True''
            FROM #sitegate_out AS o
            WHERE EXISTS (SELECT 1 FROM Inv_AeX_AC_NT_Services AS s
                          WHERE s.[_ResourceGuid] = o.resource_guid AND s.[Name] = N''W3SVC'');';
    END;
END;

SELECT
    name,
    fqdn,
    domain,
    LOWER(CONVERT(nvarchar(36), resource_guid)) AS resource_guid,
    os_caption,
    os_version,
    os_build,
    os_edition,
    os_architecture,
    iis_installed,
    [virtual],
    agent_version,
    managed,
    [local],
    asset_status,
    collected_at
FROM #sitegate_out
ORDER BY name;

DROP TABLE #sitegate_out;
