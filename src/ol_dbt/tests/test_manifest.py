"""What other code reads from the dbt manifest: Dagster lineage keys on the sources, Superset
publishing flags and enforced contracts on the marts, descriptions everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .conftest import DbtInvocation


@pytest.fixture(scope="module")
def manifest(trino_compile: DbtInvocation) -> dict[str, Any]:
    assert trino_compile.returncode == 0, trino_compile.output[-6000:]
    return trino_compile.manifest


def test_sources_carry_the_raw_dagster_asset_keys(manifest: dict[str, Any]) -> None:
    sources = {s["name"]: s for s in manifest["sources"].values() if s["source_name"] == "openedx"}
    assert set(sources) == {
        f"{deployment}_{table}"
        for deployment in ("mitxonline", "xpro")
        for table in ("course_runs", "course_blocks", "enrollments", "tracking_logs")
    }
    for name, source in sources.items():
        assert source["config"]["meta"]["dagster"]["asset_key"] == ["openedx", "raw", name]
        assert source["description"]
        assert all(column["description"] for column in source["columns"].values())


def test_marts_are_published_tables_with_enforced_contracts(manifest: dict[str, Any]) -> None:
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    marts = {name: node for name, node in models.items() if node["fqn"][1] == "marts"}
    assert set(marts) == {
        "dim_openedx__course_run",
        "fct_openedx__daily_enrollments",
        "dim_canvas__course",
        "fct_canvas__enrollment",
        "fct_canvas__assignment_submission",
        "fct_openedx__user_activity",
        "fct_openedx__daily_active_learners",
        "fct_openedx__weekly_active_learners",
        "fct_openedx__video_engagement",
        "fct_openedx__problem_attempts",
        "fct_platform__run_outcome",
        "fct_platform__asset_freshness",
        "dim_edxorg__course_run",
        "fct_edxorg__enrollment",
        "fct_edxorg__problem_submission",
        "fct_edxorg__forum_post",
        "dim_residential__course_run",
        "fct_residential__enrollment",
        "fct_residential__problem_submission",
        "fct_residential__forum_post",
        "integrations__learn__mit_climate",
        "integrations__learn__mitpe",
        "integrations__learn__oll",
        "integrations__learn__sloan",
        "integrations__learn__ovs",
        "integrations__learn__mit_edx",
        "fct_learning_resources__catalog",
        "fct_mitxonline__course_enrollment",
        "fct_mitxonline__program_progress",
        "fct_mitxonline__order_line",
        "fct_xpro__course_enrollment",
        "fct_xpro__program_progress",
        "fct_xpro__order_line",
        "dim_combined__learner",
        "fct_combined__course_enrollment",
        "fct_combined__course_engagement",
    }
    for node in marts.values():
        assert node["config"]["materialized"] == "table"
        assert node["config"]["contract"]["enforced"] is True
        assert node["columns"]
        assert all(column["data_type"] for column in node["columns"].values())
    for node in models.values():
        assert node["description"], node["name"]
        assert all(column["description"] for column in node["columns"].values()), node["name"]
