"""The platform against a real Superset: `ol-platform materialize` with Superset running creates
a dataset per published mart and imports every dashboard; every chart's data matches its mart;
a second import changes nothing; dashboards render in a browser; `ol-platform superset` serves.

Superset is started the way `ol-platform superset` starts it (installed once into the cache).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs.dbt import LakehouseDbtTranslator
from lakehouse.defs.superset import build_superset_assets, published_marts
from lakehouse.superset.bundles import chart_columns, chart_filters, chart_metrics, load_dashboards
from ol_orchestrate.lib.environment import find_repo_root
from ol_orchestrate.resources.superset import (
    LOCAL_SERVER_FILE,
    SupersetAuthenticationError,
    SupersetClient,
    SupersetResource,
)
from ol_orchestrate.testing import free_port
from ol_platform.superset_server import SupersetServer
from ol_platform.testing import SKIP_SUPERSET, local_settings, running_superset

pytestmark = [pytest.mark.superset, pytest.mark.slow]

ROOT = find_repo_root()
DASHBOARDS = {bundle.slug: bundle for bundle in load_dashboards()}
# Marts that must be published (the folder list of lakehouse_datasets.py may publish more).
REQUIRED_MARTS = (
    "dim_canvas__course",
    "dim_openedx__course_run",
    "fct_canvas__assignment_submission",
    "fct_canvas__enrollment",
    "fct_openedx__daily_active_learners",
    "fct_openedx__daily_enrollments",
    "fct_openedx__problem_attempts",
    "fct_openedx__user_activity",
    "fct_openedx__video_engagement",
    "fct_openedx__weekly_active_learners",
    "fct_platform__asset_freshness",
    "fct_platform__run_outcome",
)


def _cli(data_dir: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGSTER_ENV": "dev", "OL_DATA_DIR": str(data_dir)}
    for name in ("OL_LAKE_ROOT", "OL_WAREHOUSE_PATH", "DAGSTER_HOME", "OL_SANDBOX_URL"):
        env.pop(name, None)
    env.pop("SUPERSET_URL", None)  # the running local Superset is found through the data folder
    return subprocess.run(
        [sys.executable, "-m", "ol_platform.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Superset running for a fresh data folder, then `ol-platform materialize --size small`."""
    data_dir = tmp_path_factory.mktemp("superset-platform")
    with running_superset(data_dir) as server:
        result = _cli(data_dir, "materialize", "--size", "small")
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        yield {"server": server, "data_dir": data_dir, "materialize": result}


@pytest.fixture
def client(platform: dict[str, Any]) -> Iterator[SupersetClient]:
    with platform["server"].client() as superset:
        yield superset


def _datasets(client: SupersetClient) -> dict[str, dict[str, Any]]:
    payload = client.get_json(
        "/api/v1/dataset/", params={"q": "(page_size:100,columns:!(id,table_name,schema,uuid))"}
    )
    return {row["table_name"]: row for row in payload["result"]}


def _dashboard_state(client: SupersetClient) -> dict[str, Any]:
    """What an import could change: every dashboard's and chart's id and definition."""
    state: dict[str, Any] = {}
    for slug in DASHBOARDS:
        dashboard = client.get_dashboard(slug)
        state[slug] = {
            "id": dashboard["id"],
            "title": dashboard["dashboard_title"],
            "position": json.loads(dashboard["position_json"]),
            "metadata": json.loads(dashboard["json_metadata"]),
            "charts": sorted(
                (chart["id"], chart["slice_name"], json.dumps(chart["form_data"], sort_keys=True))
                for chart in client.dashboard_charts(slug)
            ),
        }
    payload = client.get_json("/api/v1/chart/", params={"q": "(page_size:100,columns:!(id))"})
    state["chart_count"] = payload["count"]
    state["dashboard_count"] = client.get_json("/api/v1/dashboard/")["count"]
    state["dataset_ids"] = {name: row["id"] for name, row in _datasets(client).items()}
    return state


def test_materialize_publishes_every_mart_and_imports_every_dashboard(
    platform: dict[str, Any], client: SupersetClient
) -> None:
    datasets = _datasets(client)
    project = LakehouseDbtProject.from_settings(platform["server"].settings)
    published = published_marts(
        project.load_manifest(), LakehouseDbtTranslator(project.warehouse_kind)
    )
    assert set(datasets) == {mart.table_name for mart in published}
    assert set(REQUIRED_MARTS) <= set(datasets)
    assert {row["schema"] for row in datasets.values()} == {"marts"}
    for slug, bundle in DASHBOARDS.items():
        dashboard = client.get_dashboard(slug)
        assert dashboard["dashboard_title"] == bundle.title
        charts = client.dashboard_charts(slug)
        assert len(charts) == len(bundle.chart_files), slug
    assert {"course_activity", "enrollment", "video_engagement", "problem_performance",
            "canvas_submissions", "platform_health"} <= set(DASHBOARDS)  # fmt: skip
    summary = platform["materialize"].stdout
    assert platform["server"].url in summary


