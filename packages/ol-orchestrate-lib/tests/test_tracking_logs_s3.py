"""The tracking-log normalizer on S3 (a moto server): read logs from and write outputs to a bucket.

An object store has no rename: the outputs are uploaded whole once they are complete, so a failure
midway leaves neither an object nor a local temporary file behind.
"""

from __future__ import annotations

import gzip
import io
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from upath import UPath

from ol_orchestrate.lib.tracking_logs import normalize as module
from ol_orchestrate.lib.tracking_logs import normalize_files

EVENT = {
    "username": "learner1",
    "event_type": "problem_check",
    "event_source": "server",
    "time": "2026-03-01T10:00:00Z",
    "event": {"problem_id": "block-v1:MITx+6.00x+2T2026+type@problem+block@p1"},
    "context": {"course_id": "course-v1:MITx+6.00x+2T2026", "user_id": 3},
}


@pytest.fixture
def bucket(
    moto_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Any:
    # Local temporary files of the upload go here, so the test can see that none is left.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    name = f"logs-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    lines = [json.dumps(EVENT)] * 300 + ["", "{truncated"]
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    client.put_object(Bucket=name, Key="landing/tracking.log-20260301.gz", Body=body)
    return client, name, moto_endpoint


def _keys(client: Any, bucket: str) -> list[str]:
    response = client.list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in response.get("Contents", []))


def test_logs_on_s3_are_normalized_into_s3(bucket: Any, tmp_path: Path) -> None:
    client, name, endpoint = bucket
    root = UPath(f"s3://{name}", endpoint_url=endpoint)
    summary = normalize_files(
        [root / "landing" / "tracking.log-20260301.gz"],
        root / "raw" / "dt=2026-03-01" / "events.parquet",
        root / "quarantine" / "dt=2026-03-01" / "quarantine.parquet",
        source_name="mitx",
    )
    assert (summary.lines_read, summary.events_written) == (302, 300)
    assert summary.quarantined_by_reason == {"blank": 1, "invalid_json": 1}
    events = pq.read_table(
        io.BytesIO(
            client.get_object(Bucket=name, Key="raw/dt=2026-03-01/events.parquet")["Body"].read()
        )
    )
    assert events.num_rows == 300
    assert set(events.column("course_key").to_pylist()) == {"course-v1:MITx+6.00x+2T2026"}
    assert summary.bytes_out == sum(
        client.head_object(Bucket=name, Key=key)["ContentLength"]
        for key in (
            "raw/dt=2026-03-01/events.parquet",
            "quarantine/dt=2026-03-01/quarantine.parquet",
        )
    )
    assert not list(tmp_path.glob("ol-tracking-logs-*"))


def test_a_failure_midway_leaves_no_object_on_s3(
    bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name, endpoint = bucket
    root = UPath(f"s3://{name}", endpoint_url=endpoint)

    def failing(self: Any, prepared: Any) -> Any:
        raise RuntimeError("worker lost")

    monkeypatch.setattr(module._ChunkNormalizer, "normalize", failing)
    with pytest.raises(RuntimeError, match="worker lost"):
        normalize_files(
            [root / "landing" / "tracking.log-20260301.gz"],
            root / "raw" / "events.parquet",
            root / "raw" / "quarantine.parquet",
        )
    assert _keys(client, name) == ["landing/tracking.log-20260301.gz"]
    assert not list(tmp_path.glob("ol-tracking-logs-*"))
