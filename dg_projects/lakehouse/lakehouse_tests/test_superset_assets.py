"""Superset assets as the location defines them: which marts are published (the folder list of
lakehouse_datasets.py), the lineage marts -> serving copy -> datasets -> dashboards, "skipped"
without Superset, and the manifest-target guard. Publishing for real: test_superset_real.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs import lakehouse_datasets
from lakehouse.defs import superset as superset_module
from lakehouse.defs.dbt import LakehouseDbtTranslator
from lakehouse.defs.lakehouse_datasets import is_published_model
from lakehouse.defs.superset import SERVING_COPY_KEY, build_superset_assets, published_marts
from lakehouse.superset.bundles import load_dashboards
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.superset import SupersetResource

# Marts that must be published (the folder list may publish more), in name order.
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
            # platform health (the data_platform location's snapshot)
            "fct_platform__run_outcome",
            "fct_platform__asset_freshness",
        )
    )
)
DASHBOARDS = ("canvas_submissions", "course_activity", "enrollment", "platform_health",
              "problem_performance", "video_engagement")  # fmt: skip
SLUGS = tuple(bundle.slug for bundle in load_dashboards())
# Nothing listens here: a test that gets this far without contacting Superset proves it did not.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def secrets(tmp_path: Path) -> SecretsResource:
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump({"superset": {"api": {"username": "u", "password": "p"}}}))
    return SecretsResource(backend="local", local_secrets_file=str(path))


def _model(name: str, *folders: str) -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "fqn": ["ol_dbt", *folders, name],
        "schema": "marts",
    }


def test_the_folder_list_publishes_every_model_of_its_folders(
    prepared_manifest: dict[str, Any], translator: LakehouseDbtTranslator
) -> None:
    folders = lakehouse_datasets.dbt_models_for_superset_datasets
    in_folders = sorted(
        node["name"]
        for node in prepared_manifest["nodes"].values()
        if node["resource_type"] == "model"
        and any(node["original_file_path"].startswith(f"models/{folder}/") for folder in folders)
    )
    marts = published_marts(prepared_manifest, translator)

    assert [mart.model_name for mart in marts] == in_folders
    assert set(MARTS) <= set(in_folders)
    assert all(mart.schema == "marts" for mart in marts)
    for folder in folders:  # a folder that publishes nothing is a typo
        assert any(n["original_file_path"].startswith(f"models/{folder}/")
                   for n in prepared_manifest["nodes"].values()), folder  # fmt: skip


def test_a_model_is_published_by_its_folder() -> None:
    folders = ["marts/openedx", "reports"]
    assert is_published_model(_model("fct_a", "marts", "openedx"), folders)
    assert is_published_model(_model("fct_b", "reports", "weekly", "deep"), folders)  # subfolder
    assert not is_published_model(_model("fct_c", "marts", "canvas"), folders)
    assert not is_published_model(_model("int_d", "intermediate", "openedx"), folders)
    assert not is_published_model(_model("fct_e", "marts", "openedx_extra"), folders)
    seed = {**_model("seed_f", "marts", "openedx"), "resource_type": "seed"}
    assert not is_published_model(seed, folders)


def test_adding_a_folder_is_all_it_takes(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manifest = {
        "nodes": {
            **prepared_manifest["nodes"],
            "model.ol_dbt.fct_x__y": {**_model("fct_x__y", "marts", "x"), "alias": "fct_x__y_v2"},
        }
    }
    assert "fct_x__y" not in [m.model_name for m in published_marts(manifest, translator)]

    monkeypatch.setattr(
        lakehouse_datasets, "dbt_models_for_superset_datasets", ["marts/openedx", "marts/x"]
    )
    names = {m.model_name: m for m in published_marts(manifest, translator)}
    assert "fct_x__y" in names
    assert names["fct_x__y"].table_name == "fct_x__y_v2"
    assert "dim_canvas__course" not in names


def test_lineage_from_marts_to_dashboards(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    tmp_path: Path,
) -> None:
    assets = build_superset_assets(
        prepared_manifest, translator, dev_project, serving_path=tmp_path / "s.duckdb"
    )
    specs = {spec.key: spec for assets_def in assets for spec in assets_def.specs}
    marts = published_marts(prepared_manifest, translator)

    serving = specs[SERVING_COPY_KEY]
    assert {dep.asset_key for dep in serving.deps} == {mart.asset_key for mart in marts}
    for mart in marts:
        spec = specs[dg.AssetKey(["superset", "dataset", mart.model_name])]
        assert spec.group_name == "superset"
        assert spec.kinds == {"superset"}
        # dim_canvas__course -> canvas: the mart's source system, from its name.
        source_system = mart.model_name.split("_", 1)[1].split("__")[0]
        assert {dep.asset_key for dep in spec.deps} == {
            dg.AssetKey([source_system, "marts", mart.model_name]),
            SERVING_COPY_KEY,
        }
    dashboards = {key.path[2]: spec for key, spec in specs.items() if key.path[1] == "dashboard"}
    assert sorted(dashboards) == sorted(SLUGS)
    assert set(DASHBOARDS) <= set(dashboards)
    enrollment = {dep.asset_key.path[2] for dep in dashboards["enrollment"].deps}
    assert enrollment == {"dim_openedx__course_run", "fct_openedx__daily_enrollments"}


def test_deployed_environments_have_no_serving_copy(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
) -> None:
    assets = build_superset_assets(prepared_manifest, translator, dev_project)
    keys = {spec.key for assets_def in assets for spec in assets_def.specs}
    assert SERVING_COPY_KEY not in keys
    dataset = next(a for a in assets if a.key.path[1] == "dataset")
    assert [dep.asset_key.path[1] for dep in next(iter(dataset.specs)).deps] == ["marts"]


def test_a_dashboard_on_an_unpublished_mart_fails_at_load(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lakehouse_datasets, "dbt_models_for_superset_datasets", ["marts/openedx"])
    with pytest.raises(ValueError, match=r"canvas_submissions.*dbt_models_for_superset_datasets"):
        build_superset_assets(prepared_manifest, translator, dev_project)


def test_skipped_without_superset(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    secrets: SecretsResource,
    tmp_path: Path,
) -> None:
    assets = build_superset_assets(prepared_manifest, translator, dev_project)
    # No URL, and no `ol-platform superset` running for this (empty) data folder.
    superset = SupersetResource(base_url=None, local_data_dir=str(tmp_path), secrets=secrets)

    result = dg.materialize(assets, resources={"superset": superset}, raise_on_error=False)

    assert result.success
    metadata = {
        event.asset_key.to_user_string(): {k: v.value for k, v in event.metadata.items()}
        for event in (m.materialization for m in result.get_asset_materialization_events())
    }
    marts = [mart.model_name for mart in published_marts(prepared_manifest, translator)]
    assert set(metadata) == {f"superset/dataset/{name}" for name in marts} | {
        f"superset/dashboard/{slug}" for slug in SLUGS
    }
    for entry in metadata.values():
        assert entry["status"] == "skipped"
        assert "ol-platform superset" in entry["reason"]


def _first_failure(result: dg.ExecuteInProcessResult) -> str:
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.error is not None
    return failure.step_failure_data.error.to_string()


def test_manifest_for_another_target_fails_outside_dev(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    secrets: SecretsResource,
) -> None:
    # The prepared manifest is for a local target; production must not publish its schema names.
    production = dataclasses.replace(dev_project, target="production", is_local=False)
    assets = build_superset_assets(prepared_manifest, translator, production, dashboards=[])
    superset = SupersetResource(base_url=UNREACHABLE, max_retries=0, secrets=secrets)

    result = dg.materialize(assets[:1], resources={"superset": superset}, raise_on_error=False)

    assert not result.success
    assert "this environment builds 'production'" in _first_failure(result)


def test_manifest_for_production_fails_in_dev(
    prepared_manifest: dict[str, Any],
    translator: LakehouseDbtTranslator,
    dev_project: LakehouseDbtProject,
    secrets: SecretsResource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # e.g. an image built for production run with DAGSTER_ENV=dev: Trino schema names.
    monkeypatch.setattr(superset_module, "prepared_target", lambda project_dir: "production")
    assets = build_superset_assets(prepared_manifest, translator, dev_project, dashboards=[])
    superset = SupersetResource(base_url=UNREACHABLE, max_retries=0, secrets=secrets)

    result = dg.materialize(assets[:1], resources={"superset": superset}, raise_on_error=False)

    assert not result.success
    assert "prepared for target 'production'" in _first_failure(result)


def test_every_dashboard_folder_loads() -> None:
    assert set(DASHBOARDS) <= set(SLUGS)
