"""The canvas code location: per-course raw Canvas tables, fed by course registries (`defs/`)."""

from ol_orchestrate.lib.definitions import location_definitions

defs = location_definitions(__file__)
