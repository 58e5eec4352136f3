"""The tracking-log asset factory on an S3 lake (a moto server): it lists the day's raw objects,
normalizes them into the partition's object, and its sensor fingerprints objects by ETag.
The openedx location's tests cover the behaviour on a local lake in depth."""

from __future__ import annotations

import uuid
from datetime import date

import boto3
import dagster as dg
import pyarrow.parquet as pq
import pytest
from upath import UPath

from ol_orchestrate.lib.tracking_log_assets import (
    build_tracking_log_assets,
    list_landing_files,
    request_partition_keys,
    resolve_landing_prefix,
    tracking_log_asset_key,
)
from ol_orchestrate.testing import persistent_instance
from ol_sandbox.data import Institution
from ol_sandbox.tracking_logs import tracking_log_days

INSTITUTION = Institution.generate(
    seed=3, courses=1, learners=8, days=2, deployments=("mitxonline",), anchor=date(2026, 1, 5)
)
PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")


@pytest.fixture
def s3_lake(moto_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> UPath:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    for day in tracking_log_days(INSTITUTION, "mitxonline"):
        for name in day.files:
            client.put_object(
                Bucket=bucket,
                Key=f"lake/landing/edxorg/tracking/{day.day.isoformat()}/{name}",
                Body=day.file_bytes(name),
            )
    return UPath(f"s3://{bucket}/lake", endpoint_url=moto_endpoint)


def test_an_s3_day_is_listed_normalized_and_fingerprinted(s3_lake: UPath) -> None:
    root = s3_lake
    days = {d.day.isoformat(): d for d in tracking_log_days(INSTITUTION, "mitxonline")}
    prefix = resolve_landing_prefix(root, "landing/edxorg/tracking")
    listed = list_landing_files(prefix)
    assert set(listed) == set(days)
    assert all(f.version for files in listed.values() for f in files)  # ETags

    logs = build_tracking_log_assets(
        "edxorg", "mitxonline", "landing/edxorg/tracking", PARTITIONS, lake_root=root
    )
    assert logs.key == tracking_log_asset_key("edxorg", "mitxonline")
    with persistent_instance() as instance:
        tick = logs.sensor(dg.build_sensor_context(instance=instance))
        assert [request_partition_keys(r, PARTITIONS) for r in tick.run_requests] == [sorted(days)]

        day = min(days)
        result = dg.materialize([logs.asset], partition_key=day, instance=instance)
        assert result.success
        output = root / "raw" / "edxorg" / "mitxonline_tracking_logs" / f"dt={day}" / "data.parquet"
        with output.open("rb") as handle:
            assert pq.read_table(handle).num_rows == days[day].events
        quarantine = output.parent.parent.parent.parent.parent / "quarantine"
        assert (quarantine / "edxorg" / "mitxonline_tracking_logs" / f"dt={day}").exists()

        tick = logs.sensor(dg.build_sensor_context(instance=instance, cursor=tick.cursor))
        assert [r.partition_key for r in tick.run_requests] == [max(days)]
