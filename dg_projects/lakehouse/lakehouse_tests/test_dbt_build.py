"""End to end: the dbt assets run `dbt build` on DuckDB over a small raw lake in tmp_path.

Proves the run-time wiring the load-time tests cannot: the lake root and warehouse path reach
dbt from the settings at run time (not from the process environment at import), events stream
back as materializations (with their column schemas when the run asks for them), and dbt's data
tests come back as asset check results.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs.dbt import DbtBuildConfig, build_dbt_assets
from ol_orchestrate.io_managers import CONTENT_HASH_METADATA_KEY

RETRIEVED_AT = "2025-03-01T06:00:00Z"
COURSES = {
    "mitxonline": ["course-v1:MITx+6.00.1x+1T2025", "course-v1:MITx+18.01x+1T2025"],
    "xpro": ["course-v1:xPRO+DS101+R1"],
}


def write_table(lake: Path, deployment: str, table: str, rows: list[dict[str, Any]]) -> None:
    folder = lake / "raw" / "openedx" / f"{deployment}_{table}"
    folder.mkdir(parents=True)
    base = {"deployment": deployment, "retrieved_at": RETRIEVED_AT}
    pq.write_table(pa.Table.from_pylist([{**base, **row} for row in rows]), folder / "data.parquet")


def usage_key(course_key: str, block_type: str, name: str) -> str:
    return f"block-v1:{course_key}+type@{block_type}+block@{name}"


def write_raw_lake(lake: Path) -> None:
    """A few rows per raw table, shaped as docs/contracts.md describes them."""
    for deployment, courses in COURSES.items():
        write_table(
            lake,
            deployment,
            "course_runs",
            [
                {
                    "course_id": course_id,
                    "course_name": f"Course {index}",
                    "org": course_id.split(":")[1].split("+")[0],
                    "number": course_id.split("+")[1],
                    "run": course_id.split("+")[2],
                    "start": "2025-01-15T00:00:00Z",
                    "end": None,
                    "enrollment_start": "2024-12-01T00:00:00+00:00",
                    "enrollment_end": None,
                    "pacing": "self",
                    "short_description": "A course.",
                    "hidden": False,
                    "invitation_only": False,
                    "mobile_available": True,
                    "blocks_url": f"https://example.org/api/courses/v2/blocks/?course_id={course_id}",
                }
                for index, course_id in enumerate(courses)
            ],
        )
        # (type, name, parent name, graded), depth first
        tree = [
            ("course", "course", None, False),
            ("chapter", "ch1", "course", False),
            ("sequential", "seq1", "ch1", True),
            ("vertical", "v1", "seq1", False),
            ("problem", "p1", "v1", False),
            ("video", "vid1", "v1", False),
        ]
        type_of = {name: block_type for block_type, name, _, _ in tree}
        blocks: list[dict[str, Any]] = []
        for course_id in courses:
            key = course_id.removeprefix("course-v1:")

            blocks.extend(
                {
                    "course_id": course_id,
                    "block_id": usage_key(key, type_of[name], name),
                    "block_type": block_type,
                    "block_title": name,
                    "parent_block_id": usage_key(key, type_of[parent], parent) if parent else None,
                    "block_index": index,
                    "graded": graded,
                    "block_format": "Homework" if graded else None,
                    "due": None,
                    "lms_web_url": f"https://example.org/courses/{course_id}/jump_to/{name}",
                }
                for index, (block_type, name, parent, graded) in enumerate(tree)
            )
        write_table(lake, deployment, "course_blocks", blocks)
        enrollments = [
            {
                "course_id": course_id,
                "username": f"learner{learner}",
                "mode": "verified" if learner == 0 else "audit",
                "is_active": learner != 2,
                "created": f"2025-02-0{learner + 1}T12:00:00.123456Z",
            }
            for course_id in courses
            for learner in range(3)
        ]
        write_table(lake, deployment, "enrollments", enrollments)


@pytest.fixture
def clean_dbt_target(dev_project: LakehouseDbtProject) -> Iterator[None]:
    """dagster-dbt gives each invocation its own folder under target/; drop the ones made here."""
    target = dev_project.project_dir / "target"
    before = set(target.iterdir())
    yield
    for path in set(target.iterdir()) - before:
        if path.is_dir() and path.name.startswith("ol_dbt-"):
            shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.usefixtures("clean_dbt_target")
def test_dbt_build_materializes_models_and_runs_tests(
    tmp_path: Path, dev_project: LakehouseDbtProject, prepared_manifest: dict[str, Any]
) -> None:
    lake, warehouse = tmp_path / "lake", tmp_path / "db" / "warehouse.duckdb"
    write_raw_lake(lake)
    project = dataclasses.replace(
        dev_project,
        warehouse_path=warehouse,
        env={
            **dev_project.env,
            "OL_LAKE_ROOT": str(lake),
            "OL_WAREHOUSE_PATH": str(warehouse),
        },
    )
    before = {name: os.environ.get(name) for name in ("OL_LAKE_ROOT", "OL_WAREHOUSE_PATH")}
    assets_def = build_dbt_assets(project, prepared_manifest)

    # With the opt-in column metadata: dagster-dbt reads each model's columns from DuckDB in
    # this process after dbt exits (and the warehouse is released again, below).
    result = dg.materialize(
        [assets_def],
        resources={"dbt": project.cli_resource()},
        run_config=dg.RunConfig(ops={"ol_dbt": DbtBuildConfig(column_metadata=True)}),
        raise_on_error=False,
    )

    assert result.success
    events = result.get_asset_materialization_events()
    materialized = {
        event.asset_key.to_user_string() for event in events if event.asset_key is not None
    }
    assert materialized == {key.to_user_string() for key in assets_def.keys}
    schemas = {
        event.asset_key.to_user_string(): event.materialization.metadata.get(
            "dagster/column_schema"
        )
        for event in events
        if event.asset_key is not None
    }
    assert all(schemas.values()), [key for key, schema in schemas.items() if not schema]
    course_runs = schemas["openedx/marts/dim_openedx__course_run"]
    assert isinstance(course_runs, dg.TableSchemaMetadataValue)
    assert "openedx_deployment" in {column.name for column in course_runs.schema.columns}
    checks = result.get_asset_check_evaluations()
    assert len(checks) == len(list(assets_def.check_keys))
    assert all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]
    # The variables were set for dbt only, the warehouse landed where the settings said, and
    # this process no longer holds it open.
    assert {name: os.environ.get(name) for name in before} == before
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        runs = connection.sql(
            "select openedx_deployment, count(*) from marts.dim_openedx__course_run group by 1"
        ).fetchall()
    assert dict(runs) == {name: len(courses) for name, courses in COURSES.items()}


@pytest.mark.slow
@pytest.mark.usefixtures("clean_dbt_target")
def test_a_whole_build_rebuilds_only_what_a_changed_raw_table_feeds(
    tmp_path: Path, dev_project: LakehouseDbtProject, prepared_manifest: dict[str, Any]
) -> None:
    """lakehouse.dbt_inputs: nothing changed, no dbt; one raw table changed, its models only."""
    lake, warehouse = tmp_path / "lake", tmp_path / "db" / "warehouse.duckdb"
    write_raw_lake(lake)
    project = dataclasses.replace(
        dev_project,
        warehouse_path=warehouse,
        env={**dev_project.env, "OL_LAKE_ROOT": str(lake), "OL_WAREHOUSE_PATH": str(warehouse)},
    )
    assets_def = build_dbt_assets(project, prepared_manifest)
    every_model = {key.to_user_string() for key in assets_def.keys}

    def build(instance: dg.DagsterInstance) -> set[str]:
        result = dg.materialize(
            [assets_def], resources={"dbt": project.cli_resource()}, instance=instance
        )
        assert result.success
        return {
            event.asset_key.to_user_string()
            for event in result.get_asset_materialization_events()
            if event.asset_key is not None
        }

    with dg.instance_for_test() as instance:
        assert build(instance) == every_model
        assert build(instance) == set()  # nothing changed: no dbt at all
        # xPro's enrollments fetched again with other data
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                dg.AssetKey(["openedx", "raw", "xpro_enrollments"]),
                metadata={CONTENT_HASH_METADATA_KEY: "other data"},
            )
        )
        rebuilt = build(instance)
        assert "openedx/staging/stg_openedx__enrollments" in rebuilt
        assert "openedx/marts/fct_openedx__daily_enrollments" in rebuilt
        assert "openedx/staging/stg_openedx__course_blocks" not in rebuilt
        assert rebuilt < every_model
        assert build(instance) == set()
