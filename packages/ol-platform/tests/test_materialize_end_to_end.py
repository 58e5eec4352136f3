"""`ol-platform materialize` end to end on the small sandbox: marts populated, reruns identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ol_orchestrate.lib.environment import find_repo_root
from ol_sandbox.data import SIZES, Institution

ROOT = find_repo_root()
MARTS = (
    "dim_openedx__course_run",
    "fct_openedx__daily_enrollments",
    "fct_openedx__user_activity",
    "fct_openedx__daily_active_learners",
    "fct_openedx__weekly_active_learners",
    "fct_openedx__video_engagement",
    "fct_openedx__problem_attempts",
    "dim_canvas__course",
    "fct_canvas__enrollment",
    "fct_canvas__assignment_submission",
    "dim_edxorg__course_run",
    "fct_edxorg__enrollment",
    "fct_edxorg__problem_submission",
    "fct_edxorg__forum_post",
)
INSTITUTION = Institution.generate(seed=42, **SIZES["small"])


def _run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGSTER_ENV": "dev", "OL_DATA_DIR": str(data_dir)}
    for name in (
        "OL_LAKE_ROOT",
        "OL_WAREHOUSE_PATH",
        "DAGSTER_HOME",
        "OL_SANDBOX_URL",
        "OL_SANDBOX_S3_URL",
    ):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "ol_platform.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _mart_contents(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        contents = {}
        for mart in MARTS:
            schema = connection.execute(
                "select table_schema from information_schema.tables where table_name = ?", [mart]
            ).fetchone()
            assert schema is not None, f"mart {mart} was not built"
            # Everything but the extraction time, which is when the run happened.
            contents[mart] = connection.execute(
                "select columns(lambda c: c not like '%retrieved_at') "
                f'from "{schema[0]}"."{mart}" order by all'
            ).fetchall()
        return contents


@pytest.fixture(scope="module")
def twice_materialized(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data_dir = tmp_path_factory.mktemp("platform-data")
    first = _run_cli(data_dir, "materialize", "--size", "small")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    first_marts = _mart_contents(data_dir / "warehouse.duckdb")
    second = _run_cli(data_dir, "materialize", "--size", "small")
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    return {
        "data_dir": data_dir,
        "first": first,
        "second": second,
        "first_marts": first_marts,
        "second_marts": _mart_contents(data_dir / "warehouse.duckdb"),
    }


@pytest.mark.slow
def test_marts_hold_every_course_run_of_the_sandbox(twice_materialized: dict) -> None:
    institution = INSTITUTION
    expected_runs = sum(len(d.course_runs) for d in institution.deployments.values())
    assert len(twice_materialized["first_marts"]["dim_openedx__course_run"]) == expected_runs
    assert twice_materialized["first_marts"]["fct_openedx__daily_enrollments"]


@pytest.mark.slow
def test_daily_enrollments_count_every_sandbox_enrollment_once(twice_materialized: dict) -> None:
    institution = INSTITUTION
    expected = {
        name: len({(e.course_id, e.username) for e in data.all_enrollments()})
        for name, data in institution.deployments.items()
    }
    warehouse = twice_materialized["data_dir"] / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select openedx_deployment, sum(new_enrollment_count)::bigint "
            "from marts.fct_openedx__daily_enrollments group by all"
        ).fetchall()
        enrollments_in_dim = connection.execute(
            "select sum(enrollment_count)::bigint from marts.dim_openedx__course_run"
        ).fetchone()
    assert dict(rows) == expected
    assert enrollments_in_dim == (sum(expected.values()),)


@pytest.mark.slow
def test_no_username_reaches_the_marts(twice_materialized: dict) -> None:
    institution = INSTITUTION
    usernames = {u for data in institution.deployments.values() for u in data.usernames}
    for rows in twice_materialized["first_marts"].values():
        values = {str(value) for row in rows for value in row}
        assert not values & usernames


@pytest.mark.slow
def test_rerun_gives_the_same_data(twice_materialized: dict) -> None:
    assert twice_materialized["second_marts"] == twice_materialized["first_marts"]


@pytest.mark.slow
def test_summary_names_marts_lake_warehouse_and_ui(twice_materialized: dict) -> None:
    output = twice_materialized["first"].stdout
    data_dir = twice_materialized["data_dir"]
    for mart in MARTS:
        assert mart in output
    assert str(data_dir / "lake") in output
    assert str(data_dir / "warehouse.duckdb") in output
    assert "ol-platform ui" in output


@pytest.mark.slow
def test_every_mart_is_populated(twice_materialized: dict) -> None:
    for mart in MARTS:
        assert twice_materialized["first_marts"][mart], f"{mart} is empty"


@pytest.mark.slow
def test_lake_holds_each_raw_table_once(twice_materialized: dict) -> None:
    raw = twice_materialized["data_dir"] / "lake" / "raw" / "openedx"
    snapshots = sorted(p.relative_to(raw).as_posix() for p in raw.glob("*/data.parquet"))
    assert snapshots == sorted(
        f"{d}_{t}/data.parquet"
        for d in ("mitxonline", "xpro")
        for t in ("course_runs", "course_blocks", "enrollments")
    )
    for deployment in ("mitxonline", "xpro"):
        days = sorted(p.parent.name for p in raw.glob(f"{deployment}_tracking_logs/*/*.parquet"))
        assert days == [f"dt={day}" for day in _sandbox_days()]


def _sandbox_days() -> list[str]:
    start = INSTITUTION.start.date()
    return [(start + timedelta(days=offset)).isoformat() for offset in range(INSTITUTION.days)]


@pytest.mark.slow
def test_runs_are_recorded_and_partitions_run_once(twice_materialized: dict) -> None:
    home = twice_materialized["data_dir"] / "dagster_home"
    assert (home / "dagster.yaml").exists()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    code = (
        "import json, dagster as dg; i = dg.DagsterInstance.get(); "
        "print(json.dumps([[r.status.value, r.tags.get('ol-platform/location'), "
        "r.tags.get('dagster/partition') or (r.tags.get('dagster/asset_partition_range_start') "
        "and r.tags['dagster/asset_partition_range_start'] + '..' "
        "+ r.tags['dagster/asset_partition_range_end']), "
        "sorted(k.to_user_string() for k in r.asset_selection or []), r.job_name] "
        "for r in i.get_runs()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    runs = json.loads(out.stdout)
    assert {status for status, *_ in runs} == {"SUCCESS"}
    # The warehouse is rebuilt on each pass; a partition (day, course) of an asset runs only once.
    assert sum(1 for _, location, *_ in runs if location == "lakehouse") == 2
    # (job, partition, assets): the IRx bundle jobs of three deployments share a day.
    partitions = [(job, p, tuple(assets)) for _, _, p, assets, job in runs if p is not None]
    assert len(partitions) == len(set(partitions))
    canvas_courses = {p for _, location, p, *_ in runs if location == "canvas"}
    assert len(canvas_courses) == INSTITUTION.courses
    # the tracking-log days of a deployment run as one range (openedx's two, edX.org's one)
    days = _sandbox_days()
    tracking = [p for _, p, assets in partitions if any("tracking_logs" in a for a in assets)]
    assert sorted(tracking) == [f"{days[0]}..{days[-1]}"] * 3


@pytest.mark.slow
def test_the_platform_health_marts_have_rows(twice_materialized: dict) -> None:
    """data_platform snapshots the instance materialize writes to, before the lakehouse builds:
    the second pass sees every location's runs of the first."""
    warehouse = twice_materialized["data_dir"] / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        locations = {
            row[0]
            for row in connection.execute(
                "select distinct code_location from marts.fct_platform__run_outcome "
                "where run_outcome = 'succeeded'"
            ).fetchall()
        }
        assets = connection.execute(
            "select count(*) from marts.fct_platform__asset_freshness "
            "where last_materialized_at is not null"
        ).fetchone()
    assert {"canvas", "openedx", "lakehouse", "data_platform"} <= locations
    assert assets is not None
    assert assets[0] > 0
