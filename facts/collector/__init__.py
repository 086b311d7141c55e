"""The on-host facts collector: the PowerShell script and the Python that reads what it reads.

``collect.ps1`` runs on a site server and writes one facts JSON file.
:mod:`.parse` turns the same raw reads (CIM instances, feature lists, registry
values, applicationHost.config) into facts, so the conversion is tested here and
shared with :mod:`sitegate.facts.collect` and the PowerShell-export importer.
"""
from __future__ import annotations

COLLECTOR_NAME = "sitegate-collect.ps1"
COLLECTOR_VERSION = "1.0.0"
