"""The on-host facts collector: the PowerShell script and the Python that converts what it reads.

``collect.ps1`` runs on a site server and saves its raw reads (CIM instances,
feature lists, registry values, applicationHost.config, an HTTPS probe) in the
per-host folder layout of the PowerShell-export importer. :mod:`.parse` is the
only conversion of those reads into facts, shared by :mod:`sitegate.facts.collect`
(``sitegate collect``) and :mod:`sitegate.facts.importers.powershell`.
"""
from __future__ import annotations

COLLECTOR_NAME = "sitegate-collect.ps1"
COLLECTOR_VERSION = "2.1.0"
