"""The legacy_openedx code location: its `defs/` folder, with the platform's policy."""

from ol_orchestrate.lib.definitions import location_definitions

defs = location_definitions(__file__)
