"""dbt nodes get the platform's `[source_system, layer, name]` keys, layer groups and kinds."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs.dbt import (
    LakehouseDbtTranslator,
    build_dbt_assets,
    model_layer,
    model_source_system,
)
from ol_orchestrate.lib.automation import is_raw_key


def model(name: str, *folders: str, **extra: Any) -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "fqn": ["ol_dbt", *folders, name],
        "config": {"meta": extra.pop("meta", {})},
        **extra,
    }


@pytest.mark.parametrize(
    ("node", "key", "group"),
    [
        (
            model("stg_openedx__course_runs", "staging", "openedx"),
            ["openedx", "staging", "stg_openedx__course_runs"],
            "openedx_staging",
        ),
        (
            model("int_openedx__enrollments", "intermediate", "openedx"),
            ["openedx", "intermediate", "int_openedx__enrollments"],
            "openedx_intermediate",
        ),
        (
            model("dim_openedx__course_run", "marts", "openedx"),
            ["openedx", "marts", "dim_openedx__course_run"],
            "openedx_marts",
        ),
        (
            model("fct_openedx__daily_enrollments", "marts", "openedx"),
            ["openedx", "marts", "fct_openedx__daily_enrollments"],
            "openedx_marts",
        ),
        # Multi-word source systems keep their underscores.
        (
            model("stg_legacy_openedx__users", "staging", "legacy_openedx"),
            ["legacy_openedx", "staging", "stg_legacy_openedx__users"],
            "legacy_openedx_staging",
        ),
        # The folder decides the layer; the name decides the source system.
        (
            model("dim_canvas__course", "intermediate", "canvas"),
            ["canvas", "intermediate", "dim_canvas__course"],
            "canvas_intermediate",
        ),
        # Outside a layer folder the prefix decides the layer.
        (
            model("fct_edxorg__grades", "edxorg"),
            ["edxorg", "marts", "fct_edxorg__grades"],
            "edxorg_marts",
        ),
        # Names off the convention: the folder inside the layer, else a fallback namespace.
        (
            model("course_calendar", "marts", "reference"),
            ["reference", "marts", "course_calendar"],
            "reference_marts",
        ),
        (model("misc", "marts"), ["warehouse", "marts", "misc"], "warehouse_marts"),
    ],
)
def test_model_keys_and_groups(node: dict[str, Any], key: list[str], group: str) -> None:
    translator = LakehouseDbtTranslator("duckdb")
    assert translator.get_asset_key(node) == dg.AssetKey(key)
    assert translator.get_group_name(node) == group
    assert model_source_system(node) == key[0]
    assert model_layer(node) == key[1]


def test_explicit_meta_asset_key_and_group_win() -> None:
    node = model(
        "stg_openedx__special",
        "staging",
        "openedx",
        meta={"dagster": {"asset_key": ["custom", "key"], "group": "custom_group"}},
    )
    translator = LakehouseDbtTranslator("duckdb")
    assert translator.get_asset_key(node) == dg.AssetKey(["custom", "key"])
    assert translator.get_group_name(node) == "custom_group"


def test_sources_keep_their_raw_keys(
    prepared_manifest: dict[str, Any], translator: LakehouseDbtTranslator
) -> None:
    sources = prepared_manifest["sources"].values()
    assert sources
    for source in sources:
        meta_key = source["config"]["meta"]["dagster"]["asset_key"]
        assert translator.get_asset_key(source) == dg.AssetKey(meta_key)
        # `[source, raw, table]`, or Airbyte's `[ol_warehouse_raw_data, table]`
        assert is_raw_key(dg.AssetKey(meta_key))
        assert meta_key[0] == source["source_name"]
        assert meta_key[-1] == source["name"]


def test_keys_from_the_real_manifest(
    prepared_manifest: dict[str, Any], dev_project: LakehouseDbtProject
) -> None:
    assets_def = build_dbt_assets(dev_project, prepared_manifest)
    keys = {key.to_user_string() for key in assets_def.keys}
    assert "openedx/staging/stg_openedx__course_runs" in keys
    assert "openedx/marts/dim_openedx__course_run" in keys
    assert "openedx/marts/fct_openedx__daily_enrollments" in keys

    staging = dg.AssetKey(["openedx", "staging", "stg_openedx__course_runs"])
    spec = next(spec for spec in assets_def.specs if spec.key == staging)
    assert spec.group_name == "openedx_staging"
    assert spec.kinds == {"dbt", "duckdb"}
    # Staging reads the raw tables the openedx location writes.
    deps = {dep.asset_key for dep in spec.deps}
    assert dg.AssetKey(["openedx", "raw", "mitxonline_course_runs"]) in deps
    assert dg.AssetKey(["openedx", "raw", "xpro_course_runs"]) in deps

    checked = {check.asset_key for check in assets_def.check_specs}
    assert dg.AssetKey(["openedx", "marts", "dim_openedx__course_run"]) in checked


def test_kinds_follow_the_environments_engine(
    prepared_manifest: dict[str, Any], dev_project: LakehouseDbtProject
) -> None:
    # The manifest was parsed for DuckDB; in qa/production the models are built on Trino.
    assets_def = build_dbt_assets(
        dev_project, prepared_manifest, LakehouseDbtTranslator(warehouse_kind="trino")
    )
    for spec in assets_def.specs:
        assert spec.kinds == {"dbt", "trino"}
        assert spec.metadata["dagster/storage_kind"] == "trino"
