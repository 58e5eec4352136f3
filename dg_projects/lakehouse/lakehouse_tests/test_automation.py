"""New raw data flows through dbt and on to Superset by itself; nothing changed, nothing runs.

Evaluates the lakehouse's automation conditions (set by the dbt translator and on the Superset
assets) the way the location's automation sensor does, against an instance where raw assets of
the ingestion locations have just materialized.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from ol_orchestrate.lib.automation import is_raw_key
from ol_orchestrate.testing import environment, load_definitions, persistent_instance

OPENEDX_RAW = [
    dg.AssetKey(["openedx", "raw", f"{deployment}_{table}"])
    for deployment in ("mitxonline", "xpro")
    for table in ("course_runs", "course_blocks", "enrollments")
]


@pytest.fixture
def defs() -> dg.Definitions:
    with environment("ci"):
        return load_definitions("lakehouse.definitions")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with persistent_instance() as instance:
        yield instance


def _requested(result: dg.EvaluateAutomationConditionsResult) -> set[str]:
    return {
        key.to_user_string()
        for key in {request.key for request in result.results if request.true_subset.size}
    }


def test_raw_updates_request_the_models_downstream_and_nothing_twice(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    # Before any raw data exists nothing can run: every model waits for its sources.
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0

    for key in OPENEDX_RAW:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = _requested(second)
    # The staging models of the updated sources, the models built on them and their marts...
    assert {
        "openedx/staging/stg_openedx__course_runs",
        "openedx/staging/stg_openedx__enrollments",
        "openedx/intermediate/int_openedx__enrollments",
        "openedx/marts/dim_openedx__course_run",
        "openedx/marts/fct_openedx__daily_enrollments",
    } <= requested
    # ... and the Superset datasets published from those marts.
    assert "superset/dataset/fct_openedx__daily_enrollments" in requested
    # Models whose sources have not landed (Canvas here) wait.
    assert not {key for key in requested if key.startswith("canvas/")}

    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.total_requested == 0


def test_every_model_and_dataset_has_an_automation_condition(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    scheduled = {
        key
        for schedule in defs.schedules or ()
        if isinstance(schedule, dg.ScheduleDefinition) and schedule.job_name.startswith("sync_")
        for key in defs.resolve_job_def(schedule.job_name).asset_layer.selected_asset_keys
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable and not (is_raw_key(key) and key in scheduled):
            assert node.automation_condition is not None, key.to_user_string()
    # Airbyte's tables are synced by their connection's schedule (one per connection).
    assert all(graph.get(key).automation_condition is None for key in scheduled if is_raw_key(key))
