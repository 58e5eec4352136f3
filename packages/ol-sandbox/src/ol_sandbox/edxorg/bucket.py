"""edX.org's delivery bucket, served locally: moto's S3 server on 127.0.0.1, filled with the
institution's weekly archives and daily tracking logs.

The edxorg code location reads the bucket with boto3 (`dagster_aws.s3.S3Resource`) exactly as it
reads edX's bucket on AWS in production; only the endpoint differs (`OL_SANDBOX_S3_URL`). Layout
(the production bucket's, `edx-course-data`):

    mitx/mitx-YYYY-MM-DD.tar.gz                                  weekly research data archives
    mitx/edx/events/YYYY/mitx-edx-events-YYYY-MM-DD.log.gz       one gzipped tracking log per day

moto keeps its buckets in process memory, shared by every server of the process: `start()` empties
the bucket and fills it again, so each sandbox starts from exactly the institution's objects.
Tests change objects through `put`, `delete` and `truncate` (re-delivery, missing and cut archives).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ol_sandbox.data import Institution
from ol_sandbox.edxorg.archives import archive_name, build_archive
from ol_sandbox.edxorg.data import DELIVERY_ORG, EdxorgData

BUCKET = "edx-course-data"
ARCHIVE_PREFIX = f"{DELIVERY_ORG}/"
TRACKING_LOG_PREFIX = f"{DELIVERY_ORG}/edx/events/"
# moto accepts any credentials; these are the local secrets file's (edxorg/delivery).
ACCESS_KEY_ID = "sandbox-edxorg-delivery"
SECRET_ACCESS_KEY = "sandbox-secret-edxorg-delivery"  # noqa: S105  # pragma: allowlist secret
REGION = "us-east-1"


def tracking_log_key(day: Any) -> str:
    return f"{TRACKING_LOG_PREFIX}{day:%Y}/{DELIVERY_ORG}-edx-events-{day.isoformat()}.log.gz"


@dataclass(frozen=True)
class DeliveredObject:
    key: str
    body: bytes


def delivered_objects(institution: Institution) -> tuple[DeliveredObject, ...]:
    """Every object of the bucket for `institution` (cached per institution knobs)."""
    return _objects(
        institution.seed,
        institution.courses,
        institution.learners,
        institution.days,
        institution.anchor,
    )


@cache
def _objects(
    seed: int, courses: int, learners: int, days: int, anchor: Any
) -> tuple[DeliveredObject, ...]:
    from ol_sandbox.tracking_logs import deployment_days

    institution = Institution.generate(seed, courses, learners, days, deployments=(), anchor=anchor)
    data = EdxorgData.for_institution(institution)
    objects = [
        DeliveredObject(f"{ARCHIVE_PREFIX}{archive_name(day)}", build_archive(data, day))
        for day in data.archive_dates
    ]
    for tracking_day in deployment_days(institution, data.deployment()):
        lines = [line for name in sorted(tracking_day.files) for line in tracking_day.files[name]]
        body = gzip.compress("".join(f"{line}\n" for line in lines).encode("utf-8"), mtime=0)
        objects.append(DeliveredObject(tracking_log_key(tracking_day.day), body))
    return tuple(objects)


class DeliveryBucket:
    """An S3-compatible endpoint on `host` serving the delivery bucket (`start()`, `stop()`)."""

    def __init__(self, institution: Institution, host: str = "127.0.0.1", port: int = 0) -> None:
        self.institution = institution
        self.host = host
        self._requested_port = port
        self._server: Any = None

    def start(self) -> DeliveryBucket:
        if self._server is not None:
            return self
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        server = _QuietMotoServer(ip_address=self.host, port=self._requested_port, verbose=False)
        server.start()
        self._server = server
        self.reset()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> DeliveryBucket:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the delivery bucket is not running; call start() first")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def reset(self) -> None:
        """The bucket holds exactly the institution's objects again."""
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if BUCKET in existing:
            for key in list(self.keys()):
                client.delete_object(Bucket=BUCKET, Key=key)
        else:
            client.create_bucket(Bucket=BUCKET)
        for item in delivered_objects(self.institution):
            client.put_object(Bucket=BUCKET, Key=item.key, Body=item.body)

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def get(self, key: str) -> bytes:
        return self.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def put(self, key: str, body: bytes) -> str:
        """Deliver (or re-deliver) an object; returns its new ETag."""
        return str(self.client().put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"]).strip('"')

    def delete(self, key: str) -> None:
        self.client().delete_object(Bucket=BUCKET, Key=key)

    def truncate(self, key: str, keep: float = 0.5) -> None:
        """Replace an object by its first `keep` share of bytes (a delivery cut short)."""
        body = self.get(key)
        self.put(key, body[: int(len(body) * keep)])


def _quiet_server_class() -> type:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class QuietMotoServer(ThreadedMotoServer):
        """moto's threaded server, polling for shutdown every 50 ms instead of 500 ms."""

        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever(poll_interval=0.05)

    return QuietMotoServer


def _QuietMotoServer(**kwargs: Any) -> Any:  # noqa: N802  # a class, built on first use
    return _quiet_server_class()(**kwargs)
