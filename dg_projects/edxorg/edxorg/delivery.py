"""edX's delivery bucket, read with boto3 through `dagster_aws.s3.S3Resource`.

edX.org puts MIT's weekly research data archives and daily tracking logs in a bucket MIT does not
control. `EdxorgDeliveryBucket` is that bucket for one org: where it is (bucket, prefixes, the
endpoint: the sandbox's S3 server in dev/ci, AWS deployed) and the credentials' secret, read only
when a client is built. Listing and downloading go through the same boto3 calls everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from ol_orchestrate.lib.edxorg import ArchiveName, parse_archive_name
from ol_orchestrate.resources.secrets import SecretsResource

_TRACKING_LOG = re.compile(r"-(?P<day>\d{4}-\d{2}-\d{2})\.log(\.gz)?$")


class DeliveryObjectMissingError(dg.Failure):
    """An object the sensor listed is gone from the bucket (deleted, or not delivered yet)."""


@dataclass(frozen=True)
class DeliveredArchive:
    key: str
    etag: str
    size: int
    name: ArchiveName

    @property
    def partition_key(self) -> str:
        return self.name.archive_date


@dataclass(frozen=True)
class DeliveredLog:
    key: str
    etag: str
    size: int
    day: str

    @property
    def file_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


class EdxorgDeliveryBucket(dg.ConfigurableResource):
    """One org's deliveries in edX's bucket (configured per environment by the location's
    `EdxorgDelivery` component)."""

    org: str
    bucket: str
    archive_prefix: str
    tracking_log_prefix: str
    region_name: str = "us-east-1"
    endpoint_url: str | None = None
    secret_path: str | None = None
    secrets: SecretsResource

    def s3(self) -> S3Resource:
        """The S3 resource of the bucket, with the delivery credentials (the AWS credential
        chain when no secret is configured)."""
        keys: dict[str, Any] = {}
        if self.secret_path:
            secret = self.secrets.get_secret(self.secret_path)
            keys = {
                "aws_access_key_id": secret["aws_access_key_id"],
                "aws_secret_access_key": secret["aws_secret_access_key"],
            }
        return S3Resource(
            region_name=self.region_name, endpoint_url=self.endpoint_url, max_attempts=5, **keys
        )

    def client(self) -> Any:
        return self.s3().get_client()

    def _objects(self, client: Any, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def list_archives(self, client: Any | None = None) -> list[DeliveredArchive]:
        """The org's archives (`<org>-YYYY-MM-DD.tar.gz` directly under the archive prefix)."""
        client = client or self.client()
        found = []
        for item in self._objects(client, self.archive_prefix):
            key = item["Key"]
            if "/" in key[len(self.archive_prefix) :]:
                continue
            name = parse_archive_name(key)
            if name is None or name.org != self.org.lower():
                continue
            found.append(
                DeliveredArchive(key, str(item["ETag"]).strip('"'), int(item["Size"]), name)
            )
        return sorted(found, key=lambda archive: archive.name.archive_date)

    def archive_key(self, archive_date: str) -> str:
        return f"{self.archive_prefix}{self.org}-{archive_date}.tar.gz"

    def list_tracking_logs(self, client: Any | None = None) -> list[DeliveredLog]:
        """The daily tracking logs (`.../<org>-edx-events-YYYY-MM-DD.log.gz`), by day."""
        client = client or self.client()
        found = []
        for item in self._objects(client, self.tracking_log_prefix):
            match = _TRACKING_LOG.search(item["Key"])
            if not match:
                continue
            try:
                date.fromisoformat(match["day"])
            except ValueError:
                continue
            found.append(
                DeliveredLog(
                    item["Key"], str(item["ETag"]).strip('"'), int(item["Size"]), match["day"]
                )
            )
        return sorted(found, key=lambda log: (log.day, log.key))

    def download(self, key: str, target: IO[bytes], client: Any | None = None) -> str:
        """Copy an object into `target`; returns its ETag. A missing object is a
        `DeliveryObjectMissingError` naming it; an object cut short in transfer raises."""
        from botocore.exceptions import ClientError

        client = client or self.client()
        try:
            response = client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise DeliveryObjectMissingError(
                    description=f"s3://{self.bucket}/{key} is not in the delivery bucket (deleted "
                    "or not delivered yet); nothing was landed",
                    allow_retries=False,
                ) from None
            raise
        expected = int(response.get("ContentLength") or 0)
        copied = 0
        for chunk in response["Body"].iter_chunks(1 << 20):
            target.write(chunk)
            copied += len(chunk)
        if copied != expected:
            raise OSError(f"s3://{self.bucket}/{key}: read {copied} of {expected} bytes")
        target.flush()
        return str(response.get("ETag", "")).strip('"')
