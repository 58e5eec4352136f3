"""Superset dataset assets: one per published mart, skipped without Superset, and a real publish
against the Superset emulator (ol_sandbox.superset)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs import superset as superset_module
from lakehouse.defs.dbt import LakehouseDbtTranslator
from lakehouse.defs.superset import build_superset_assets, published_marts
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.superset import SupersetResource
from ol_sandbox.superset import FakeSuperset

USERNAME = "lakehouse"
PASSWORD = "superset-test-password"  # pragma: allowlist secret
# Every published mart, in name order (published_marts sorts by name).
MARTS = tuple(
    sorted(
        (
            "dim_openedx__course_run",
            "fct_openedx__daily_enrollments",
            # tracking-log marts
            "fct_openedx__user_activity",
            "fct_openedx__daily_active_learners",
            "fct_openedx__weekly_active_learners",
            "fct_openedx__video_engagement",
            "fct_openedx__problem_attempts",
            # Canvas marts
            "dim_canvas__course",
            "fct_canvas__enrollment",
            "fct_canvas__assignment_submission",
        )
    )
)


@pytest.fixture
def secrets(tmp_path: Path) -> SecretsResource:
    path = tmp_path / "secrets.yaml"
    path.write_text(
        yaml.safe_dump({"superset": {"api": {"username": USERNAME, "password": PASSWORD}}})
    )
    return SecretsResource(backend="local", local_secrets_file=str(path))


@pytest.fixture
def fake() -> Iterator[FakeSuperset]:
    # The DuckDB warehouse holds the marts in schema `marts` (generate_schema_name).
    with FakeSuperset(
        users={USERNAME: PASSWORD},
        databases=("warehouse",),
        tables={"warehouse": [("marts", name) for name in MARTS]},
    ) as server:
        yield server


@pytest.fixture
def superset_assets(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
) -> list[dg.AssetsDefinition]:
    return build_superset_assets(prepared_manifest, translator, dev_project)


def materialize(
    assets: list[dg.AssetsDefinition], superset: SupersetResource
) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, resources={"superset": superset}, raise_on_error=False)


def metadata_by_key(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {
        event.asset_key.to_user_string(): {
            key: getattr(value, "value", value) for key, value in event.metadata.items()
        }
        for event in (m.materialization for m in result.get_asset_materialization_events())
        if event.asset_key is not None
    }


def test_one_asset_per_published_mart(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    superset_assets: list[dg.AssetsDefinition],
) -> None:
    marts = published_marts(prepared_manifest, translator)
    assert [mart.model_name for mart in marts] == list(MARTS)
    assert all(mart.schema == "marts" for mart in marts)

    by_key = {assets_def.key: assets_def for assets_def in superset_assets}
    for mart in marts:
        key = dg.AssetKey(["superset", "dataset", mart.model_name])
        spec = next(iter(by_key[key].specs))
        assert spec.group_name == "superset"
        assert spec.kinds == {"superset"}
        # dim_canvas__course -> canvas: the mart's source system, from its name.
        source_system = mart.model_name.split("_", 1)[1].split("__")[0]
        assert {dep.asset_key for dep in spec.deps} == {
            dg.AssetKey([source_system, "marts", mart.model_name])
        }


def test_unpublished_models_get_no_dataset(translator: LakehouseDbtTranslator) -> None:
    manifest = {
        "nodes": {
            "model.ol_dbt.dim_x__y": {
                "resource_type": "model",
                "name": "dim_x__y",
                "fqn": ["ol_dbt", "marts", "x", "dim_x__y"],
                "schema": "marts",
                "config": {"meta": {"superset": {"publish": False}}},
            },
            "model.ol_dbt.fct_x__z": {
                "resource_type": "model",
                "name": "fct_x__z",
                "alias": "fct_x__z_v2",
                "fqn": ["ol_dbt", "marts", "x", "fct_x__z"],
                "schema": "marts",
                "config": {"meta": {"superset": {"publish": True}}},
            },
        }
    }
    marts = published_marts(manifest, translator)
    assert [(m.model_name, m.table_name) for m in marts] == [("fct_x__z", "fct_x__z_v2")]


def test_skipped_without_superset(
    superset_assets: list[dg.AssetsDefinition], secrets: SecretsResource
) -> None:
    result = materialize(superset_assets, SupersetResource(base_url=None, secrets=secrets))

    assert result.success
    metadata = metadata_by_key(result)
    assert set(metadata) == {f"superset/dataset/{name}" for name in MARTS}
    for entry in metadata.values():
        assert entry["status"] == "skipped"
        assert "SUPERSET_URL" in entry["reason"]


def test_publishes_to_superset_then_refreshes(
    superset_assets: list[dg.AssetsDefinition], secrets: SecretsResource, fake: FakeSuperset
) -> None:
    superset = SupersetResource(
        base_url=fake.url, database_name="warehouse", max_retries=0, secrets=secrets
    )

    first = metadata_by_key(materialize(superset_assets, superset))

    assert {entry["action"] for entry in first.values()} == {"created"}
    datasets = {(d.schema, d.table_name): d for d in fake.datasets.values()}
    assert set(datasets) == {("marts", name) for name in MARTS}
    entry = first["superset/dataset/dim_openedx__course_run"]
    assert entry["dataset_id"] == datasets[("marts", "dim_openedx__course_run")].id
    assert entry["schema"] == "marts"
    assert entry["table_name"] == "dim_openedx__course_run"
    assert PASSWORD not in repr(first)

    second = metadata_by_key(materialize(superset_assets, superset))

    assert {entry["action"] for entry in second.values()} == {"refreshed"}
    assert all(d.refresh_count == 1 for d in fake.datasets.values())
    assert len(fake.datasets) == len(MARTS)


def test_publish_failure_fails_the_step_without_leaking_the_password(
    superset_assets: list[dg.AssetsDefinition], tmp_path: Path, fake: FakeSuperset
) -> None:
    path = tmp_path / "wrong.yaml"
    wrong = "nope-nope"  # pragma: allowlist secret
    path.write_text(
        yaml.safe_dump({"superset": {"api": {"username": USERNAME, "password": wrong}}})
    )
    superset = SupersetResource(
        base_url=fake.url,
        max_retries=0,
        secrets=SecretsResource(backend="local", local_secrets_file=str(path)),
    )

    result = materialize(superset_assets[:1], superset)

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    assert error is not None
    text = error.to_string()
    assert "SupersetAuthenticationError" in text
    assert "nope-nope" not in text
    assert not fake.datasets


def test_manifest_for_another_target_fails_outside_dev(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    secrets: SecretsResource,
    fake: FakeSuperset,
) -> None:
    # The prepared manifest is for a local target; production must not publish its schema names.
    production = dataclasses.replace(dev_project, target="production", is_local=False)
    assets = build_superset_assets(prepared_manifest, translator, production)
    superset = SupersetResource(base_url=fake.url, max_retries=0, secrets=secrets)

    result = materialize(assets[:1], superset)

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    assert "this environment builds 'production'" in failure.step_failure_data.error.to_string()
    assert not fake.datasets


def test_manifest_for_production_fails_in_dev(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    secrets: SecretsResource,
    fake: FakeSuperset,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # e.g. an image built for production run with DAGSTER_ENV=dev: Trino schema names.
    monkeypatch.setattr(superset_module, "prepared_target", lambda project_dir: "production")
    assets = build_superset_assets(prepared_manifest, translator, dev_project)
    superset = SupersetResource(base_url=fake.url, max_retries=0, secrets=secrets)

    result = materialize(assets[:1], superset)

    assert not result.success
    assert not fake.datasets


def test_dev_and_ci_manifests_are_interchangeable(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    secrets: SecretsResource,
    fake: FakeSuperset,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(superset_module, "prepared_target", lambda project_dir: "ci")
    assets = build_superset_assets(prepared_manifest, translator, dev_project)
    superset = SupersetResource(base_url=fake.url, max_retries=0, secrets=secrets)

    result = materialize(assets[:1], superset)

    assert result.success
    assert len(fake.datasets) == 1
