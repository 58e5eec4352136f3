"""The residential (legacy LMS database) models over the raw lake the legacy_openedx location
lands (raw_lake/legacy_openedx.py): every deployment's rows, one row per deployment and key
although the LMS ids repeat across deployments, the latest studentmodule version, the forum and
OLX counts, and no personal data in a mart."""

from __future__ import annotations

from types import ModuleType

import duckdb

from ol_sandbox.data import Institution
from ol_sandbox.edxapp import edxapp_tables

RESIDENTIAL_MARTS = {
    "dim_residential__course_run": ("openedx_deployment", "courserun_readable_id"),
    "fct_residential__enrollment": ("openedx_deployment", "enrollment_id"),
    "fct_residential__problem_submission": ("openedx_deployment", "studentmodule_id"),
    "fct_residential__forum_post": ("openedx_deployment", "post_id"),
}


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_one_row_per_deployment_and_key(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    for mart, grain in RESIDENTIAL_MARTS.items():
        rows = _rows(warehouse, f"select {', '.join(grain)} from marts.{mart}")
        assert rows, mart
        keys = [tuple(row[column] for column in grain) for row in rows]
        assert len(keys) == len(set(keys)), mart
        deployments = {row["openedx_deployment"] for row in rows}
        expected = (
            set(raw_fixture.RESIDENTIAL_FORUM_DEPLOYMENTS)
            if mart == "fct_residential__forum_post"
            else set(raw_fixture.RESIDENTIAL_DEPLOYMENTS)
        )
        assert deployments == expected, mart
    # The LMS ids repeat across deployments: the deployment is part of every key.
    enrollments = _rows(warehouse, "select * from marts.fct_residential__enrollment")
    by_id: dict[int, set[str]] = {}
    for row in enrollments:
        by_id.setdefault(row["enrollment_id"], set()).add(row["openedx_deployment"])
    assert by_id[1] == set(raw_fixture.RESIDENTIAL_DEPLOYMENTS)


def test_marts_match_each_deployments_lms_rows(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    institution = Institution.generate(seed=7, courses=2, learners=12, days=7, deployments=())
    runs = _rows(warehouse, "select * from marts.dim_residential__course_run")
    enrollments = _rows(warehouse, "select * from marts.fct_residential__enrollment")
    for deployment in raw_fixture.RESIDENTIAL_DEPLOYMENTS:
        tables = edxapp_tables(institution, deployment)
        mine = [row for row in runs if row["openedx_deployment"] == deployment]
        assert {row["courserun_readable_id"] for row in mine} == {
            row[3] for row in tables.rows["course_overviews_courseoverview"]
        }
        assert sum(row["enrollment_count"] for row in mine) == tables.count(
            "student_courseenrollment"
        )
        assert len([r for r in enrollments if r["openedx_deployment"] == deployment]) == (
            tables.count("student_courseenrollment")
        )
        assert all(
            row["user_hash"] for row in enrollments if row["openedx_deployment"] == deployment
        )
        with_forum = deployment in raw_fixture.RESIDENTIAL_FORUM_DEPLOYMENTS
        for row in mine:
            # OLX counts from the course's export; xpro's are not extracted yet (null, zero).
            assert (row["olx_block_count"] is not None) == with_forum
            if with_forum:
                assert 0 < row["olx_problem_count"] < row["olx_block_count"]
            else:
                assert row["forum_post_count"] == 0
        assert (sum(row["forum_post_count"] for row in mine) > 0) == with_forum


def test_latest_studentmodule_version_per_deployment(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    rows = _rows(
        warehouse,
        "select openedx_deployment, studentmodule_id, problem_grade "
        "from marts.fct_residential__problem_submission",
    )
    changed = raw_fixture.RESIDENTIAL_CHANGED_MODULES
    for row in rows:
        if row["studentmodule_id"] in changed:
            assert row["problem_grade"] == changed[row["studentmodule_id"]], row


def test_forum_posts_nest_and_keep_no_text(warehouse: duckdb.DuckDBPyConnection) -> None:
    posts = _rows(warehouse, "select * from marts.fct_residential__forum_post")
    by_id = {(row["openedx_deployment"], row["post_id"]): row for row in posts}
    threads = [row for row in posts if row["post_type"] == "CommentThread"]
    assert threads
    assert all(row["thread_id"] == row["post_id"] for row in threads)
    comments = [row for row in posts if row["parent_post_id"] is not None]
    assert comments  # nested comments point at the response they answer
    for row in comments:
        parent = by_id[(row["openedx_deployment"], row["parent_post_id"])]
        assert parent["post_type"] == "Comment"
        assert parent["thread_id"] == row["thread_id"]
    assert any(row["post_is_endorsed"] for row in posts)
    assert any(row["thread_type"] == "question" for row in threads)
    assert "post_body" not in posts[0]
    assert "author_username" not in posts[0]


def test_no_personal_data_in_the_residential_marts(warehouse: duckdb.DuckDBPyConnection) -> None:
    institution = Institution.generate(seed=7, courses=2, learners=12, days=7, deployments=())
    personal: set[str] = set()
    for deployment in ("mitx", "mitxonline", "xpro"):
        for row in edxapp_tables(institution, deployment).rows["auth_user"]:
            personal.update(value for value in (row[4], row[7]) if value)  # username, email
    for mart in RESIDENTIAL_MARTS:
        for row in _rows(warehouse, f"select * from marts.{mart}"):
            values = {str(value) for value in row.values() if value is not None}
            assert not values & personal, mart
