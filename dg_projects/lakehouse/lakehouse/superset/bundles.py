"""Dashboards as code: Superset's own export YAML, one folder per dashboard, rendered per
environment and imported as a ZIP through Superset's REST API.

A folder `dashboards/<slug>/` holds what Superset's dashboard export holds for charts and
dashboards: `dashboards/<slug>.yaml` (title, layout, `metadata`) and `charts/*.yaml` (a chart's
`params` = its form data). The one environment-specific reference, the dataset a chart reads,
is a template: `dataset_uuid: "{{ dataset_uuid('fct_openedx__daily_active_learners') }}"` names
the mart, and the dashboard asset fills in the uuid of that mart's dataset in this environment's
Superset (its database: `SUPERSET_DATABASE_NAME`; its schema: the mart's, from the manifest). So
no file names a database, a schema or an id, and the same files serve every environment. The
datasets themselves are the dataset assets' (created and refreshed from the warehouse); a
dashboard import never carries or overwrites them (a sparse import).

Charts state their metrics and groupings on mart columns (simple aggregates); SQL belongs in
dbt, so a chart with a SQL metric, filter or column is rejected. A chart whose YAML has no
`query_context` (hand-written, as these are) gets the one Superset's chart editor would save,
built from its `params`, so `GET /api/v1/chart/<id>/data/` answers for every chart.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import yaml

from lakehouse.superset import DASHBOARDS_DIR

# The chart types the query-context builder knows (those the dashboards use).
TIMESERIES_VIZ = frozenset({"echarts_timeseries_line", "echarts_timeseries_bar"})
GROUPED_VIZ = frozenset({"pie", "table"})
SINGLE_METRIC_VIZ = frozenset({"big_number_total", "pie"})
SUPPORTED_VIZ = TIMESERIES_VIZ | GROUPED_VIZ | {"big_number_total"}
# Placeholder dataset uuids for rendering without a Superset (validation, listing the marts).
_PLACEHOLDER_NAMESPACE = uuid.UUID("5b0f3c3e-8d1a-4c6e-9f1e-0d6f3a2b7c41")


class DashboardBundleError(ValueError):
    """A dashboard folder does not follow the format above; the message names the file."""


def _metric_label(metric: Any) -> str:
    if isinstance(metric, str):
        return metric
    return str(metric.get("label") or f"{metric['aggregate']}({metric['column']['column_name']})")


def chart_metrics(params: Mapping[str, Any]) -> list[Any]:
    """The chart's metrics: `metrics`, or the single `metric` of big numbers and pies."""
    if params.get("metrics"):
        return list(params["metrics"])
    return [params["metric"]] if params.get("metric") else []


