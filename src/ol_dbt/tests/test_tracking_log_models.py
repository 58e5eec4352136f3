"""The tracking-log models over the raw lake's normalized partitions: the marts hold the expected
learning activity (Insights rules, Monday weeks, re-delivered lines counted once)."""

from __future__ import annotations

import hashlib
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from .conftest import DuckDbBuild

TRACKING_LOG_MARTS = (
    "fct_openedx__user_activity",
    "fct_openedx__daily_active_learners",
    "fct_openedx__weekly_active_learners",
    "fct_openedx__video_engagement",
    "fct_openedx__problem_attempts",
)


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return connection.execute(sql).fetchall()


def test_tracking_log_models_and_unit_tests_pass(duckdb_build: DuckDbBuild) -> None:
    results = duckdb_build.invocation.run_results["results"]
    ours = [
        r
        for r in results
        if "tracking_log" in r["unique_id"]
        or "_activity" in r["unique_id"]
        or any(m in r["unique_id"] for m in TRACKING_LOG_MARTS)
    ]
    assert ours
    assert not [r["unique_id"] for r in ours if r["status"] not in ("success", "pass")]
    unit_tests = {
        r["unique_id"].split(".")[-1] for r in ours if r["unique_id"].startswith("unit_test.")
    }
    assert "test_fct_openedx__user_activity_follows_the_insights_rules" in unit_tests
    assert "test_fct_openedx__weekly_active_learners_uses_monday_weeks" in unit_tests


