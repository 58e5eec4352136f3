"""The data_platform location's definitions, one module per topic (`defs/<topic>.py`).

Assets, checks, sensors, schedules and jobs defined at module level here are loaded by Dagster's
`load_from_defs_folder`; a folder with a `defs.yaml` is a component. Raw assets
(`["<source>", "raw", "<table>"]`) declare a cadence, from which the platform builds their
freshness check: `@dg.asset(..., **raw_asset_automation(DAILY_API))`
(`ol_orchestrate.lib.automation`).
"""
