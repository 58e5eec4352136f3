"""The lakehouse code location: the dbt project as assets and a Superset dataset per mart (`defs/`).

Loads from the prepared dbt manifest (no dbt, network or Vault while loading).
"""

from ol_orchestrate.lib.definitions import location_definitions

defs = location_definitions(__file__)
