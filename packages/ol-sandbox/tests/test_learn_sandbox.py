"""The learning catalogs (`ol_sandbox.learn_sources`) and MIT Learn's webhook receiver
(`ol_sandbox.learn_webhook`), on the wire."""

from __future__ import annotations

import csv
import hashlib
import hmac
import http.client
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from ol_sandbox.data import Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.learn_sources import (
    OLL_CSV_COLUMNS,
    SLOAN_CLIENT_ID,
    SLOAN_CLIENT_SECRET,
    LearnSourcesData,
    UnknownRecordError,
)
from ol_sandbox.learn_webhook import SIGNATURE_HEADER, WEBHOOK_SECRET, signature
from ol_sandbox.server import SandboxServer

INSTITUTION = Institution.from_size("small")


@pytest.fixture
def learn_server() -> Iterator[SandboxServer]:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig(), delivery_bucket=False) as server:
        yield server


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_catalogs_are_deterministic_and_sized_by_the_institution() -> None:
    one = LearnSourcesData.for_institution(INSTITUTION)
    two = LearnSourcesData.for_institution(Institution.from_size("small"))
    for source in one.records:
        assert one.list(source) == two.list(source)
    assert len(one.list("mit_climate")) == 2 * INSTITUTION.courses + 1
    assert len(one.list("ovs")) == INSTITUTION.courses + 2
    assert len({v["key"] for v in one.list("ovs")}) == len(one.list("ovs"))


def test_climate_articles_are_paginated(learn_server: SandboxServer, call: Any) -> None:
    base = learn_server.learn_source_url("mit_climate")
    first = call(f"{base}/api/articles/", params={"page_size": 4}).json()
    assert first["count"] == 2 * INSTITUTION.courses + 1
    assert len(first["results"]) == 4
    assert first["previous"] is None
    assert first["next"].startswith(f"{base}/api/articles/?")
    assert call(f"{base}/api/articles/", params={"page": 99}).status == 404


def test_mitpe_feeds_oll_csv_and_ovs(learn_server: SandboxServer, call: Any) -> None:
    mitpe = learn_server.learn_source_url("mitpe")
    assert isinstance(call(f"{mitpe}/feeds/courses/").json(), list)
    assert call(f"{mitpe}/feeds/programs/").json()[0]["courses"]
    reply = call(f"{learn_server.learn_source_url('oll')}/courses.csv")
    assert reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert tuple(rows[0]) == OLL_CSV_COLUMNS
    assert [row["published"] for row in rows].count("false") == 1
    ovs = learn_server.learn_source_url("ovs")
    listed = call(f"{ovs}/api/v0/public/videos/", params={"include_in_learn": "true"}).json()
    key = listed["results"][0]["key"]
    assert set(listed["results"][0]) == {"key", "title", "updated_at"}
    assert call(f"{ovs}/api/v0/public/videos/{key}/").json()["key"] == key
    assert call(f"{ovs}/api/v0/public/videos/{'0' * 32}/").status == 404


def test_sloan_needs_an_oauth2_token(learn_server: SandboxServer, call: Any) -> None:
    sloan = learn_server.learn_source_url("sloan")
    assert call(f"{sloan}/api/courses").status == 401
    refused = call(
        f"{sloan}/oauth/token",
        "POST",
        form={
            "grant_type": "client_credentials",
            "client_id": SLOAN_CLIENT_ID,
            "client_secret": "x",
        },
    )
    assert refused.status == 401
    token = call(
        f"{sloan}/oauth/token",
        "POST",
        form={
            "grant_type": "client_credentials",
            "client_id": SLOAN_CLIENT_ID,
            "client_secret": SLOAN_CLIENT_SECRET,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    courses = call(f"{sloan}/api/courses", headers=headers).json()
    offerings = call(f"{sloan}/api/course-offerings", headers=headers).json()
    assert {o["Course_Id"] for o in offerings} <= {c["Course_Id"] for c in courses}


def test_records_change_while_served(learn_server: SandboxServer, call: Any) -> None:
    data = learn_server.learn_sources.data
    ovs = learn_server.learn_source_url("ovs")
    video = data.list("ovs")[0]
    data.update("ovs", video["key"], title="Renamed")
    detail = call(f"{ovs}/api/v0/public/videos/{video['key']}/").json()
    assert detail["title"] == "Renamed"
    assert detail["updated_at"] > video["updated_at"]
    added = data.add_ovs_video()
    data.delete("ovs", video["key"])
    keys = [
        v["key"]
        for v in call(f"{ovs}/api/v0/public/videos/", params={"page_size": 100}).json()["results"]
    ]
    assert added in keys
    assert video["key"] not in keys
    with pytest.raises(UnknownRecordError, match="no record"):
        data.delete("ovs", video["key"])


def test_the_receiver_verifies_records_and_fails_on_demand(learn_server: SandboxServer) -> None:
    url = f"{learn_server.learn_url}/api/v1/webhooks/learning_resources/"
    receiver = learn_server.learn_webhook
    resource = {
        "readable_id": "r1",
        "title": "T",
        "url": "https://x",
        "resource_type": "course",
        "etl_source": "oll",
    }
    body = json.dumps({"etl_source": "oll", "action": "upsert", "resources": [resource]}).encode()
    good = {SIGNATURE_HEADER: signature(WEBHOOK_SECRET, body)}
    assert (
        good[SIGNATURE_HEADER]
        == hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    )
    assert post(url, body)[0] == 401
    assert post(url, body, {SIGNATURE_HEADER: "0" * 64})[0] == 401
    assert post(url, body, good) == (
        200,
        {"status": "ok", "action": "upsert", "etl_source": "oll", "count": 1},
    )
    assert receiver.resources("oll") == {"r1": resource}
    receiver.fail(503, after=1, count=2)
    delete = json.dumps({"etl_source": "oll", "action": "delete", "readable_ids": ["r1"]}).encode()
    signed = {SIGNATURE_HEADER: signature(WEBHOOK_SECRET, delete)}
    statuses = [post(url, delete, signed)[0] for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert receiver.resources("oll") == {}
    malformed = json.dumps({"etl_source": "oll", "action": "upsert", "resources": [{}]}).encode()
    status, answer = post(url, malformed, {SIGNATURE_HEADER: signature(WEBHOOK_SECRET, malformed)})
    assert status == 400
    assert "readable_id" in answer["detail"]
    assert [d.action for d in receiver.deliveries] == ["upsert", "delete", "delete"]