def _sql_value(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _where(params: Mapping[str, Any]) -> str:
    clauses = []
    operators = {"==": "=", "!=": "<>", ">": ">", "<": "<", ">=": ">=", "<=": "<="}
    for item in chart_filters(params):
        column, op = f'"{item["col"]}"', item["op"]
        if op in operators:
            clauses.append(f"{column} {operators[op]} {_sql_value(item['val'])}")
        elif op in ("IS NULL", "IS NOT NULL"):
            clauses.append(f"{column} {op}")
        elif op in ("IN", "NOT IN"):
            values = ", ".join(_sql_value(v) for v in item["val"])
            clauses.append(f"{column} {op} ({values})")
        else:
            raise AssertionError(f"no SQL for filter operator {op}")
    return " and ".join(clauses) or "true"


GRAINS = {"P1D": "day", "P1W": "week", "P1M": "month"}


def expected_chart_rows(
    connection: duckdb.DuckDBPyConnection, table: str, params: Mapping[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The chart's query run on the mart in DuckDB: (labels, rows)."""
    selects, labels, groups = [], [], []
    for column in chart_columns(params):
        if isinstance(column, dict):
            expression = (
                f"date_trunc('{GRAINS[column['timeGrain']]}', \"{column['sqlExpression']}\")"
            )
            labels.append(column["label"])
        else:
            expression = f'"{column}"'
            labels.append(column)
        selects.append(expression)
        groups.append(expression)
    for metric in chart_metrics(params):
        aggregate, column = metric["aggregate"], f'"{metric["column"]["column_name"]}"'
        sql = (
            f"count(distinct {column})"
            if aggregate == "COUNT_DISTINCT"
            else f"{aggregate}({column})"
        )
        selects.append(sql)
        labels.append(metric["label"])
    group_by = f" group by {', '.join(groups)}" if groups else ""
    rows = connection.execute(
        f"select {', '.join(selects)} from marts.{table} where {_where(params)}{group_by}"
    ).fetchall()
    return labels, rows


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)
    if isinstance(value, date):
        return round(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, int | float | Decimal):
        return round(float(value), 6)
    return value


def _multiset(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


def test_every_charts_data_matches_its_mart(
    platform: dict[str, Any], client: SupersetClient
) -> None:
    serving = local_settings(platform["data_dir"]).serving_warehouse_path
    checked = 0
    with duckdb.connect(str(serving), read_only=True) as connection:
        for slug in DASHBOARDS:
            for chart in client.dashboard_charts(slug):
                params = chart["form_data"]
                dataset = client.get_dataset(int(str(params["datasource"]).split("__")[0]))
                # The chart's own saved query, through the chart-data API.
                result = client.get_json(f"/api/v1/chart/{chart['id']}/data/")["result"][0]
                labels, expected = expected_chart_rows(connection, dataset["table_name"], params)
                limit = int(params.get("row_limit") or 10000)
                name = f"{slug}/{chart['slice_name']}"
                assert result["rowcount"] == min(len(expected), limit), name
                assert result["rowcount"] > 0, f"{name} shows no data"
                if len(expected) <= limit:
                    actual = [tuple(row[label] for label in labels) for row in result["data"]]
                    assert _multiset(actual) == _multiset(expected), name
                checked += 1
    assert checked == sum(len(bundle.chart_files) for bundle in DASHBOARDS.values())


def test_counts_equal_the_marts(platform: dict[str, Any], client: SupersetClient) -> None:
    serving = local_settings(platform["data_dir"]).serving_warehouse_path
    warehouse = local_settings(platform["data_dir"]).warehouse_path
    with (
        duckdb.connect(str(serving), read_only=True) as served,
        duckdb.connect(str(warehouse), read_only=True) as built,
    ):
        for name, dataset in _datasets(client).items():
            query = {
                "datasource": {"id": dataset["id"], "type": "table"},
                "queries": [{"metrics": ["count"], "columns": [], "row_limit": 1}],
                "result_format": "json",
                "result_type": "full",
            }
            payload = client._write("POST", "/api/v1/chart/data", json=query)
            count = payload["result"][0]["data"][0]["count"]
            sql = f"select count(*) from marts.{name}"
            assert count == served.execute(sql).fetchone()[0] == built.execute(sql).fetchone()[0]


def test_second_import_changes_nothing(platform: dict[str, Any], client: SupersetClient) -> None:
    """The Superset assets run again (datasets refreshed, dashboards imported again)."""
    before = _dashboard_state(client)
    server: SupersetServer = platform["server"]
    settings = server.settings
    project = LakehouseDbtProject.from_settings(settings)
    assets = build_superset_assets(
        project.load_manifest(),
        LakehouseDbtTranslator(project.warehouse_kind),
        project,
        serving_path=settings.serving_warehouse_path,
    )
    resource = SupersetResource.from_settings(settings)  # finds the server through the data dir

    result = dg.materialize(assets, resources={"superset": resource}, raise_on_error=False)

    assert result.success
    statuses = {
        (event.asset_key.path[1], event.metadata["status"].value)
        for event in (m.materialization for m in result.get_asset_materialization_events())
        if event.asset_key.path[1] in ("dataset", "dashboard")
    }
    assert statuses == {("dataset", "published"), ("dashboard", "imported")}
    assert _dashboard_state(client) == before


def test_a_wrong_password_is_refused(platform: dict[str, Any]) -> None:
    server = platform["server"]
    wrong = "not-the-admin-password"  # pragma: allowlist secret
    with server.client(password=wrong) as client, pytest.raises(SupersetAuthenticationError):
        client.find_database("warehouse")
    with server.client() as client:
        assert client.find_database("warehouse") is not None


@pytest.mark.browser
def test_dashboards_render_in_a_browser(
    platform: dict[str, Any], browser: Any, screenshots: Path
) -> None:
    server: SupersetServer = platform["server"]
    page = browser.new_page(viewport={"width": 1600, "height": 1300})
    failed_requests: list[str] = []
    page.on(
        "response",
        lambda response: (
            failed_requests.append(f"{response.status} {response.url}")
            if "/api/v1/chart/data" in response.url and response.status >= 400
            else None
        ),
    )
    page.goto(f"{server.url}/login/")
    page.fill("[data-test=username-input]", server.username)
    page.fill("[data-test=password-input]", server._password)
    page.click("[data-test=login-button]")
    page.wait_for_url(lambda url: "/login" not in url)
    for slug, bundle in DASHBOARDS.items():
        page.goto(f"{server.url}/superset/dashboard/{slug}/")
        holders = page.locator("[data-test=chart-grid-component]")
        holders.first.wait_for(timeout=60_000)
        deadline = time.monotonic() + 90
        while True:
            count = holders.count()
            loading = page.locator("[data-test=chart-grid-component] [data-test=loading-indicator]")
            rendered = page.locator(
                "[data-test=chart-grid-component] :is(canvas, svg, table, .header-line)"
            )
            if count == len(bundle.chart_files) and loading.count() == 0:
                done = sum(
                    1
                    for index in range(count)
                    if holders.nth(index)
                    .locator(":is(canvas, svg, table, .header-line, .ant-alert-error)")
                    .count()
                )
                if done == count:
                    break
            assert time.monotonic() < deadline, f"{slug}: charts still loading ({rendered.count()})"
            time.sleep(0.5)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshots / f"{slug}.png"), full_page=True)
        errors = page.locator("[data-test=chart-grid-component] .ant-alert-error")
        assert errors.count() == 0, f"{slug}: {errors.first.inner_text()}"
        assert not page.get_by_text("Unexpected error").count(), slug
    assert not failed_requests, failed_requests
    page.close()
    assert sorted(path.name for path in screenshots.iterdir()) == sorted(
        f"{slug}.png" for slug in DASHBOARDS
    )


def test_ol_platform_superset_serves_until_interrupted(
    tmp_path: Path,
) -> None:
    if os.environ.get(SKIP_SUPERSET, "").strip().lower() in ("1", "true", "yes"):
        pytest.skip(f"{SKIP_SUPERSET} is set")
    port = free_port()
    env = {**os.environ, "DAGSTER_ENV": "dev", "OL_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "ol_platform.cli", "superset", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if f"http://127.0.0.1:{port}" in line and "Superset on" in "".join(lines[-3:]):
                break
        else:
            raise AssertionError("".join(lines))
        state = json.loads((tmp_path / LOCAL_SERVER_FILE).read_text())
        assert state["url"] == f"http://127.0.0.1:{port}"
        settings = local_settings(tmp_path)
        with SupersetClient(state["url"], "admin", _admin_password(settings)) as client:
            database = client.find_database("warehouse")
            assert database is not None
        second = _cli(tmp_path, "superset", "--port", str(free_port()), timeout=60)
        assert second.returncode == 3, second.stdout  # one Superset per data folder
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, "".join(lines)
    assert not (tmp_path / LOCAL_SERVER_FILE).exists()


def _admin_password(settings: Any) -> str:
    from ol_orchestrate.resources.secrets import SecretsResource

    return SecretsResource.from_settings(settings).get_secret("superset/api")["password"]
