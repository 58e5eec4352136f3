"""What a whole dbt build reads and what it rebuilds: raw table versions, the build plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from lakehouse.dbt_inputs import (
    BuildInputs,
    descendants,
    plan_build,
    record_inputs,
    recorded_inputs,
    table_versions,
    warehouse_token,
)
from ol_orchestrate.io_managers import CONTENT_HASH_METADATA_KEY

# source a -> stg_a -> int_ab -> fct_ab; source b -> stg_b -> int_ab; source c -> stg_c.
MANIFEST: dict[str, Any] = {
    "sources": {"source.p.raw.a": {}, "source.p.raw.b": {}, "source.p.raw.c": {}},
    "nodes": {
        f"model.p.{name}": {"resource_type": "model", "name": name}
        for name in ("stg_a", "stg_b", "stg_c", "int_ab", "fct_ab")
    }
    | {"test.p.not_null_stg_a": {"resource_type": "test", "name": "not_null_stg_a"}},
    "child_map": {
        "source.p.raw.a": ["model.p.stg_a"],
        "source.p.raw.b": ["model.p.stg_b"],
        "source.p.raw.c": ["model.p.stg_c"],
        "model.p.stg_a": ["model.p.int_ab", "test.p.not_null_stg_a"],
        "model.p.stg_b": ["model.p.int_ab"],
        "model.p.int_ab": ["model.p.fct_ab"],
    },
}
SOURCES = {"raw/a": ["source.p.raw.a"], "raw/b": ["source.p.raw.b"], "raw/c": ["source.p.raw.c"]}


def _inputs(**tables: str) -> BuildInputs:
    return BuildInputs("manifest-1", "warehouse-1", {f"raw/{k}": v for k, v in tables.items()})


def test_descendants_are_the_models_downstream() -> None:
    assert descendants(MANIFEST, ["source.p.raw.b"]) == {
        "model.p.stg_b",
        "model.p.int_ab",
        "model.p.fct_ab",
    }
    assert descendants(MANIFEST, ["source.p.raw.c"]) == {"model.p.stg_c"}


def test_nothing_changed_builds_nothing() -> None:
    plan = plan_build(MANIFEST, SOURCES, _inputs(a="1", b="1", c="1"), _inputs(a="1", b="1", c="1"))
    assert plan.nothing
    assert "no raw table changed" in plan.reason


def test_a_changed_table_rebuilds_its_descendants_only() -> None:
    plan = plan_build(MANIFEST, SOURCES, _inputs(a="1", b="1", c="1"), _inputs(a="1", b="2", c="1"))
    assert plan.models == {"model.p.stg_b", "model.p.int_ab", "model.p.fct_ab"}
    assert plan.excluded == ("stg_a", "stg_c")
    assert plan.reason.startswith("1 raw table(s) changed (raw/b): 3 of 5 model(s)")


def test_everything_is_built_without_a_record_or_after_a_project_or_warehouse_change() -> None:
    current = _inputs(a="1", b="1", c="1")
    assert plan_build(MANIFEST, SOURCES, None, current).models is None
    changed_project = BuildInputs("manifest-0", "warehouse-1", current.tables)
    assert plan_build(MANIFEST, SOURCES, changed_project, current).models is None
    other_warehouse = BuildInputs("manifest-1", "warehouse-0", current.tables)
    assert plan_build(MANIFEST, SOURCES, other_warehouse, current).models is None


def test_a_new_raw_table_counts_as_changed() -> None:
    plan = plan_build(MANIFEST, SOURCES, _inputs(a="1", b="1"), _inputs(a="1", b="1", c="1"))
    assert plan.models == {"model.p.stg_c"}


def test_versions_are_content_hashes_or_materializations() -> None:
    hashed, partitioned, plain, never = (dg.AssetKey(["raw", name]) for name in "abcd")
    with dg.instance_for_test() as instance:
        for _ in range(2):  # fetched twice, the same data: the same version
            instance.report_runless_asset_event(
                dg.AssetMaterialization(hashed, metadata={CONTENT_HASH_METADATA_KEY: "abc"})
            )
        first = table_versions(instance, [hashed, partitioned, plain, never])
        instance.report_runless_asset_event(dg.AssetMaterialization(plain))
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                partitioned, partition="2026-01-05", metadata={CONTENT_HASH_METADATA_KEY: "x"}
            )
        )
        second = table_versions(instance, [hashed, partitioned, plain, never])
        assert first["raw/a"] == second["raw/a"] == "content:abc"
        assert second["raw/b"].startswith("event:")  # a partition: any materialization counts
        assert first["raw/c"] != second["raw/c"]
        assert first["raw/d"] == second["raw/d"] == "never"

        record_inputs(instance, "dev", _inputs(a="1"))
        assert recorded_inputs(instance, "dev") == _inputs(a="1")
        assert recorded_inputs(instance, "ci") is None


def test_the_warehouse_token_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    assert warehouse_token(path) == "absent"
    path.write_bytes(b"")
    assert warehouse_token(path) == warehouse_token(path) != "absent"
    assert warehouse_token(None) == "remote"
    assert BuildInputs.from_json(_inputs(a="1").to_json()) == _inputs(a="1")
    assert BuildInputs.from_json("not json") is None
