"""The sandbox's Airbyte: application tables consistent with Open edX, the public API, and syncs
that really write Airbyte's S3 destination layout into the lake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from ol_sandbox.airbyte import (
    ARROW,
    CLIENT_ID,
    CLIENT_SECRET,
    CONNECTIONS,
    NAMESPACE,
    PASSWORD,
    SELECTED_STREAMS,
    STREAM_COLUMNS,
    USERNAME,
    WORKSPACE_ID,
    app_tables,
    table_folder,
)
from ol_sandbox.data import Institution
from ol_sandbox.edxapp import edxapp_tables
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

INSTITUTION = Institution.from_size("small")
AIRBYTE_COLUMNS = [
    "_airbyte_raw_id",
    "_airbyte_extracted_at",
    "_airbyte_meta",
    "_airbyte_generation_id",
]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(
        INSTITUTION,
        fault_config=FaultConfig(),
        delivery_bucket=False,
        lake_root=str(tmp_path / "lake"),
    ) as running:
        running.airbyte.sync_seconds = 0.05
        yield running


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    token = httpx.post(
        f"{sandbox.airbyte_url}/api/public/v1/applications/token",
        json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    ).json()["access_token"]
    with httpx.Client(
        base_url=sandbox.airbyte_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def wait_for(api: httpx.Client, job_id: int, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/public/v1/jobs/{job_id}").json()
        if job["status"] not in ("pending", "running", "incomplete"):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


def test_app_tables_follow_the_open_edx_learners_and_runs() -> None:
    for app in ("mitxonline", "xpro"):
        tables = app_tables(INSTITUTION, app)
        lms = edxapp_tables(INSTITUTION, app)
        deployment = INSTITUTION.deployment(app)
        learners = [u for u in tables.rows["users_user"] if not u["is_staff"]]
        assert [u["username"] for u in learners] == list(deployment.usernames)
        assert {r["courseware_id"] for r in tables.rows["courses_courserun"]} == {
            run.course_id for run in deployment.course_runs
        }
        assert tables.count("courses_courserunenrollment") == len(deployment.all_enrollments())
        lms_email = {row[4]: row[7] for row in lms.rows["auth_user"]}  # username -> email
        by_id = {u["id"]: u for u in tables.rows["users_user"]}
        kinds = set()
        for link in tables.rows["openedx_openedxuser"]:
            user = by_id[link["user_id"]]
            assert link["edx_username"] == user["username"]
            old = lms_email[user["username"]]
            if user["email"] == old:
                kinds.add("same")
            elif user["email"].strip().lower() == old.lower():
                kinds.add("case_and_whitespace")
            else:
                kinds.add("changed")
        assert kinds == {"same", "case_and_whitespace", "changed"}
        assert tables.count("openedx_openedxuser") < len(learners)  # some never got an account
        # every line belongs to an order, every order to a user, every grade to an enrollment
        orders = {o["id"] for o in tables.rows["ecommerce_order"]}
        assert {line["order_id"] for line in tables.rows["ecommerce_line"]} <= orders
        enrolled = {(e["user_id"], e["run_id"]) for e in tables.rows["courses_courserunenrollment"]}
        graded = {(g["user_id"], g["course_run_id"]) for g in tables.rows["courses_courserungrade"]}
        assert graded <= enrolled
        assert tables.count("courses_courseruncertificate") > 0
    assert app_tables(INSTITUTION, "xpro") is app_tables(Institution.from_size("small"), "xpro")


def test_workspace_connections_and_streams(api: httpx.Client) -> None:
    assert api.get(f"/api/public/v1/workspaces/{WORKSPACE_ID}").status_code == 200
    listed = api.get("/api/public/v1/connections", params={"workspaceIds": WORKSPACE_ID}).json()
    names = sorted(c["name"] for c in listed["data"])
    assert names == [
        f"MITx Online Production App DB {ARROW} S3 Data Lake",
        f"xPro Production App DB {ARROW} S3 Data Lake",
    ]
    page = api.get("/api/public/v1/connections", params={"limit": 1}).json()
    assert len(page["data"]) == 1
    assert page["next"]
    assert len(httpx.get(page["next"], headers=api.headers).json()["data"]) == 1
    connection = CONNECTIONS["mitxonline"]
    details = api.post("/api/v1/connections/get", json={"connectionId": connection.id}).json()
    assert details["prefix"] == "raw__mitxonline__app__postgres__"
    selected = [
        s["stream"]["name"] for s in details["syncCatalog"]["streams"] if s["config"]["selected"]
    ]
    assert selected == list(SELECTED_STREAMS)
    users = next(
        s for s in details["syncCatalog"]["streams"] if s["stream"]["name"] == "users_user"
    )
    assert users["stream"]["jsonSchema"]["properties"]["created_on"]["format"] == "date-time"
    destination = api.get(f"/api/public/v1/destinations/{details['destinationId']}").json()
    assert destination["destinationType"] == "s3"
    assert destination["configuration"]["format"]["format_type"] == "Parquet"
    streams = api.get("/api/public/v1/streams", params={"sourceId": details["sourceId"]}).json()
    assert {s["streamName"] for s in streams} == set(STREAM_COLUMNS)


def test_auth_is_required(sandbox: SandboxServer) -> None:
    base = f"{sandbox.airbyte_url}/api/public/v1"
    assert httpx.get(f"{base}/connections").status_code == 401
    assert httpx.get(f"{base}/connections", auth=(USERNAME, PASSWORD)).status_code == 200
    assert httpx.get(f"{base}/connections", auth=(USERNAME, "wrong")).status_code == 401
    denied = httpx.post(f"{base}/applications/token", json={"client_id": "x", "client_secret": "y"})
    assert denied.status_code == 401


def test_a_sync_writes_the_s3_destination_layout(sandbox: SandboxServer, api: httpx.Client) -> None:
    connection = CONNECTIONS["mitxonline"]
    started = api.post(
        "/api/public/v1/jobs", json={"connectionId": connection.id, "jobType": "sync"}
    )
    assert started.status_code == 200
    assert started.json()["status"] in ("pending", "running")
    job = wait_for(api, started.json()["jobId"])
    assert job["status"] == "succeeded"
    tables = app_tables(INSTITUTION, "mitxonline")
    assert job["rowsSynced"] == sum(tables.count(s) for s in SELECTED_STREAMS)
    lake = sandbox.airbyte.lake_root
    assert lake is not None
    for stream in SELECTED_STREAMS:
        folder = table_folder(lake, NAMESPACE, connection.table_name(stream))
        assert (
            folder == Path(lake) / "raw" / NAMESPACE / f"raw__mitxonline__app__postgres__{stream}"
        )
        (path,) = folder.glob("*.parquet")
        assert path.name.endswith("_0.parquet")
        assert path.name[:4].isdigit()
        table = pq.read_table(path)
        assert table.column_names == [*AIRBYTE_COLUMNS, *(c for c, _ in STREAM_COLUMNS[stream])]
        assert table.num_rows == tables.count(stream)
    users = pq.read_table(
        next(table_folder(lake, NAMESPACE, connection.table_name("users_user")).glob("*.parquet"))
    ).to_pylist()
    assert users[0]["name"] is None
    assert users[0]["_airbyte_meta"]["changes"] == [
        {"field": "name", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}
    ]
    assert users[1]["_airbyte_meta"] == {"sync_id": job["jobId"], "changes": []}
    assert {u["_airbyte_generation_id"] for u in users} == {1}
    assert str(users[0]["_airbyte_extracted_at"].tzinfo) == "UTC"
    assert not (
        Path(lake)
        / "raw"
        / NAMESPACE
        / "raw__mitxonline__app__postgres__flexiblepricing_flexibleprice"
    ).exists()

    # a second full refresh replaces the first generation
    again = wait_for(
        api, api.post("/api/public/v1/jobs", json={"connectionId": connection.id}).json()["jobId"]
    )
    assert again["status"] == "succeeded"
    (path,) = table_folder(lake, NAMESPACE, connection.table_name("users_user")).glob("*.parquet")
    assert set(pq.read_table(path).column("_airbyte_generation_id").to_pylist()) == {2}


def test_one_sync_per_connection_409_and_listing(sandbox: SandboxServer, api: httpx.Client) -> None:
    connection = CONNECTIONS["xpro"]
    held = sandbox.airbyte.start_sync("xpro", hold=True)
    conflict = api.post("/api/public/v1/jobs", json={"connectionId": connection.id})
    assert conflict.status_code == 409
    assert connection.id in conflict.json()["detail"]
    running = api.get(
        "/api/public/v1/jobs",
        params={
            "connectionId": connection.id,
            "status": "running,pending",
            "createdAtStart": "2020-01-01T00:00:00Z",
        },
    ).json()["data"]
    assert [j["jobId"] for j in running] == [held.id]
    sandbox.airbyte.release(held.id)
    assert wait_for(api, held.id)["status"] == "succeeded"
    assert api.post("/api/public/v1/jobs", json={"connectionId": connection.id}).status_code == 200


def test_failed_and_cancelled_syncs(sandbox: SandboxServer, api: httpx.Client) -> None:
    connection = CONNECTIONS["mitxonline"]
    sandbox.airbyte.fail_next_sync("mitxonline", "Could not connect with provided configuration.")
    job_id = api.post("/api/public/v1/jobs", json={"connectionId": connection.id}).json()["jobId"]
    assert wait_for(api, job_id)["status"] == "failed"
    info = api.post("/api/v1/jobs/get", json={"id": job_id}).json()
    failure = info["attempts"][-1]["attempt"]["failureSummary"]["failures"][0]
    assert failure["externalMessage"] == "Could not connect with provided configuration."
    assert failure["failureOrigin"] == "source"
    lake = sandbox.airbyte.lake_root
    assert lake is not None
    assert not (Path(lake) / "raw").exists()  # a failed sync writes nothing

    held = sandbox.airbyte.start_sync("mitxonline", hold=True)
    cancelled = api.delete(f"/api/public/v1/jobs/{held.id}").json()
    assert cancelled["status"] == "cancelled"


def test_a_stream_added_to_a_connection_is_synced(
    sandbox: SandboxServer, api: httpx.Client
) -> None:
    connection = CONNECTIONS["mitxonline"]
    streams = [{"name": s} for s in [*SELECTED_STREAMS, "flexiblepricing_flexibleprice"]]
    patched = api.patch(
        f"/api/public/v1/connections/{connection.id}", json={"configurations": {"streams": streams}}
    )
    assert patched.status_code == 200
    assert (
        wait_for(
            api,
            api.post("/api/public/v1/jobs", json={"connectionId": connection.id}).json()["jobId"],
        )["status"]
        == "succeeded"
    )
    lake = sandbox.airbyte.lake_root
    assert lake is not None
    folder = table_folder(lake, NAMESPACE, connection.table_name("flexiblepricing_flexibleprice"))
    assert list(folder.glob("*.parquet"))


def test_no_lake_means_a_failed_sync_with_the_destination_s_message() -> None:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig(), delivery_bucket=False) as sandbox:
        sandbox.airbyte.sync_seconds = 0
        job = sandbox.airbyte.start_sync("mitxonline")
        assert job.done.wait(10)
        assert job.status == "failed"
        assert job.failure is not None
        assert job.failure.origin == "destination"
