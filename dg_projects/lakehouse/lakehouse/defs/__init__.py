"""The lakehouse location's definitions: the dbt project as assets (`dbt.py`) and a Superset
dataset per published mart (`superset.py`)."""
