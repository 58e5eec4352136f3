"""The edX.org models over the raw lake the edxorg location lands (raw_lake/edxorg.py: the
sandbox's archives exploded by the location's own code): the marts have rows, course ids are
kept as edX writes them, the latest archive of each course wins, and no personal data leaks."""

from __future__ import annotations

from types import ModuleType

import duckdb

EDXORG_MARTS = (
    "dim_edxorg__course_run",
    "fct_edxorg__enrollment",
    "fct_edxorg__problem_submission",
    "fct_edxorg__forum_post",
)


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_every_edxorg_mart_has_rows(warehouse: duckdb.DuckDBPyConnection) -> None:
    for mart in EDXORG_MARTS:
        count = warehouse.execute(f"select count(*) from marts.{mart}").fetchone()
        assert count is not None, mart
        assert count[0] > 0, mart


def test_course_runs_keep_legacy_ids_and_join_catalog_and_structure(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    runs = {
        r["courserun_readable_id"]: r
        for r in _rows(warehouse, "select * from marts.dim_edxorg__course_run")
    }
    legacy = runs[raw_fixture.EDXORG_LEGACY_COURSE]
    assert legacy["courserun_has_legacy_id"] is True
    assert legacy["courserun_is_in_catalog"] is True
    assert legacy["problem_count"] > 0
    assert legacy["block_count"] >= legacy["problem_count"]
    assert not any(key.startswith("course-v1:MITx+6.002x+2012") for key in runs)  # never rewritten
    ccx = next(r for key, r in runs.items() if key.startswith("ccx-v1:"))
    assert (ccx["courserun_is_ccx"], ccx["courserun_is_in_catalog"], ccx["block_count"]) == (
        True,
        False,
        0,
    )
    assert {r["courserun_source_system"] for r in runs.values()} == {"prod", "edge"}
    assert {r["latest_archive_date"].isoformat() for r in runs.values()} == {"2026-01-19"}


def test_problem_submissions_read_state_json_encoded_once_or_twice(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    rows = _rows(warehouse, "select * from marts.fct_edxorg__problem_submission")
    graded = [r for r in rows if r["problem_grade"] is not None]
    assert graded
    assert all(r["problem_attempts"] > 0 for r in graded)
    assert all(r["problem_title"] for r in rows)  # joined to the OLX blocks
    legacy = [r for r in rows if r["problem_block_id"].startswith("i4x://")]
    assert legacy  # legacy courses' usage keys


def test_tracking_log_marts_hold_edxorg_as_one_more_deployment(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    rows = _rows(
        warehouse,
        "select distinct courserun_readable_id from marts.fct_openedx__user_activity "
        "where openedx_deployment = 'edxorg'",
    )
    keys = {r["courserun_readable_id"] for r in rows}
    assert raw_fixture.EDXORG_LEGACY_COURSE in keys  # legacy stays legacy in the tracking logs


def test_no_edxorg_username_reaches_a_mart(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    for mart in EDXORG_MARTS:
        text = str(warehouse.execute(f"select * from marts.{mart}").fetchall())
        for username in raw_fixture.EDXORG_USERNAMES:
            assert f"'{username}'" not in text, (mart, username)
