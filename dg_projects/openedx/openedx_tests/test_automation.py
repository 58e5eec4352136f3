"""The Open edX API assets refresh on their cron by themselves, once per tick of the cron."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest

from ol_orchestrate.testing import environment, load_definitions, persistent_instance

API_ASSETS = {
    f"openedx/raw/{deployment}_{table}"
    for deployment in ("mitxonline", "xpro")
    for table in ("course_runs", "course_blocks", "enrollments")
}


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with persistent_instance() as instance:
        yield instance


def _requested(result: dg.EvaluateAutomationConditionsResult) -> set[str]:
    return {r.key.to_user_string() for r in result.results if r.true_subset.size}


def test_api_assets_run_once_after_each_cron_tick(instance: dg.DagsterInstance) -> None:
    with environment("ci"):
        defs = load_definitions("openedx.definitions")
    day = datetime(2026, 1, 20, tzinfo=UTC)
    before = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, evaluation_time=day.replace(hour=4)
    )
    assert before.total_requested == 0

    after_tick = dg.evaluate_automation_conditions(
        defs=defs,
        instance=instance,
        cursor=before.cursor,
        evaluation_time=day.replace(hour=5, minute=1),
    )
    # Course runs, and the per-course tables that read them, in the same evaluation; tracking
    # logs are file-fed (their sensor), not on the cron.
    assert _requested(after_tick) == API_ASSETS

    later = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=after_tick.cursor, evaluation_time=day.replace(hour=6)
    )
    assert later.total_requested == 0
