"""Dashboards as code, checked without a Superset: every chart reads a published mart's columns
with no SQL, each folder renders into the import ZIP Superset expects, and broken folders are
refused with the file named. Their import and rendering: packages/ol-platform/tests."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.defs.dbt import LakehouseDbtTranslator
from lakehouse.defs.superset import published_marts
from lakehouse.superset import DASHBOARDS_DIR
from lakehouse.superset.bundles import (
    DashboardBundleError,
    build_query_context,
    chart_columns,
    chart_filters,
    chart_metrics,
    load_dashboard,
    load_dashboards,
    placeholder_uuid,
)

BUNDLES = load_dashboards()
REQUIRED = {
    "course_activity": "Course activity",
    "enrollment": "Enrollment",
    "video_engagement": "Video engagement",
    "problem_performance": "Problem performance",
    "canvas_submissions": "Canvas submissions",
    "platform_health": "Platform health",
}


def test_the_required_dashboards_exist() -> None:
    assert REQUIRED.items() <= {bundle.slug: bundle.title for bundle in BUNDLES}.items()
    for bundle in BUNDLES:
        assert len(bundle.chart_files) >= 4, bundle.slug


def _referenced_columns(params: dict[str, Any]) -> set[str]:
    columns = set()
    for column in chart_columns(params):
        columns.add(column["sqlExpression"] if isinstance(column, dict) else column)
    columns.update(metric["column"]["column_name"] for metric in chart_metrics(params))
    columns.update(item["col"] for item in chart_filters(params))
    return columns


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda bundle: bundle.slug)
def test_every_chart_reads_columns_of_a_published_mart(
    bundle: Any, prepared_manifest: dict[str, Any], translator: LakehouseDbtTranslator
) -> None:
    marts = {mart.model_name: mart for mart in published_marts(prepared_manifest, translator)}
    assert set(bundle.marts) <= set(marts)
    by_uuid = {placeholder_uuid(name): name for name in bundle.marts}
    for config in bundle.charts():
        mart = marts[by_uuid[config["dataset_uuid"]]]
        contract = set(prepared_manifest["nodes"][mart.unique_id]["columns"])
        missing = _referenced_columns(config["params"]) - contract
        assert not missing, f"{config['slice_name']}: not columns of {mart.model_name}: {missing}"
        for metric in chart_metrics(config["params"]):
            assert metric["expressionType"] == "SIMPLE", config["slice_name"]
            assert metric["aggregate"] in {"SUM", "COUNT", "COUNT_DISTINCT", "AVG", "MAX", "MIN"}


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda bundle: bundle.slug)
def test_a_folder_renders_into_an_assets_bundle(bundle: Any) -> None:
    uuids = {name: f"00000000-0000-4000-8000-{index:012d}" for index, name in
             enumerate(bundle.marts)}  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(bundle.to_zip(uuids.__getitem__)))
    names = archive.namelist()
    root = names[0].split("/")[0]
    assert yaml.safe_load(archive.read(f"{root}/metadata.yaml"))["type"] == "assets"
    charts = [yaml.safe_load(archive.read(n)) for n in names if "/charts/" in n]
    dashboards = [yaml.safe_load(archive.read(n)) for n in names if "/dashboards/" in n]
    assert len(charts) == len(bundle.chart_files)
    assert [d["slug"] for d in dashboards] == [bundle.slug]
    # Only charts and the dashboard: datasets and databases are never overwritten by an import.
    assert not [n for n in names if "/datasets/" in n or "/databases/" in n]
    for chart in charts:
        assert chart["dataset_uuid"] in uuids.values()
        query_context = json.loads(chart["query_context"])
        assert query_context["queries"][0]["metrics"] == chart_metrics(chart["params"])
        assert query_context["form_data"]["viz_type"] == chart["viz_type"]


def test_a_temporal_axis_is_queried_at_its_time_grain() -> None:
    params = {
        "viz_type": "echarts_timeseries_line",
        "x_axis": "activity_date",
        "time_grain_sqla": "P1W",
        "groupby": ["openedx_deployment"],
        "metrics": [
            {
                "expressionType": "SIMPLE",
                "aggregate": "SUM",
                "label": "n",
                "column": {"column_name": "active_learner_count"},
            }
        ],
        "adhoc_filters": [
            {
                "expressionType": "SIMPLE",
                "clause": "WHERE",
                "subject": "x",
                "operator": "IS NOT NULL",
            }
        ],
    }
    query = build_query_context(params)["queries"][0]
    assert query["columns"][0]["timeGrain"] == "P1W"
    assert query["columns"][0]["sqlExpression"] == "activity_date"
    assert query["columns"][1:] == ["openedx_deployment"]
    assert query["filters"] == [{"col": "x", "op": "IS NOT NULL"}]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "enrollment"
    shutil.copytree(DASHBOARDS_DIR / "enrollment", copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_literal_dataset_uuid_is_refused(folder: Path) -> None:
    chart = folder / "charts" / "new_enrollments.yaml"
    _edit(
        chart,
        "\"{{ dataset_uuid('fct_openedx__daily_enrollments') }}\"",
        "8c896ab8-782d-4a36-90db-7393fed5830e",
    )
    with pytest.raises(DashboardBundleError, match=r"new_enrollments.yaml: dataset_uuid must name"):
        load_dashboard(folder)


def test_sql_in_a_chart_is_refused(folder: Path) -> None:
    chart = folder / "charts" / "new_enrollments.yaml"
    _edit(chart, "expressionType: SIMPLE", "expressionType: SQL\n    sqlExpression: sum(1)")
    with pytest.raises(DashboardBundleError, match=r"SQL in a chart.*dbt model"):
        load_dashboard(folder)


def test_a_chart_missing_from_the_layout_is_refused(folder: Path) -> None:
    shutil.copy(folder / "charts" / "new_enrollments.yaml", folder / "charts" / "extra.yaml")
    _edit(folder / "charts" / "extra.yaml", "\nuuid: ", "\nuuid: 1")
    with pytest.raises(DashboardBundleError, match=r"not placed on the dashboard: extra\.yaml"):
        load_dashboard(folder)


def test_an_unknown_mart_placeholder_fails_when_rendered(folder: Path) -> None:
    bundle = load_dashboard(folder)
    with pytest.raises(DashboardBundleError, match="KeyError"):
        bundle.to_zip({}.__getitem__)
