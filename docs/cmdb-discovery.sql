-- sitegate: read-only discovery queries for the ITMS CMDB (Symantec_CMDB).
--
-- docs/cmdb-export.sql uses table, view and column names seen in public
-- community code or named in Broadcom KBs; some are guesses. Run this file once
-- on your CMDB (SSMS, or sqlcmd -i cmdb-discovery.sql -o discovery.txt): its
-- seven result sets show the real names, so you can confirm or correct the
-- export before trusting it. Nothing here writes anything.
--
--   D1  columns of every table/view the export uses or probes
--   D2  Inventory Solution hardware/OS columns (memory, processors, disks, build)
--   D3  data classes by family
--   D4  objects whose names suggest sites, site services, CEM, asset status
--   D5  agent and plug-in versions on existing site servers
--   D6  association types on site servers (expect "Site Service to Computer")
--   D7  asset status values in use

SET NOCOUNT ON;

-- D1. Columns of the tables/views the export uses or probes.
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.CHARACTER_MAXIMUM_LENGTH
FROM INFORMATION_SCHEMA.COLUMNS AS c
WHERE c.TABLE_NAME IN (N'Inv_AeX_AC_Identification', N'Inv_AeX_AC_TCPIP', N'Inv_AeX_AC_Client_Agent',
                       N'Inv_AeX_AC_NT_Services', N'Inv_AeX_AC_Roles', N'Inv_AeX_AC_VirtualMachine',
                       N'Inv_AeX_AC_Location', N'Inv_AeX_AC_Client_Connectivity',
                       N'vComputerResource', N'vComputer', N'vResource', N'RM_ResourceComputer',
                       N'vSiteServices', N'vAsset', N'Inv_Client_Task_Resources', N'Inv_InstalledSoftware')
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION;

-- D2. Inventory Solution hardware/OS columns for memory, CPU, cores, disk, build.
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE
FROM INFORMATION_SCHEMA.COLUMNS AS c
WHERE (c.TABLE_NAME LIKE N'Inv[_]HW[_]%' OR c.TABLE_NAME LIKE N'Inv[_]OS[_]%')
  AND (c.COLUMN_NAME LIKE N'%Memory%' OR c.COLUMN_NAME LIKE N'%Free%' OR c.COLUMN_NAME LIKE N'%Size%'
    OR c.COLUMN_NAME LIKE N'%Core%' OR c.COLUMN_NAME LIKE N'%Processor%' OR c.COLUMN_NAME LIKE N'%Build%'
    OR c.COLUMN_NAME LIKE N'%Version%' OR c.COLUMN_NAME LIKE N'%Product Type%' OR c.COLUMN_NAME LIKE N'%Architecture%'
    OR c.COLUMN_NAME LIKE N'%Device ID%' OR c.COLUMN_NAME LIKE N'%Drive%')
ORDER BY c.TABLE_NAME, c.COLUMN_NAME;

-- D3. Data classes by family (DataClass.Name/Guid, as used with ResourceUpdateSummary).
SELECT dc.[Name], dc.[Guid]
FROM DataClass AS dc
WHERE dc.[Name] LIKE N'AeX AC%' OR dc.[Name] LIKE N'HW %' OR dc.[Name] LIKE N'OS %'
   OR dc.[Name] LIKE N'%Site%' OR dc.[Name] LIKE N'%Task%' OR dc.[Name] LIKE N'%Package%'
   OR dc.[Name] LIKE N'%Cloud%' OR dc.[Name] LIKE N'%CEM%' OR dc.[Name] LIKE N'%Server Role%'
ORDER BY dc.[Name];

-- D4. Objects whose names suggest sites, site services, CEM, fixed-asset status.
SELECT o.[type_desc], o.[name]
FROM sys.objects AS o
WHERE o.[type] IN ('U', 'V', 'IF', 'TF', 'FN')
  AND (o.[name] LIKE N'%Site%' OR o.[name] LIKE N'%TaskServer%' OR o.[name] LIKE N'%Task[_]Server%'
    OR o.[name] LIKE N'%PackageServer%' OR o.[name] LIKE N'%Package[_]Server%' OR o.[name] LIKE N'%Subnet%'
    OR o.[name] LIKE N'%Cloud%' OR o.[name] LIKE N'%CEM%' OR o.[name] LIKE N'%Gateway%'
    OR o.[name] LIKE N'%FixedAsset%')
ORDER BY o.[type_desc], o.[name];

-- D5. Agent and plug-in names and versions on existing site servers.
SELECT a.[Agent Name], a.[Product Version], COUNT(*) AS computers
FROM Inv_AeX_AC_Client_Agent AS a
WHERE a.[_ResourceGuid] IN (SELECT s.[Guid] FROM vSiteServices AS s)
GROUP BY a.[Agent Name], a.[Product Version]
ORDER BY a.[Agent Name], a.[Product Version];

-- D6. Association types touching site servers (expect "Site Service to Computer").
--     vItem (Guid, Name) is seen in community code; that association types are
--     items is our reading.
SELECT it.[Name] AS association, COUNT(*) AS links
FROM ResourceAssociation AS ra
JOIN vItem AS it ON it.[Guid] = ra.ResourceAssociationTypeGuid
WHERE ra.ParentResourceGuid IN (SELECT s.[Guid] FROM vSiteServices AS s)
   OR ra.ChildResourceGuid  IN (SELECT s.[Guid] FROM vSiteServices AS s)
GROUP BY it.[Name]
ORDER BY it.[Name];

-- D7. Asset status values in use.
SELECT st.[Name] AS status, COUNT(*) AS computers
FROM ResourceAssociation AS ra
JOIN vRM_Fixed_Asset_Status_Resource_Type_Item AS st ON st.[Guid] = ra.ChildResourceGuid
WHERE ra.ResourceAssociationTypeGuid = '3028166f-c0d6-41d8-9cb7-f64852e0fd01'
GROUP BY st.[Name]
ORDER BY st.[Name];
