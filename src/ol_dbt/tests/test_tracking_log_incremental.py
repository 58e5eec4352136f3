"""The tracking-log models built incrementally, day by day, give exactly the marts (and the
intermediate tables) a full refresh gives over the same lake: with days landing in order, a late
day landing after later ones, a line re-delivered in another day (in both directions), a day
re-normalized with lines gone, and a day whose files disappeared. And an incremental build reads
only the days that changed.

The lake is the sandbox's synthetic tracking logs through the platform's normalizer (one
`dt=` partition per deployment and day), edited between builds with pyarrow as a re-delivery or a
re-normalization would change it.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ol_orchestrate.lib.tracking_logs import normalize_files
from ol_sandbox.data import Institution
from ol_sandbox.tracking_logs import tracking_log_days

from .conftest import DbtInvocation, dbt_env, run_dbt

DEPLOYMENTS = ("mitxonline", "xpro")
INSTITUTION = Institution.generate(seed=11, courses=2, learners=25, days=6, deployments=DEPLOYMENTS)
DAYS = [INSTITUTION.anchor + timedelta(days=n) for n in range(6)]
# The tracking-log models and the tests that read only them.
SELECTION = [
    "--indirect-selection",
    "cautious",
    "--select",
    "stg_openedx__tracking_logs",
    "int_openedx__tracking_log_events",
    "int_openedx__video_activity",
    "int_openedx__problem_activity",
    "int_openedx__navigation_activity",
    "int_openedx__enrollment_activity",
    "fct_openedx__user_activity",
    "fct_openedx__daily_active_learners",
    "fct_openedx__weekly_active_learners",
    "fct_openedx__video_engagement",
    "fct_openedx__problem_attempts",
]
COMPARED = {
    "staging": ["stg_openedx__tracking_logs"],
    "intermediate": [
        "int_openedx__tracking_log_events",
        "int_openedx__video_activity",
        "int_openedx__problem_activity",
        "int_openedx__navigation_activity",
        "int_openedx__enrollment_activity",
    ],
    "marts": [
        "fct_openedx__user_activity",
        "fct_openedx__daily_active_learners",
        "fct_openedx__weekly_active_learners",
        "fct_openedx__video_engagement",
        "fct_openedx__problem_attempts",
    ],
}
# When each table's rows were loaded: the only column the two paths may differ in.
LOAD_STAMP = "tracking_log_loaded_at"


def _partition(lake: Path, deployment: str, day: date) -> Path:
    return lake / "raw" / "openedx" / f"{deployment}_tracking_logs" / f"dt={day}" / "data.parquet"


@pytest.fixture(scope="module")
def normalized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every day of every deployment, normalized once: the partitions the steps copy in."""
    root = tmp_path_factory.mktemp("normalized")
    for deployment in DEPLOYMENTS:
        for day in tracking_log_days(INSTITUTION, deployment):
            raw = root / "landing" / deployment / str(day.day)
            raw.mkdir(parents=True)
            paths = []
            for name in day.files:
                (raw / name).write_bytes(day.file_bytes(name))
                paths.append(raw / name)
            normalize_files(
                paths,
                _partition(root, deployment, day.day),
                root / "quarantine" / f"{deployment}-{day.day}.parquet",
                source_name=deployment,
            )
    return root


def _land(normalized: Path, lake: Path, deployment: str, day: date) -> Path:
    target = _partition(lake, deployment, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_partition(normalized, deployment, day), target)
    return target


