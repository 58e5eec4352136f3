"""The openedx code location: raw assets per Open edX deployment (`defs/deployments/<name>/`)."""

from ol_orchestrate.lib.definitions import location_definitions

defs = location_definitions(__file__)
