"""The dataset assets against a real Superset (started as `ol-platform superset` starts it): a
mart's dataset is created, then follows the mart's columns — an added column appears, a removed
one disappears, and the charts that used it are named in the asset's metadata."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs import superset as superset_module
from lakehouse.defs.dbt import LakehouseDbtTranslator
from lakehouse.defs.superset import SERVING_COPY_KEY, build_superset_assets
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.superset import SupersetResource
from ol_platform.superset_server import SupersetServer
from ol_platform.testing import running_superset

pytestmark = [pytest.mark.superset, pytest.mark.slow]

MART = "fct_openedx__problem_attempts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SupersetServer]:
    with running_superset(tmp_path_factory.mktemp("lakehouse-superset")) as running:
        yield running


@pytest.fixture
def resource(server: SupersetServer) -> SupersetResource:
    return SupersetResource(
        base_url=server.url,
        max_retries=0,
        secrets=SecretsResource.from_settings(server.settings),
    )


def _build_mart(warehouse: Path, columns: str) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute(f"create or replace table marts.{MART} as select {columns}")


def _publish(
    assets: list[dg.AssetsDefinition], resource: SupersetResource
) -> dict[str, dict[str, Any]]:
    selected = [
        a for a in assets if a.key in (SERVING_COPY_KEY, dg.AssetKey(["superset", "dataset", MART]))
    ]
    result = dg.materialize(selected, resources={"superset": resource}, raise_on_error=False)
    assert result.success, [
        e.step_failure_data.error.to_string()  # type: ignore[union-attr]
        for e in result.all_events
        if e.is_step_failure
    ]
    return {
        event.asset_key.to_user_string(): {k: v.value for k, v in event.metadata.items()}
        for event in (m.materialization for m in result.get_asset_materialization_events())
    }


def test_the_dataset_follows_the_marts_columns(
    server: SupersetServer,
    resource: SupersetResource,
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    project = dataclasses.replace(dev_project, warehouse_path=warehouse)
    assets = build_superset_assets(
        prepared_manifest,
        translator,
        project,
        serving_path=server.settings.serving_warehouse_path,
        dashboards=[],
    )
    _build_mart(
        warehouse,
        "'mitxonline' as openedx_deployment, 'course-v1:A+B+C' as courserun_readable_id, "
        "'block-v1:p1' as problem_block_id, 3::bigint as attempt_count",
    )

    first = _publish(assets, resource)[f"superset/dataset/{MART}"]

    assert first["status"] == "published"
    assert first["action"] == "created"
    assert first["columns"] == [
        "openedx_deployment", "courserun_readable_id", "problem_block_id", "attempt_count"
    ]  # fmt: skip
    dataset_id = first["dataset_id"]
    with resource.get_client() as client:
        chart = client._write(
            "POST",
            "/api/v1/chart/",
            json={
                "slice_name": "Attempts per problem",
                "viz_type": "table",
                "datasource_id": dataset_id,
                "datasource_type": "table",
                "params": json.dumps(
                    {
                        "viz_type": "table",
                        "groupby": ["problem_block_id"],
                        "metrics": [
                            {
                                "expressionType": "SIMPLE",
                                "aggregate": "SUM",
                                "label": "n",
                                "column": {"column_name": "attempt_count"},
                            }
                        ],
                    }
                ),
            },
        )
        untouched = client._write(
            "POST",
            "/api/v1/chart/",
            json={
                "slice_name": "Attempts",
                "viz_type": "big_number_total",
                "datasource_id": dataset_id,
                "datasource_type": "table",
                "params": json.dumps({"viz_type": "big_number_total", "metric": "count"}),
            },
        )

    # The next build: problem_block_id removed, correct_attempt_count added.
    _build_mart(
        warehouse,
        "'mitxonline' as openedx_deployment, 'course-v1:A+B+C' as courserun_readable_id, "
        "3::bigint as attempt_count, 1::bigint as correct_attempt_count",
    )
    second = _publish(assets, resource)[f"superset/dataset/{MART}"]

    assert second["action"] == "refreshed"
    assert second["dataset_id"] == dataset_id
    assert second["columns_added"] == ["correct_attempt_count"]
    assert second["columns_removed"] == ["problem_block_id"]
    assert second["charts_using_removed_columns"] == [
        {"chart_id": chart["id"], "chart_name": "Attempts per problem",
         "columns": ["problem_block_id"]}
    ]  # fmt: skip
    assert untouched["id"] not in [c["chart_id"] for c in second["charts_using_removed_columns"]]
    with resource.get_client() as client:
        assert client.dataset_columns(dataset_id) == [
            "openedx_deployment", "courserun_readable_id", "attempt_count", "correct_attempt_count"
        ]  # fmt: skip

    third = _publish(assets, resource)[f"superset/dataset/{MART}"]
    assert (third["action"], third["columns_added"], third["columns_removed"]) == (
        "refreshed",
        [],
        [],
    )


def test_dev_and_ci_manifests_are_interchangeable(
    server: SupersetServer,
    resource: SupersetResource,
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(superset_module, "prepared_target", lambda project_dir: "ci")
    warehouse = tmp_path / "warehouse.duckdb"
    _build_mart(warehouse, "'x' as openedx_deployment")
    project = dataclasses.replace(dev_project, warehouse_path=warehouse)
    assets = build_superset_assets(
        prepared_manifest,
        translator,
        project,
        serving_path=server.settings.serving_warehouse_path,
        dashboards=[],
    )

    metadata = _publish(assets, resource)

    assert metadata[f"superset/dataset/{MART}"]["status"] == "published"


def test_a_wrong_password_fails_the_step_without_leaking_it(
    server: SupersetServer,
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    tmp_path: Path,
) -> None:
    wrong = "nope-nope"  # pragma: allowlist secret
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text(f"superset:\n  api:\n    username: admin\n    password: {wrong}\n")
    resource = SupersetResource(
        base_url=server.url,
        max_retries=0,
        secrets=SecretsResource(backend="local", local_secrets_file=str(secrets_file)),
    )
    assets = build_superset_assets(prepared_manifest, translator, dev_project, dashboards=[])
    dataset = next(a for a in assets if a.key.path[1] == "dataset")

    result = dg.materialize([dataset], resources={"superset": resource}, raise_on_error=False)

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    text = failure.step_failure_data.error.to_string()
    assert "SupersetAuthenticationError" in text
    assert wrong not in text