def test_staging_reads_every_partition_with_its_day(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = _rows(
        warehouse,
        """
        select openedx_deployment, tracking_log_date, count(*)
        from staging.stg_openedx__tracking_logs
        where openedx_deployment != 'edxorg'  -- edX.org's rows: test_edxorg_models.py
        group by all
        order by all
        """,
    )
    assert rows == [
        ("mitxonline", date(2024, 1, 10), 12),
        ("mitxonline", date(2024, 1, 11), 4),
        ("mitxonline", date(2024, 1, 15), 1),
        ("xpro", date(2024, 1, 12), 2),
    ]
    # the re-delivered line is one event downstream
    [(events,)] = _rows(
        warehouse,
        "select count(*) from intermediate.int_openedx__tracking_log_events "
        "where openedx_deployment != 'edxorg'",
    )
    assert events == 18


def test_user_activity_follows_insights(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    ids = raw_fixture.TRACKING_USER_IDS
    rows = _rows(
        warehouse,
        """
        select openedx_deployment, user_id, activity_date, activity_type, event_count
        from marts.fct_openedx__user_activity
        where openedx_deployment != 'edxorg'
        order by all
        """,
    )
    jan = lambda d: date(2024, 1, d)  # noqa: E731
    expected = [
        ("mitxonline", ids["alice"], jan(10), "ACTIVE", 6),  # play, pause, 3 checks, late seek
        ("mitxonline", ids["alice"], jan(10), "ATTEMPTED_PROBLEM", 2),
        ("mitxonline", ids["alice"], jan(10), "PLAYED_VIDEO", 1),
        ("mitxonline", ids["alice"], jan(15), "ACTIVE", 1),
        ("mitxonline", ids["alice"], jan(15), "PLAYED_VIDEO", 1),
        ("mitxonline", ids["bob_verified"], jan(10), "ACTIVE", 3),  # mobile play, check, post
        ("mitxonline", ids["bob_verified"], jan(10), "ATTEMPTED_PROBLEM", 1),
        ("mitxonline", ids["bob_verified"], jan(10), "PLAYED_VIDEO", 1),
        ("mitxonline", ids["bob_verified"], jan(10), "POSTED_FORUM", 1),
        ("mitxonline", ids["josé_ñúñez"], jan(11), "ACTIVE", 2),
        ("mitxonline", ids["josé_ñúñez"], jan(11), "PLAYED_VIDEO", 1),
        ("xpro", ids["дмитрий"], jan(12), "ACTIVE", 2),
        ("xpro", ids["дмитрий"], jan(12), "ATTEMPTED_PROBLEM", 1),
        ("xpro", ids["дмитрий"], jan(12), "PLAYED_VIDEO", 1),
    ]
    assert rows == sorted(expected)


def test_daily_and_weekly_active_learners(warehouse: duckdb.DuckDBPyConnection) -> None:
    daily = _rows(
        warehouse,
        """
        select activity_date, active_learner_count, video_learner_count, problem_learner_count,
            forum_learner_count, active_event_count
        from marts.fct_openedx__daily_active_learners
        where openedx_deployment = 'mitxonline'
        order by activity_date
        """,
    )
    assert daily == [
        (date(2024, 1, 10), 2, 2, 2, 1, 9),
        (date(2024, 1, 11), 1, 1, 0, 0, 2),
        (date(2024, 1, 15), 1, 1, 0, 0, 1),
    ]
    weekly = _rows(
        warehouse,
        """
        select openedx_deployment, activity_week_start_date, active_learner_count,
            video_learner_count, problem_learner_count, forum_learner_count, active_event_count
        from marts.fct_openedx__weekly_active_learners
        where openedx_deployment != 'edxorg'
        order by all
        """,
    )
    # Monday weeks: Wed 10th .. Thu 11th in the week of Monday 8th; Monday 15th starts the next
    assert weekly == [
        ("mitxonline", date(2024, 1, 8), 3, 3, 2, 1, 11),
        ("mitxonline", date(2024, 1, 15), 1, 1, 0, 0, 1),
        ("xpro", date(2024, 1, 8), 1, 1, 1, 0, 2),
    ]


def test_video_engagement_and_problem_attempts(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    ids = raw_fixture.TRACKING_USER_IDS
    video = {
        row[0]: row[1:]
        for row in _rows(
            warehouse,
            f"""
            select user_id, video_play_count, video_pause_count, video_seek_count,
                video_days_played, video_max_position_seconds, video_is_completed
            from marts.fct_openedx__video_engagement
            where video_block_id = '{raw_fixture.MITX_600_VIDEO}'
            """,
        )
    }
    assert video == {
        ids["alice"]: (2, 1, 1, 2, 95.0, True),  # the re-delivered play counts once
        ids["bob_verified"]: (1, 0, 0, 1, 0.0, False),
        ids["josé_ñúñez"]: (1, 0, 0, 1, 5.0, False),
    }
    problems = _rows(
        warehouse,
        """
        select openedx_deployment, attempt_count, correct_attempt_count, learner_count,
            correct_learner_count, first_attempt_correct_learner_count, average_attempts_per_learner
        from marts.fct_openedx__problem_attempts
        where openedx_deployment != 'edxorg'
        order by all
        """,
    )
    assert problems == [("mitxonline", 3, 2, 2, 2, 1, 1.5), ("xpro", 1, 1, 1, 1, 1, 1.0)]


def test_no_username_or_ip_in_tracking_log_models(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    hashes = {
        h
        for (h,) in _rows(
            warehouse,
            "select distinct user_username_hash from intermediate.int_openedx__tracking_log_events "
            "where openedx_deployment != 'edxorg'",
        )
    }
    assert hashes == {None} | {
        hashlib.sha256((raw_fixture.PII_SALT + name).encode()).hexdigest()
        for name in raw_fixture.TRACKING_USER_IDS
    }
    for mart in TRACKING_LOG_MARTS:
        columns = [
            c
            for (c,) in _rows(
                warehouse,
                "select column_name from information_schema.columns "
                f"where table_schema = 'marts' and table_name = '{mart}'",
            )
        ]
        assert columns, mart
        assert not [c for c in columns if "username" in c or c == "ip" or "_ip" in c], mart
        as_text = " || '|' || ".join(f"coalesce(cast({c} as varchar), '')" for c in columns)
        values = [v for (v,) in _rows(warehouse, f"select {as_text} from marts.{mart}")]
        for secret in (*raw_fixture.USERNAMES, *raw_fixture.TRACKING_IPS):
            assert not [v for v in values if secret in v], (mart, secret)


def test_tracking_log_models_compile_for_trino(trino_compile) -> None:  # type: ignore[no-untyped-def]
    import sqlglot

    assert trino_compile.returncode == 0, trino_compile.output[-6000:]
    compiled = {
        node["name"]: node["compiled_code"]
        for node in trino_compile.manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    names = {
        "stg_openedx__tracking_logs",
        "int_openedx__tracking_log_events",
        "int_openedx__video_activity",
        "int_openedx__problem_activity",
        "int_openedx__navigation_activity",
        "int_openedx__enrollment_activity",
        *TRACKING_LOG_MARTS,
    }
    assert names <= set(compiled)
    for name in names:
        assert [s for s in sqlglot.parse(compiled[name], read="trino") if s is not None], name
    staging = compiled["stg_openedx__tracking_logs"]
    for deployment in ("mitxonline", "xpro"):
        assert f'"ol_data_lake"."ol_warehouse_raw__openedx"."{deployment}_tracking_logs"' in staging
    assert "at time zone 'UTC'" in staging
    assert "to_hex(sha256(to_utf8(" in staging
    assert (
        "json_extract_scalar(event_payload, '$.currentTime')"
        in compiled["int_openedx__video_activity"]
    )
    assert "date_trunc('week'" in compiled["fct_openedx__weekly_active_learners"]
