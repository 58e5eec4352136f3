"""The IRx bundle: built from the day's raw tables, OLX exports and forum posts and delivered
with boto3 (S3Resource) to an S3 API (moto's server), manifest last, stale files of an earlier
delivery removed; the healthcheck receives start and success."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from legacy_openedx.bundle import FORUM_FILE, MANIFEST, ResultsBucket, build_irx_bundle_asset
from legacy_openedx.components import LEGACY_DAILY
from legacy_openedx.course_exports import build_course_exports_asset, course_exports_key
from legacy_openedx.extraction import build_lms_tables_asset, table_key
from legacy_openedx.forum import build_forum_posts_asset, forum_posts_key
from legacy_openedx.tables import COURSEWARE_STUDENTMODULE, FORUM_POSTS, LMS_TABLES
from ol_orchestrate.testing import environment, persistent_instance
from ol_sandbox.data import Institution
from ol_sandbox.edxapp import EdxappTables, edxapp_deployment
from ol_sandbox.forum import forum_threads
from ol_sandbox.server import SandboxServer
from ol_sandbox.studio import course_export

CHECK = "0b5e1e43-1111-4a7b-9d1e-2b7c0c5e9f10"
DAY = "2026-01-20"
PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")


def resources(
    mitx_resources: Callable[..., dict[str, Any]], bucket: ResultsBucket
) -> dict[str, Any]:
    return {**mitx_resources(), "legacy_openedx_mitx_results": bucket}


def assets() -> list[dg.AssetsDefinition]:
    return [
        build_lms_tables_asset("mitx", PARTITIONS, LEGACY_DAILY),
        build_course_exports_asset("mitx", PARTITIONS, LEGACY_DAILY),
        build_forum_posts_asset("mitx", PARTITIONS, LEGACY_DAILY),
        build_irx_bundle_asset(
            "mitx",
            PARTITIONS,
            [
                *(table_key("mitx", table.name) for table in LMS_TABLES),
                course_exports_key("mitx"),
                forum_posts_key("mitx"),
            ],
            tables=[*(table.name for table in LMS_TABLES), FORUM_POSTS.name],
            incremental=COURSEWARE_STUDENTMODULE.name,
            bucket_key="legacy_openedx_mitx_results",
            healthcheck_key="legacy_openedx_mitx_healthcheck",
            group="legacy_openedx_mitx",
        ),
    ]


@pytest.mark.usefixtures("aws_env")
def test_the_bundle_is_delivered_to_s3_manifest_last(
    moto_endpoint: str,
    tmp_path: Path,
    sandbox: SandboxServer,
    tables: EdxappTables,
    institution: Institution,
    mitx_resources: Callable[..., dict[str, Any]],
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="irx-results")
    stale = "irx/mitx/2026-01-20/course-v1:MITx+Gone+1T2020/users_query.csv"
    s3.put_object(Bucket="irx-results", Key=stale, Body=b"id\n")
    bucket = ResultsBucket(
        url="s3://irx-results/irx",
        s3=S3Resource(endpoint_url=moto_endpoint, region_name="us-east-1"),
    )
    with (
        environment("ci", {"OL_LAKE_ROOT": str(tmp_path / "lake")}),
        persistent_instance() as instance,
    ):
        result = dg.materialize(
            assets(),
            instance=instance,
            partition_key=DAY,
            resources=resources(mitx_resources, bucket),
        )
    assert result.success
    keys = {
        item["Key"]
        for item in s3.list_objects_v2(Bucket="irx-results", Prefix="irx/mitx/")["Contents"]
    }
    courses = sorted(row[3] for row in tables.rows["course_overviews_courseoverview"])
    expected = {f"irx/mitx/{DAY}/{name}" for name in ("course_ids.csv", "role_users.csv", MANIFEST)}
    for course in courses:
        expected.add(f"irx/mitx/{DAY}/{course}.tar.gz")
        expected.add(f"irx/mitx/{DAY}/{course}/{FORUM_FILE}")
        for name in ("users_query", "studentmodule_query", "enrollment_query", "role_query"):
            expected.add(f"irx/mitx/{DAY}/{course}/{name}.csv")
    assert keys == expected  # the stale course's file of an earlier delivery is gone
    assert stale not in keys

    def read(key: str) -> list[dict[str, str]]:
        body = s3.get_object(Bucket="irx-results", Key=f"irx/mitx/{DAY}/{key}")["Body"].read()
        return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))

    assert [row["course_id"] for row in read("course_ids.csv")] == courses
    manifest = json.loads(
        s3.get_object(Bucket="irx-results", Key=f"irx/mitx/{DAY}/{MANIFEST}")["Body"].read()
    )
    assert manifest["deployment"] == "mitx"
    assert manifest["date"] == DAY
    assert set(manifest["files"]) == {key.split(f"{DAY}/", 1)[1] for key in expected} - {MANIFEST}
    course = courses[0]
    enrollments = read(f"{course}/enrollment_query.csv")
    expected_enrollments = [
        row for row in tables.rows["student_courseenrollment"] if row[1] == course
    ]
    assert len(enrollments) == len(expected_enrollments)
    assert manifest["files"][f"{course}/enrollment_query.csv"]["rows"] == len(enrollments)
    modules = read(f"{course}/studentmodule_query.csv")
    expected_modules = {
        row[0]: row for row in tables.rows["courseware_studentmodule"] if row[3] == course
    }
    assert {int(row["id"]) for row in modules} == set(expected_modules)
    # JSON state with escaped quotes and newlines survives the CSV.
    assert all(row["state"] == (expected_modules[int(row["id"])][4] or "") for row in modules)
    users = read(f"{course}/users_query.csv")
    enrolled = {row[5] for row in tables.rows["student_courseenrollment"] if row[1] == course}
    assert {int(row["id"]) for row in users} == enrolled
    # Each course's OLX export, as Studio gave it, with its sha256 in the manifest.
    runs = {run.course_id: run for run in edxapp_deployment(institution, "mitx").course_runs}
    tarball = s3.get_object(Bucket="irx-results", Key=f"irx/mitx/{DAY}/{course}.tar.gz")
    data = tarball["Body"].read()
    assert data == course_export(runs[course])
    assert manifest["files"][f"{course}.tar.gz"] == {
        "rows": None,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    # Each course's forum: one JSON object per thread, response and comment.
    forum_body = s3.get_object(Bucket="irx-results", Key=f"irx/mitx/{DAY}/{course}/{FORUM_FILE}")
    posts = [json.loads(line) for line in forum_body["Body"].read().decode().splitlines()]
    threads = forum_threads(institution, "mitx")[course]
    expected_posts = sum(
        1 + sum(1 + len(r.children) for r in thread.responses) for thread in threads
    )
    assert len(posts) == expected_posts == manifest["files"][f"{course}/{FORUM_FILE}"]["rows"]
    assert set(posts[0]) == set(FORUM_POSTS.names) - {"deployment", "retrieved_at"}
    assert {post["course_id"] for post in posts} == {course}
    assert posts[0]["post_type"] == "CommentThread"
    kinds = [ping.kind for ping in sandbox.healthchecks.pings_for(CHECK)]
    assert kinds == ["start", "success"]
    assert "4 OLX tarballs" in sandbox.healthchecks.pings_for(CHECK)[-1].body


def test_the_bundle_goes_to_a_local_folder_in_dev(
    tmp_path: Path, mitx_resources: Callable[..., dict[str, Any]]
) -> None:
    bucket = ResultsBucket(url=str(tmp_path / "irx_results"))
    with (
        environment("ci", {"OL_LAKE_ROOT": str(tmp_path / "lake")}),
        persistent_instance() as instance,
    ):
        result = dg.materialize(
            assets(),
            instance=instance,
            partition_key=DAY,
            resources=resources(mitx_resources, bucket),
        )
    assert result.success
    day = tmp_path / "irx_results" / "mitx" / DAY
    manifest = json.loads((day / MANIFEST).read_text())
    assert all((day / key).is_file() for key in manifest["files"])
    assert not list(day.rglob(".*"))  # no temporary file left
