"""The sandbox's LMS database (one DDL for MariaDB and SQLite, awkward values, an idempotent
landing file) and its healthchecks.io receiver."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from ol_sandbox.data import SIZES, Institution
from ol_sandbox.edxapp import (
    LEGACY_DEPLOYMENTS,
    TABLES,
    ZERO_DATE,
    edxapp_tables,
    mysql_ddl,
    sqlite_ddl,
    sqlite_path,
    write_edxapp_sqlite,
)
from ol_sandbox.server import SandboxServer


def test_one_ddl_for_both_engines() -> None:
    connection = sqlite3.connect(":memory:")
    for table in TABLES:
        assert mysql_ddl(table).startswith(f"CREATE TABLE `{table}`")
        for statement in sqlite_ddl(table):
            connection.execute(statement)
    indexes = {row[1] for row in connection.execute("PRAGMA index_list(courseware_studentmodule)")}
    assert "courseware_studentmodule_modified_f6a0b0cc" in indexes


def test_rows_are_deterministic_and_awkward() -> None:
    institution = Institution.generate(seed=42, **SIZES["small"])
    tables = edxapp_tables(institution, "mitx")
    assert (
        tables.rows == edxapp_tables(Institution.generate(seed=42, **SIZES["small"]), "mitx").rows
    )
    users = tables.rows["auth_user"]
    assert any(not row[4].isascii() for row in users)
    assert any(row[2] == ZERO_DATE for row in users)
    assert len(tables.rows["auth_userprofile"]) < len(users)
    assert any(row[4] and '\\"' in row[4] for row in tables.rows["courseware_studentmodule"])


def test_the_landing_files_are_written_once(tmp_path: Path) -> None:
    institution = Institution.generate(seed=42, **SIZES["small"])
    assert LEGACY_DEPLOYMENTS == ("mitx", "mitxonline", "xpro")
    assert write_edxapp_sqlite(institution, str(tmp_path)) == [
        str(sqlite_path(str(tmp_path), deployment)) for deployment in LEGACY_DEPLOYMENTS
    ]
    assert write_edxapp_sqlite(institution, str(tmp_path)) == []
    for deployment in LEGACY_DEPLOYMENTS:
        with sqlite3.connect(sqlite_path(str(tmp_path), deployment)) as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM auth_user").fetchone()
        assert count == len(edxapp_tables(institution, deployment).rows["auth_user"])


def test_api_deployments_have_the_courses_their_apis_serve() -> None:
    """MITx Online's and xPro's LMS databases hold the course runs and learners their REST APIs
    serve (one institution, one story); residential MITx is generated alongside."""
    institution = Institution.generate(seed=42, **SIZES["small"])
    for deployment in ("mitxonline", "xpro"):
        served = institution.deployment(deployment)
        tables = edxapp_tables(institution, deployment)
        assert [row[3] for row in tables.rows["course_overviews_courseoverview"]] == [
            course.course_id for course in served.course_runs
        ]
        assert tables.count("student_courseenrollment") == len(served.all_enrollments())


def test_healthcheck_pings_are_recorded() -> None:
    institution = Institution.generate(seed=1, courses=1, learners=1, days=1)
    check = "0b5e1e43-1111-4a7b-9d1e-2b7c0c5e9f10"
    with SandboxServer(institution, delivery_bucket=False) as server:
        base = f"{server.healthchecks_url}/{check}"
        assert httpx.get(f"{base}/start").text == "OK"
        assert httpx.post(base, content=b"3 files").status_code == 200
        assert httpx.get(f"{base}/1").status_code == 200
        assert httpx.get(f"{server.healthchecks_url}/not-a-uuid").status_code == 404
        pings = server.healthchecks.pings_for(check)
    assert [(ping.kind, ping.body) for ping in pings] == [
        ("start", ""),
        ("success", "3 files"),
        ("fail", ""),
    ]
