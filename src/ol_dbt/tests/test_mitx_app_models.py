"""The MITx Online and xPro models over the application tables the sandbox's Airbyte lands
(raw_lake/mitx_apps.py): one record per id although two generations of a table are present,
emails normalized before hashing, and marts that add up to the apps' own rows."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING

import duckdb
import pytest

from ol_sandbox.airbyte import app_tables
from ol_sandbox.data import Institution

if TYPE_CHECKING:
    from .conftest import DuckDbBuild

APPS = ("mitxonline", "xpro")


def _institution() -> Institution:
    return Institution.generate(seed=7, courses=2, learners=12, days=7, deployments=())


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


@pytest.mark.parametrize("app", APPS)
def test_staging_keeps_one_record_per_id(
    warehouse: duckdb.DuckDBPyConnection,
    duckdb_build: DuckDbBuild,
    raw_fixture: ModuleType,
    app: str,
) -> None:
    # the users table holds two generations in the lake (raw_lake/mitx_apps.py)
    folder = duckdb_build.lake_root / "raw" / "ol_warehouse_raw_data"
    files = f"{folder}/raw__{app}__app__postgres__users_user/*.parquet"
    with duckdb.connect() as connection:
        records, generations = connection.execute(
            f"select count(*), count(distinct _airbyte_generation_id) from read_parquet('{files}')"
        ).fetchone()  # type: ignore[misc]
    assert generations == 2
    users = _rows(warehouse, f"select * from staging.stg_{app}__users")
    assert records == 2 * len(users) == 2 * raw_fixture.mitx_app_count(app, "users_user")
    assert len({u["user_id"] for u in users}) == len(users)


@pytest.mark.parametrize("app", APPS)
def test_emails_are_normalized_then_hashed(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType, app: str
) -> None:
    tables = app_tables(_institution(), app)
    expected = {
        user["id"]: hashlib.sha256(
            (raw_fixture.PII_SALT + user["email"].strip().lower()).encode()
        ).hexdigest()
        for user in tables.rows["users_user"]
    }
    assert any(u["email"] != u["email"].strip().lower() for u in tables.rows["users_user"])
    hashes = {
        r["user_id"]: r["user_email_hash"]
        for r in _rows(warehouse, f"select * from staging.stg_{app}__users")
    }
    assert hashes == expected
    # ... so the app's ` Ana@Example.COM ` has the hash of the LMS's `ana@example.com`
    lms = {
        r["user_username_hash"]: r["user_email_hash"]
        for r in _rows(
            warehouse,
            f"select * from staging.stg_residential__users where openedx_deployment = '{app}'",
        )
    }
    same = 0
    for user in tables.rows["users_user"]:
        username_hash = hashlib.sha256((raw_fixture.PII_SALT + user["username"]).encode())
        lms_email = lms.get(username_hash.hexdigest())
        if lms_email and user["email"].strip().lower() == f"{user['username']}@example.com":
            assert hashes[user["id"]] == lms_email
            same += 1
    assert same


@pytest.mark.parametrize("app", APPS)
def test_marts_hold_the_apps_rows(warehouse: duckdb.DuckDBPyConnection, app: str) -> None:
    tables = app_tables(_institution(), app)
    enrollments = _rows(warehouse, f"select * from marts.fct_{app}__course_enrollment")
    assert len(enrollments) == tables.count("courses_courserunenrollment")
    grades = {(g["user_id"], g["course_run_id"]): g for g in tables.rows["courses_courserungrade"]}
    valid = {
        (c["user_id"], c["course_run_id"])
        for c in tables.rows["courses_courseruncertificate"]
        if not c["is_revoked"]
    }
    for row in enrollments:
        grade = grades.get((row["user_id"], row["courserun_id"]))
        assert row["final_grade"] == (grade["grade"] if grade else None)
        assert row["grade_is_passing"] == (grade["passed"] if grade else None)
        assert row["has_certificate"] == ((row["user_id"], row["courserun_id"]) in valid)
        assert row["courserun_readable_id"].startswith("course-v1:")

    progress = _rows(warehouse, f"select * from marts.fct_{app}__program_progress")
    assert len(progress) == tables.count("courses_programenrollment")
    for row in progress:
        assert row["certified_course_count"] <= row["enrolled_course_count"]
        assert row["program_course_count"] >= 1

    lines = _rows(warehouse, f"select * from marts.fct_{app}__order_line")
    assert len(lines) == tables.count("ecommerce_line")
    orders = {o["id"]: o for o in tables.rows["ecommerce_order"]}
    revenue = sum(
        (Decimal(str(o["total_price_paid"])) for o in orders.values() if o["state"] == "fulfilled"),
        Decimal(0),
    )
    assert sum((r["revenue_amount"] for r in lines), Decimal(0)) == revenue
    assert all(r["product_type"] == "courses.courserun" for r in lines)
    assert all(r["courserun_readable_id"] for r in lines)
    discounted = [r for r in lines if r["discount_code"]]
    assert all(r["discount_amount"] > 0 for r in discounted if r["discount_code"] != "")
