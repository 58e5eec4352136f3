"""The sandbox's edX.org: deterministic archives with every quirk, the delivery bucket on an
S3-compatible endpoint, and the catalog API."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import boto3
import httpx
import pytest

from ol_sandbox.data import Institution
from ol_sandbox.edxorg import (
    ARCHIVE_PREFIX,
    BUCKET,
    CATALOG_CLIENT_ID,
    CATALOG_CLIENT_SECRET,
    EdxorgData,
    build_archive,
    tracking_log_key,
)
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

INSTITUTION = Institution.from_size("small")


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive
            if m.isfile()
        }


def test_courses_mix_legacy_new_edge_and_ccx() -> None:
    data = EdxorgData.for_institution(INSTITUTION)
    ids = [course.course_id for course in data.courses]
    assert any("/" in course_id for course_id in ids)
    assert any(course_id.startswith("course-v1:") for course_id in ids)
    assert any(course_id.startswith("ccx-v1:") for course_id in ids)
    assert {course.site for course in data.courses} == {"prod", "edge"}
    legacy = next(course for course in data.courses if course.legacy)
    assert legacy.run.blocks[0].usage_key.startswith("i4x://")
    assert data.archive_dates == tuple(sorted(data.archive_dates))


def test_archives_are_deterministic_and_hold_every_kind_of_member() -> None:
    data = EdxorgData.for_institution(INSTITUTION)
    day = data.archive_dates[0]
    assert build_archive(data, day) == build_archive(EdxorgData.for_institution(INSTITUTION), day)
    names = list(members(build_archive(data, day)))
    assert all(name.startswith(f"mitx-{day.isoformat()}/") for name in names)
    for suffix in (
        "-prod-analytics.sql",
        "-edge-analytics.sql",
        "-prod.mongo",
        "-course_structure-prod-analytics.json",
        "-course-prod-analytics.xml.tar.gz",
    ):
        assert any(name.endswith(suffix) for name in names), suffix
    assert any("-ccx-3-" in name for name in names)


def test_tsv_quirks_and_a_header_that_changes() -> None:
    data = EdxorgData.for_institution(INSTITUTION)
    first, later = (members(build_archive(data, day)) for day in data.archive_dates[:2])
    profile = next(n for n in first if n.endswith("-auth_userprofile-prod-analytics.sql"))
    first_header = first[profile].split(b"\n", 1)[0].split(b"\t")
    later_profile = profile.replace(
        data.archive_dates[0].isoformat(), data.archive_dates[1].isoformat()
    )
    later_header = later[later_profile].split(b"\n", 1)[0].split(b"\t")
    assert b"goals" not in first_header
    assert b"goals" in later_header
    assert b"phone_number" in later_header
    text = first[profile].decode()
    assert "\tNULL\t" in text
    assert "\\\\" in text
    modules = [n for n in first if n.endswith("-courseware_studentmodule-prod-analytics.sql")]
    # a state JSON-encoded twice: its quotes escaped by JSON, then its backslashes by the TSV
    assert any('\\\\"attempts\\\\"' in first[name].decode() for name in modules)


def test_the_delivery_bucket_serves_archives_and_tracking_logs() -> None:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as sandbox:
        client = boto3.client(
            "s3",
            endpoint_url=sandbox.s3_url,
            region_name="us-east-1",
            aws_access_key_id="any",
            aws_secret_access_key="any",
        )
        keys = [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        data = EdxorgData.for_institution(INSTITUTION)
        archives = [k for k in keys if k.startswith(ARCHIVE_PREFIX) and k.endswith(".tar.gz")]
        assert len(archives) == len(data.archive_dates)
        day_key = tracking_log_key(INSTITUTION.anchor)
        assert day_key in keys
        lines = gzip.decompress(client.get_object(Bucket=BUCKET, Key=day_key)["Body"].read())
        events = [json.loads(line) for line in lines.splitlines() if line.startswith(b"{")]
        course_ids = {e["context"]["course_id"] for e in events if e["context"].get("course_id")}
        assert any("/" in c and not c.startswith("course-v1:") for c in course_ids)  # legacy kept
        assert sandbox.delivery_bucket is not None
        sandbox.delivery_bucket.delete(archives[0])
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as again:
        assert again.delivery_bucket is not None
        assert archives[0] in set(again.delivery_bucket.keys())  # every start restores the bucket


def test_the_delivery_bucket_can_be_left_out() -> None:
    with (
        SandboxServer(INSTITUTION, fault_config=FaultConfig(), delivery_bucket=False) as sandbox,
        pytest.raises(RuntimeError, match="without the delivery bucket"),
    ):
        _ = sandbox.s3_url


def test_catalog_api_needs_a_token_and_pages_with_next_links() -> None:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig(), delivery_bucket=False) as sandbox:
        base = sandbox.edxorg_catalog_url
        assert httpx.get(f"{base}/api/v1/course_runs/").status_code == 401
        denied = httpx.post(
            f"{base}/oauth2/v1/access_token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )
        assert denied.status_code == 401
        token = httpx.post(
            f"{base}/oauth2/v1/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": CATALOG_CLIENT_ID,
                "client_secret": CATALOG_CLIENT_SECRET,
                "token_type": "jwt",
            },
        ).json()
        assert token["token_type"] == "JWT"
        headers = {"Authorization": f"JWT {token['access_token']}"}
        url: str | None = f"{base}/api/v1/course_runs/?page_size=2"
        keys = []
        while url:
            page = httpx.get(url, headers=headers).json()
            keys += [run["key"] for run in page["results"]]
            url = page["next"]
        data = EdxorgData.for_institution(INSTITUTION)
        assert keys == [c.course_id for c in data.courses if c.ccx_of is None]
        programs = httpx.get(f"{base}/api/v1/programs/", headers=headers).json()
        assert programs["count"] >= 1
        assert all(
            course["key"].startswith("MITx+")
            for p in programs["results"]
            for course in p["courses"]
        )
