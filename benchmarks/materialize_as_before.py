"""`ol-platform materialize` with the run-cost changes of issue 16 switched off: the baseline
`bench_platform.py --before` measures in the same run as the project.

    uv run python benchmarks/materialize_as_before.py --size small

Switched off, in this process only: tracking-log days run one run per day
(`max_days_per_run=1`), the local instance waits for the disk at every commit (no
`skip_fsync_under`), the run progress polls every 0.25 s, the lakehouse builds every dbt model
with its unit tests on every run (no `plan_build` narrowing), and dbt's DuckDB has no memory
limit. Everything else is the current code.
"""

from __future__ import annotations

import os
import sys


def switch_off() -> None:
    os.environ["OL_DUCKDB_MEMORY_LIMIT"] = "20GB"

    import ol_platform.instance as instance
    import ol_platform.progress as progress
    import openedx.defs.tracking_logs as openedx_tracking_logs
    from ol_orchestrate.lib import tracking_log_assets

    for builder in (
        tracking_log_assets.build_tracking_log_assets,
        openedx_tracking_logs.build_tracking_logs,
    ):
        defaults = builder.__kwdefaults__
        assert defaults is not None
        defaults["max_days_per_run"] = 1
    instance.skip_fsync_under = lambda home: None  # type: ignore[assignment]
    progress.POLL_SECONDS = 0.25

    import lakehouse.defs.dbt as lakehouse_dbt
    from lakehouse.dbt_inputs import BuildPlan

    lakehouse_dbt.plan_build = lambda *args, **kwargs: BuildPlan("baseline: every model")
    field = lakehouse_dbt.DbtBuildConfig.model_fields["unit_tests"]
    field.default = True
    lakehouse_dbt.DbtBuildConfig.model_rebuild(force=True)


if __name__ == "__main__":
    switch_off()
    from ol_platform.cli import main

    sys.exit(main(["materialize", *sys.argv[1:]]))
