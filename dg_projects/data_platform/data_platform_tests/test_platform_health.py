"""`platform_health` lands the instance's runs, check evaluations and assets, described as the
alerts describe them, in the declared schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq

from data_platform.tables import DAGSTER_ASSET_CHECKS, DAGSTER_ASSETS, DAGSTER_RUNS
from ol_orchestrate.lib.alerts import LOCATION_TAG


def _rows(lake: Path, table: str) -> list[dict[str, Any]]:
    return pq.read_table(lake / "raw" / "platform" / table / "data.parquet").to_pylist()


def test_platform_health_lands_runs_checks_and_assets(
    ci: Path, defs: dg.Definitions, retrying_instance: dg.DagsterInstance, helpers: Any
) -> None:
    instance = retrying_instance

    @dg.asset(
        key=["canvas", "raw", "courses"],
        check_specs=[dg.AssetCheckSpec("courses_have_names", asset=["canvas", "raw", "courses"])],
    )
    def courses() -> Any:
        yield dg.Output(None)
        yield dg.AssetCheckResult(check_name="courses_have_names", passed=False)

    ok = dg.materialize([courses], instance=instance, tags={LOCATION_TAG: "canvas"})
    retried = helpers.run_with_retries(
        instance,
        helpers.failing_asset(
            "openedx/raw/xpro_course_runs", "GET https://lms/?access_token=abc123xyz failed"
        ),
        2,
        location="openedx",
    )

    health = defs.resolve_implicit_global_asset_job_def()
    result = health.execute_in_process(instance=instance)
    assert result.success

    runs = {row["run_id"]: row for row in _rows(ci, DAGSTER_RUNS.name)}
    assert runs[ok.run_id]["run_status"] == "SUCCESS"
    assert runs[ok.run_id]["location"] == "canvas"
    assert runs[ok.run_id]["duration_seconds"] >= 0
    first, second = (runs[run.run_id] for run in retried)
    assert (first["retry_number"], first["will_retry"]) == (0, True)
    assert (second["retry_number"], second["root_run_id"], second["parent_run_id"]) == (
        1,
        retried[0].run_id,
        retried[0].run_id,
    )
    assert second["error_class"] == "code_error"
    assert second["error_type"] == "ValueError"
    assert second["failed_step_key"] == "openedx__raw__xpro_course_runs"
    assert "abc123xyz" not in second["error_message"]
    assert second["created_at"].endswith("Z")
    # the snapshot's own run is there too, still in progress
    assert runs[result.run_id]["run_status"] == "STARTED"

    [check] = _rows(ci, DAGSTER_ASSET_CHECKS.name)
    assert (check["asset_key"], check["check_name"], check["passed"]) == (
        "canvas/raw/courses",
        "courses_have_names",
        False,
    )
    assert check["is_dbt_test"] is False
    assert check["run_id"] == ok.run_id

    assets = {row["asset_key"]: row for row in _rows(ci, DAGSTER_ASSETS.name)}
    course_asset = assets["canvas/raw/courses"]
    assert (course_asset["source_system"], course_asset["asset_layer"]) == ("canvas", "raw")
    assert course_asset["last_materialization_run_id"] == ok.run_id
    assert course_asset["freshness_passed"] is None
    assert assets["openedx/raw/xpro_course_runs"]["last_materialized_at"] is None

    materialization = instance.get_latest_materialization_event(
        dg.AssetKey(["platform", "raw", "dagster_runs"])
    )
    assert materialization is not None
    metadata = materialization.asset_materialization.metadata  # type: ignore[union-attr]
    assert metadata["records_written"].value == len(runs)
    assert metadata["failed_runs_by_location"].value == {"openedx": 2}
