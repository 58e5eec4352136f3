"""The learning_resources code location: learning catalogs (`defs/sources/<name>/`) into the lake
and on to MIT Learn (`defs/catalog/`), with the platform's policy."""

from ol_orchestrate.lib.definitions import location_definitions

defs = location_definitions(__file__)