def _rewrite(path: Path, table: pa.Table) -> None:
    """Replace a partition as the normalizer does (a new file, renamed into place)."""
    temporary = path.with_name(".data.parquet.tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)


def _first_rows(path: Path, count: int) -> pa.Table:
    return pq.read_table(path).slice(0, count)


def _build(work: Path, lake: Path, *extra: str) -> DbtInvocation:
    env = dbt_env(OL_LAKE_ROOT=str(lake), OL_WAREHOUSE_PATH=str(work / "warehouse.duckdb"))
    invocation = run_dbt(["build", "--target", "ci", *extra, *SELECTION], work_dir=work, env=env)
    assert invocation.returncode == 0, invocation.output[-6000:]
    return invocation


def _loaded(invocation: DbtInvocation, model: str) -> str:
    """What the model's incremental run said it loaded (its log line), or '' for a full build."""
    match = re.search(rf"{model}: (\d+ day\(s\) to [a-z]+[^\n]*|no day to load)", invocation.output)
    return match.group(1) if match else ""


def _differences(incremental: Path, full: Path) -> dict[str, tuple[int, int, int]]:
    """table -> (rows, rows only in the incremental build, rows only in the full build)."""
    connection = duckdb.connect()
    connection.execute(f"attach '{incremental}' as incremental (read_only)")
    connection.execute(f"attach '{full}' as full_refresh (read_only)")
    found = {}
    for schema, tables in COMPARED.items():
        for table in tables:
            columns = [
                row[0]
                for row in connection.execute(
                    "select column_name from information_schema.columns where table_catalog = "
                    "'incremental' and table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if row[0] != LOAD_STAMP
            ]
            assert columns, f"{schema}.{table}"
            listed = ", ".join(f'"{column}"' for column in columns)
            a = f"select {listed} from incremental.{schema}.{table}"
            b = f"select {listed} from full_refresh.{schema}.{table}"
            (rows,) = connection.execute(f"select count(*) from ({a})").fetchone() or (0,)
            (only_a,) = connection.execute(f"select count(*) from ({a} except all {b})").fetchone()
            (only_b,) = connection.execute(f"select count(*) from ({b} except all {a})").fetchone()
            found[f"{schema}.{table}"] = (rows, only_a, only_b)
    connection.close()
    return found


def test_day_by_day_builds_equal_a_full_refresh(
    normalized: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("incremental")
    lake = work / "lake"
    d0, d1, d2, d3, d4, d5 = DAYS

    # 1. two days: the first build creates the tables
    for deployment in DEPLOYMENTS:
        for day in (d1, d2):
            _land(normalized, lake, deployment, day)
    first = _build(work, lake)
    assert _loaded(first, "stg_openedx__tracking_logs") == ""  # a full build

    # 2. two more days; d4 carries a line of d2 again (a re-delivery: d2's copy is kept)
    redelivered = _first_rows(_partition(lake, "mitxonline", d2), 1)
    _land(normalized, lake, "xpro", d3)
    _land(normalized, lake, "xpro", d4)
    _land(normalized, lake, "mitxonline", d3)
    d4_path = _land(normalized, lake, "mitxonline", d4)
    _rewrite(d4_path, pa.concat_tables([pq.read_table(d4_path), redelivered]))
    second = _build(work, lake)
    assert _loaded(second, "stg_openedx__tracking_logs").startswith("4 day(s) to stage")
    # d2 is decided again with d4 (it holds the other copy of the re-delivered line)
    assert _loaded(second, "int_openedx__tracking_log_events").startswith(
        "5 day(s) to load (4 changed, 1 sharing events)"
    )

    # 3. a late day, earlier than every other, holding the first copy of a line of d3
    late_copy = _first_rows(_partition(lake, "mitxonline", d3), 2)
    d0_path = _land(normalized, lake, "mitxonline", d0)
    _rewrite(d0_path, pa.concat_tables([pq.read_table(d0_path), late_copy]))
    third = _build(work, lake)
    assert _loaded(third, "stg_openedx__tracking_logs").startswith("1 day(s) to stage")
    # d3 is decided again with d0: its copies of those lines are no longer the first ones
    assert _loaded(third, "int_openedx__tracking_log_events").startswith(
        "2 day(s) to load (1 changed, 1 sharing events)"
    )

    # 4. d2 re-normalized: the line d4 also carries is gone (d4's copy is now the first), and
    #    one more line with it
    d2_path = _partition(lake, "mitxonline", d2)
    d2_table = pq.read_table(d2_path)
    gone = pa.concat_arrays(
        [
            redelivered["event_id"].combine_chunks(),
            d2_table["event_id"].slice(5, 1).combine_chunks(),
        ]
    )
    _rewrite(d2_path, d2_table.filter(pc.invert(pc.is_in(d2_table["event_id"], gone))))
    fourth = _build(work, lake)
    assert _loaded(fourth, "stg_openedx__tracking_logs").startswith("1 day(s) to stage")
    assert _loaded(fourth, "int_openedx__tracking_log_events").startswith(
        "2 day(s) to load (1 changed, 1 sharing events)"
    )

    # 5. a day's files disappear (its rows go), and 6. a new day lands
    shutil.rmtree(_partition(lake, "xpro", d1).parent)
    fifth = _build(work, lake)
    assert _loaded(fifth, "stg_openedx__tracking_logs").startswith("1 day(s) to stage")
    for deployment in DEPLOYMENTS:
        _land(normalized, lake, deployment, d5)
    sixth = _build(work, lake)
    assert _loaded(sixth, "stg_openedx__tracking_logs").startswith("2 day(s) to stage")
    # nothing new: nothing is read again
    idle = _build(work, lake)
    assert _loaded(idle, "stg_openedx__tracking_logs").startswith("0 day(s) to stage")
    assert _loaded(idle, "int_openedx__tracking_log_events") == "no day to load"

    # the same lake, built from scratch
    full = tmp_path_factory.mktemp("full_refresh")
    _build(full, lake, "--full-refresh")
    differences = _differences(work / "warehouse.duckdb", full / "warehouse.duckdb")
    mismatches = {table: (a, b) for table, (_, a, b) in differences.items() if a or b}
    assert not mismatches, differences
    assert all(rows for rows, _, _ in differences.values()), differences