def chart_filters(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The chart's simple WHERE filters as query-object filters (`col`, `op`, `val`)."""
    filters = []
    for item in params.get("adhoc_filters") or []:
        entry: dict[str, Any] = {"col": item["subject"], "op": item["operator"]}
        if "comparator" in item and item["comparator"] is not None:
            entry["val"] = item["comparator"]
        filters.append(entry)
    return filters


def chart_columns(params: Mapping[str, Any]) -> list[Any]:
    """The query's columns: the x axis (with its time grain) then the groupings."""
    viz = params["viz_type"]
    groupby = list(params.get("groupby") or [])
    if viz not in TIMESERIES_VIZ:
        return [] if viz == "big_number_total" else groupby
    x_axis = params["x_axis"]
    grain = params.get("time_grain_sqla")
    if not grain:  # a categorical axis
        return [x_axis, *groupby]
    # What Superset's chart editor sends for a temporal x axis: the column at a time grain.
    axis = {
        "timeGrain": grain,
        "columnType": "BASE_AXIS",
        "sqlExpression": x_axis,
        "label": x_axis,
        "expressionType": "SQL",
    }
    return [axis, *groupby]


def build_query_context(params: Mapping[str, Any]) -> dict[str, Any]:
    """The query context Superset's chart editor saves with a chart, from its form data.

    The datasource is filled in by Superset on import (the chart's dataset in that instance).
    """
    viz = params["viz_type"]
    if viz not in SUPPORTED_VIZ:
        msg = (
            f"cannot build a query context for viz_type {viz!r} (known: "
            f"{', '.join(sorted(SUPPORTED_VIZ))}); save the chart in Superset and export it, "
            "which stores its query_context"
        )
        raise DashboardBundleError(msg)
    metrics = chart_metrics(params)
    orderby: list[list[Any]] = []
    if metrics and viz != "big_number_total" and not params.get("time_grain_sqla"):
        orderby = [[metrics[0], False]]
    query = {
        "filters": chart_filters(params),
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": chart_columns(params),
        "metrics": metrics,
        "orderby": orderby,
        "annotation_layers": [],
        "row_limit": int(params.get("row_limit") or 10000),
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "time_range": params.get("time_range") or "No filter",
    }
    return {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [query],
        "form_data": dict(params),
        "result_format": "json",
        "result_type": "full",
    }


def sql_in_chart(params: Mapping[str, Any]) -> list[str]:
    """Where a chart's form data holds SQL (a SQL metric, filter or column): none is allowed."""
    found = []
    for metric in chart_metrics(params):
        if isinstance(metric, Mapping) and metric.get("expressionType") != "SIMPLE":
            found.append(f"metric {_metric_label(metric)!r}")
    for item in params.get("adhoc_filters") or []:
        if item.get("expressionType") != "SIMPLE":
            found.append(f"filter {item.get('sqlExpression') or item!r}")
    for key in ("groupby", "columns", "all_columns"):
        for column in params.get(key) or []:
            if not isinstance(column, str):
                found.append(f"{key} {column!r}")
    if not isinstance(params.get("x_axis", ""), str):
        found.append("x_axis")
    return found


@dataclass(frozen=True)
class DashboardBundle:
    """One dashboard folder."""

    slug: str
    folder: Path
    title: str
    uuid: str
    marts: tuple[str, ...]  # the marts its charts read, sorted
    chart_files: tuple[Path, ...]
    dashboard_file: Path

    def render(self, dataset_uuid: Callable[[str], str]) -> dict[str, dict[str, Any]]:
        """`{path in the ZIP: config}`: the YAML with every dataset reference resolved and a
        query context for every chart that has none."""
        configs: dict[str, dict[str, Any]] = {}
        for path in self.chart_files:
            config = _render_yaml(path, dataset_uuid)
            if not config.get("query_context"):
                config["query_context"] = json.dumps(build_query_context(config["params"]))
            configs[f"charts/{path.name}"] = config
        configs[f"dashboards/{self.dashboard_file.name}"] = _render_yaml(
            self.dashboard_file, dataset_uuid
        )
        return configs

    def to_zip(self, dataset_uuid: Callable[[str], str]) -> bytes:
        """The import bundle (Superset's export layout, `type: assets` for the assets API)."""
        root = f"{self.slug}_bundle"
        metadata = {
            "version": "1.0.0",
            "type": "assets",
            "timestamp": datetime.now(UTC).isoformat(),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{root}/metadata.yaml", yaml.safe_dump(metadata))
            for name, config in self.render(dataset_uuid).items():
                archive.writestr(f"{root}/{name}", yaml.safe_dump(config, sort_keys=False))
        return buffer.getvalue()

    def charts(self) -> list[dict[str, Any]]:
        """The chart configs with placeholder dataset uuids (for checks that need no Superset)."""
        rendered = self.render(placeholder_uuid)
        return [config for name, config in rendered.items() if name.startswith("charts/")]


def placeholder_uuid(mart: str) -> str:
    """A stand-in dataset uuid, stable per mart, for rendering without a Superset."""
    return str(uuid.uuid5(_PLACEHOLDER_NAMESPACE, mart))


def _render_yaml(path: Path, dataset_uuid: Callable[[str], str]) -> dict[str, Any]:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701 - YAML, not HTML
    try:
        text = environment.from_string(path.read_text(encoding="utf-8")).render(
            dataset_uuid=dataset_uuid
        )
        config = yaml.safe_load(text)
    except (jinja2.TemplateError, yaml.YAMLError, KeyError) as exc:
        msg = f"{path}: {type(exc).__name__}: {exc}"
        raise DashboardBundleError(msg) from exc
    if not isinstance(config, dict):
        msg = f"{path}: not a YAML mapping"
        raise DashboardBundleError(msg)
    return config


def _chart_uuids_in_position(position: Mapping[str, Any]) -> Iterator[str]:
    for node in position.values():
        if isinstance(node, Mapping) and node.get("type") == "CHART":
            yield str((node.get("meta") or {}).get("uuid"))


def load_dashboard(folder: Path) -> DashboardBundle:
    """Read and check one dashboard folder (no Superset needed)."""
    dashboards = sorted((folder / "dashboards").glob("*.yaml"))
    if len(dashboards) != 1:
        msg = f"{folder}: expected one dashboards/*.yaml, found {len(dashboards)}"
        raise DashboardBundleError(msg)
    chart_files = tuple(sorted((folder / "charts").glob("*.yaml")))
    marts: set[str] = set()

    def record(mart: str) -> str:
        marts.add(mart)
        return placeholder_uuid(mart)

    chart_uuids = {}
    for path in chart_files:
        config = _render_yaml(path, record)
        reference = str(config.get("dataset_uuid"))
        if reference not in {placeholder_uuid(mart) for mart in marts}:
            msg = (
                f"{path}: dataset_uuid must name the mart, e.g. "
                "\"{{ dataset_uuid('fct_openedx__daily_enrollments') }}\", not an id of one "
                "Superset instance"
            )
            raise DashboardBundleError(msg)
        if sql := sql_in_chart(config.get("params") or {}):
            msg = f"{path}: SQL in a chart ({'; '.join(sql)}); put it in a dbt model"
            raise DashboardBundleError(msg)
        if not config.get("query_context"):
            build_query_context(config["params"])  # raises for a chart type it cannot build
        chart_uuids[str(config["uuid"])] = path
    dashboard = _render_yaml(dashboards[0], record)
    placed = set(_chart_uuids_in_position(dashboard.get("position") or {}))
    if unknown := sorted(placed - set(chart_uuids)):
        msg = f"{dashboards[0]}: the layout places charts with no file in charts/: {unknown}"
        raise DashboardBundleError(msg)
    if unplaced := sorted(str(chart_uuids[u].name) for u in set(chart_uuids) - placed):
        msg = f"{folder}: charts not placed on the dashboard: {', '.join(unplaced)}"
        raise DashboardBundleError(msg)
    slug = str(dashboard.get("slug") or "")
    if slug != folder.name:
        msg = f"{dashboards[0]}: slug {slug!r} differs from the folder name {folder.name!r}"
        raise DashboardBundleError(msg)
    return DashboardBundle(
        slug=slug,
        folder=folder,
        title=str(dashboard["dashboard_title"]),
        uuid=str(dashboard["uuid"]),
        marts=tuple(sorted(marts)),
        chart_files=chart_files,
        dashboard_file=dashboards[0],
    )


def load_dashboards(root: Path = DASHBOARDS_DIR) -> list[DashboardBundle]:
    """Every dashboard folder under `root`, by slug."""
    folders = sorted(path for path in root.iterdir() if path.is_dir()) if root.is_dir() else []
    return [load_dashboard(folder) for folder in folders if not folder.name.startswith(("_", "."))]
