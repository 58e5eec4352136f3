"""OpenEdxClient against the sandbox, and the raw-table rows built from its payloads."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pyarrow as pa
import pytest

from ol_orchestrate.lib.raw_tables import RawTable
from ol_orchestrate.resources.openedx import (
    BLOCK_REQUESTED_FIELDS,
    COURSE_BLOCKS,
    COURSE_BLOCKS_SCHEMA,
    COURSE_RUNS,
    COURSE_RUNS_SCHEMA,
    ENROLLMENTS,
    ENROLLMENTS_SCHEMA,
    OpenEdxClient,
    course_block_rows,
    course_run_rows,
    enrollment_rows,
    split_course_key,
)
from ol_sandbox.data import Institution
from ol_sandbox.server import SandboxServer

DEPLOYMENT = "mitxonline"
RETRIEVED_AT = "2026-01-20T06:00:00Z"


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[OpenEdxClient]:
    with OpenEdxClient(
        sandbox.openedx_url(DEPLOYMENT),
        f"sandbox-{DEPLOYMENT}",
        f"sandbox-secret-{DEPLOYMENT}",
        courses_page_size=3,
        enrollments_page_size=7,
        sleep=lambda _: None,
        rng=random.Random(0),  # noqa: S311
    ) as api:
        yield api


@pytest.mark.parametrize(
    ("table", "schema"),
    [
        (COURSE_RUNS, COURSE_RUNS_SCHEMA),
        (COURSE_BLOCKS, COURSE_BLOCKS_SCHEMA),
        (ENROLLMENTS, ENROLLMENTS_SCHEMA),
    ],
)
def test_schemas_are_the_declarations(table: RawTable, schema: pa.Schema) -> None:
    # The dbt sources and docs/contracts.md are checked against the same declarations
    # (src/ol_dbt/tests/test_raw_table_contracts.py).
    assert schema == table.schema
    assert (schema.names[0], schema.names[-1]) == ("deployment", "retrieved_at")
    empty = pa.Table.from_pylist([], schema=schema)
    assert empty.num_rows == 0
    assert empty.schema == schema


def test_every_course_run_fetched_once(
    client: OpenEdxClient, sandbox: SandboxServer, sandbox_institution: Institution
) -> None:
    courses = list(client.iter_course_runs())
    expected = sandbox_institution.deployment(DEPLOYMENT).course_runs
    assert [c["id"] for c in courses] == [c.course_id for c in expected]
    pages = [r for r in sandbox.requests if r.path.endswith("/courses/v1/courses/")]
    assert [parse_qs(r.query).get("page", ["1"])[0] for r in pages] == ["1", "2"]

    rows = course_run_rows(DEPLOYMENT, courses, RETRIEVED_AT)
    table = pa.Table.from_pylist(rows, schema=COURSE_RUNS_SCHEMA)
    assert table.schema == COURSE_RUNS_SCHEMA
    assert table.num_rows == len(expected)
    for row, course in zip(rows, expected, strict=True):
        assert list(row) == COURSE_RUNS_SCHEMA.names
        assert row["deployment"] == DEPLOYMENT
        assert row["retrieved_at"] == RETRIEVED_AT
        assert (row["course_id"], row["course_name"]) == (course.course_id, course.name)
        assert (row["org"], row["number"], row["run"]) == (course.org, course.number, course.run)
        assert (row["start"], row["end"]) == (course.start, course.end)
        assert (row["enrollment_start"], row["enrollment_end"]) == (
            course.enrollment_start,
            course.enrollment_end,
        )
        assert row["pacing"] == course.pacing
        assert row["short_description"] == course.short_description
        assert (row["hidden"], row["invitation_only"], row["mobile_available"]) == (
            course.hidden,
            course.invitation_only,
            course.mobile_available,
        )
        assert row["blocks_url"].startswith(sandbox.openedx_url(DEPLOYMENT))


def test_every_block_fetched_once_in_depth_first_order(
    client: OpenEdxClient, sandbox: SandboxServer, sandbox_institution: Institution
) -> None:
    all_rows: list[dict[str, Any]] = []
    for course in sandbox_institution.deployment(DEPLOYMENT).course_runs:
        payload = client.get_course_blocks(course.course_id)
        rows = course_block_rows(DEPLOYMENT, course.course_id, payload, RETRIEVED_AT)
        assert [r["block_id"] for r in rows] == [b.usage_key for b in course.blocks]
        assert [r["block_index"] for r in rows] == list(range(len(rows)))
        parent_of = {child: b.usage_key for b in course.blocks for child in b.children}
        for row, block in zip(rows, course.blocks, strict=True):
            assert row["parent_block_id"] == parent_of.get(block.usage_key)
            assert row["block_type"] == block.block_type
            assert row["block_title"] == block.display_name
            assert row["graded"] is block.graded
            assert (row["block_format"], row["due"]) == (block.format, block.due)
            assert row["lms_web_url"].endswith(f"/jump_to/{block.usage_key}")
        assert rows[0]["parent_block_id"] is None
        assert rows[0]["block_type"] == "course"
        all_rows.extend(rows)
    table = pa.Table.from_pylist(all_rows, schema=COURSE_BLOCKS_SCHEMA)
    assert table.schema == COURSE_BLOCKS_SCHEMA
    assert table.num_rows == sandbox_institution.deployment(DEPLOYMENT).block_count
    requests = [r for r in sandbox.requests if r.path.endswith("/blocks/")]
    per_course = Counter(parse_qs(r.query)["course_id"][0] for r in requests)
    assert set(per_course.values()) == {1}
    query = parse_qs(requests[0].query)
    assert query["all_blocks"] == ["true"]
    assert query["depth"] == ["all"]
    assert query["requested_fields"] == [BLOCK_REQUESTED_FIELDS]


def test_every_enrollment_fetched_once(
    client: OpenEdxClient, sandbox: SandboxServer, sandbox_institution: Institution
) -> None:
    data = sandbox_institution.deployment(DEPLOYMENT)
    rows: list[dict[str, Any]] = []
    for course in data.course_runs:
        rows.extend(
            enrollment_rows(DEPLOYMENT, client.iter_enrollments(course.course_id), RETRIEVED_AT)
        )
    expected = data.all_enrollments()
    assert [(r["course_id"], r["username"]) for r in rows] == [
        (e.course_id, e.username) for e in expected
    ]
    assert [(r["mode"], r["is_active"], r["created"]) for r in rows] == [
        (e.mode, e.is_active, e.created) for e in expected
    ]
    assert len({(r["course_id"], r["username"]) for r in rows}) == len(rows)
    table = pa.Table.from_pylist(rows, schema=ENROLLMENTS_SCHEMA)
    assert table.schema == ENROLLMENTS_SCHEMA
    assert table.num_rows == len(expected)
    pages = [r for r in sandbox.requests if "enrollments" in r.path]
    assert len(pages) == sum(
        max(1, -(-len(data.enrollments[c.course_id]) // 7)) for c in data.course_runs
    )


def test_full_extract_survives_faults_without_duplicates(
    client: OpenEdxClient, sandbox: SandboxServer, sandbox_institution: Institution
) -> None:
    sandbox.faults.inject("page=2", "truncate")
    sandbox.faults.inject("blocks", "reset")
    sandbox.faults.inject("blocks", "server_error", status=502)
    sandbox.faults.inject("cursor=", "rate_limit", count=2, retry_after=1)
    sandbox.faults.inject("access_token", "server_error", status=503)
    data = sandbox_institution.deployment(DEPLOYMENT)
    courses = list(client.iter_course_runs())
    blocks = [
        row
        for course in courses
        for row in course_block_rows(
            DEPLOYMENT, course["id"], client.get_course_blocks(course["id"]), RETRIEVED_AT
        )
    ]
    enrollments = [e for course in courses for e in client.iter_enrollments(course["id"])]
    assert sandbox.faults.pending == []
    assert len(courses) == len({c["id"] for c in courses}) == len(data.course_runs)
    assert len(blocks) == len({(r["course_id"], r["block_id"]) for r in blocks}) == data.block_count
    assert len(enrollments) == len(data.all_enrollments())
    assert len({(e["course_id"], e["user"]) for e in enrollments}) == len(enrollments)


def test_jwt_scheme_and_token_type() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/oauth2/access_token"):
            return httpx.Response(
                200, json={"access_token": "abc", "token_type": "JWT", "expires_in": 3600}
            )
        return httpx.Response(200, json={"root": "r", "blocks": {}})

    with OpenEdxClient(
        "https://lms.example/", "id", "secret", transport=httpx.MockTransport(handler)
    ) as api:
        assert api.get_course_blocks("course-v1:A+B+C") == {"root": "r", "blocks": {}}
    token_request, blocks_request = seen
    assert str(token_request.url) == "https://lms.example/oauth2/access_token"
    form = parse_qs(token_request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "token_type": ["jwt"],
        "client_id": ["id"],
        "client_secret": ["secret"],
    }
    assert blocks_request.headers["Authorization"] == "JWT abc"
    assert blocks_request.url.path == "/api/courses/v2/blocks/"


def test_from_credentials(sandbox: SandboxServer) -> None:
    credentials = {"client_id": "sandbox-xpro", "client_secret": "sandbox-secret-xpro"}
    with OpenEdxClient.from_credentials(sandbox.openedx_url("xpro"), credentials) as api:
        assert len(list(api.iter_course_runs())) == 4


# -- pure row functions --------------------------------------------------------------------------


def test_course_block_rows_edge_cases() -> None:
    payload = {
        "root": "r",
        "blocks": {
            "orphan": {"id": "orphan", "type": "html", "display_name": "Lost"},
            "b": {"id": "b", "type": "chapter", "children": ["c", "r"]},  # a cycle back to r
            "r": {"id": "r", "type": "course", "children": ["a", "b", "missing"]},
            "c": {"id": "c", "type": "problem", "graded": True, "format": "Exam"},
            "a": {"id": "a", "type": "chapter"},
        },
    }
    rows = course_block_rows("xpro", "course-v1:A+B+C", payload, datetime(2026, 1, 5, tzinfo=UTC))
    assert [(r["block_id"], r["parent_block_id"], r["block_index"]) for r in rows] == [
        ("r", None, 0),
        ("a", "r", 1),
        ("b", "r", 2),
        ("c", "b", 3),
        ("orphan", None, 4),
    ]
    assert rows[3]["graded"] is True
    assert rows[3]["block_format"] == "Exam"
    assert rows[1]["graded"] is False
    assert {r["retrieved_at"] for r in rows} == {"2026-01-05T00:00:00Z"}
    assert course_block_rows("xpro", "course-v1:A+B+C", {}, RETRIEVED_AT) == []


def test_course_run_rows_fill_key_parts_and_defaults() -> None:
    rows = course_run_rows(
        "xpro", [{"id": "course-v1:xPRO+QCF1+3T2025", "name": "Q"}], RETRIEVED_AT
    )
    assert rows[0]["org"] == "xPRO"
    assert (rows[0]["number"], rows[0]["run"]) == ("QCF1", "3T2025")
    assert rows[0]["hidden"] is False
    assert rows[0]["end"] is None
    assert split_course_key("MITx/6.002x/2012_Fall") == ("MITx", "6.002x", "2012_Fall")
    assert split_course_key("garbage") == (None, None, None)


def test_enrollment_rows_keep_non_ascii_usernames() -> None:
    rows = enrollment_rows(
        "mitxonline",
        [
            {
                "user": "李明_o",
                "course_id": "course-v1:A+B+C",
                "mode": "audit",
                "is_active": False,
                "created": "2026-01-05T00:00:00.5Z",
            }
        ],
        RETRIEVED_AT,
    )
    table = pa.Table.from_pylist(rows, schema=ENROLLMENTS_SCHEMA)
    assert table.column("username").to_pylist() == ["李明_o"]
    assert table.column("is_active").to_pylist() == [False]
