"""Airbyte's APIs for the sandbox: the public API and the few configuration API calls clients use.

Served under `/airbyte/` with Airbyte's paths: the public API under `api/public/v1/`
(`applications/token`, `workspaces`, `sources`, `destinations`, `connections` (GET, PATCH to
select streams), `streams`, `jobs`: POST starts a sync, GET lists or polls, DELETE cancels) and
the configuration API's `api/v1/connections/get` and `api/v1/jobs/get` (a job's attempts with
Airbyte's failure summary). Lists are paginated with `limit`/`offset` and an absolute `next`.
Auth: a bearer token from `applications/token` (client credentials) or HTTP Basic.

A sync is real: a background thread reads the app's tables (`.apps`) and writes the selected
streams into the lake through the S3 destination (`.destination`): pending, then running, then
succeeded. Only one sync runs per connection; starting another answers 409 as Airbyte does.
Tests steer it: `start_sync(..., hold=True)` is a sync Airbyte's own scheduler started (running
until `release`), `fail_next_sync` makes the next attempt fail with a given message, `cancel`
cancels like the UI.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ol_sandbox.airbyte.apps import STREAM_COLUMNS, app_tables
from ol_sandbox.airbyte.destination import WrittenStream, commit_overwrite, write_stream
from ol_sandbox.airbyte.workspace import (
    CLIENT_ID,
    CLIENT_SECRET,
    CONNECTIONS,
    DESTINATION_ID,
    NAMESPACE,
    PASSWORD,
    PRIMARY_KEYS,
    SOURCES,
    USERNAME,
    WORKSPACE_ID,
    WORKSPACE_NAME,
    Connection,
    destination_payload,
    source_payload,
    stream_json_schema,
)
from ol_sandbox.data import Institution
from ol_sandbox.routing import Request, Response

AIRBYTE_PREFIX = "airbyte"
PUBLIC = "api/public/v1"
CONFIG = "api/v1"
TOKEN_TTL_SECONDS = 180  # Airbyte's access tokens live three minutes
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
RUNNING_STATES = ("pending", "running", "incomplete")
_ERROR_BASE = "https://reference.airbyte.com/reference/errors"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _problem(status: int, title: str, detail: str) -> Response:
    return Response.json(
        status,
        {"type": f"{_ERROR_BASE}#{status}-{title}", "title": title, "status": status,
         "detail": detail},
        content_type="application/problem+json",
    )  # fmt: skip


@dataclass
class Failure:
    message: str
    origin: str = "source"
    failure_type: str = "config_error"


@dataclass
class Job:
    id: int
    connection: Connection
    created_at: datetime
    started_by: str  # "api" (a client's POST) or "scheduler" (Airbyte's own schedule)
    status: str = "pending"
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    records: int = 0
    bytes: int = 0
    streams: list[WrittenStream] = field(default_factory=list)
    failure: Failure | None = None
    generation_id: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def public(self) -> dict[str, Any]:
        end = self.ended_at or datetime.now(UTC)
        seconds = max(0.0, (end - self.created_at).total_seconds())
        return {
            "jobId": self.id,
            "status": self.status,
            "jobType": "sync",
            "startTime": _iso(self.created_at),
            "connectionId": self.connection.id,
            "lastUpdatedAt": _iso(self.updated_at or self.created_at),
            "duration": f"PT{seconds:.3f}S",
            "bytesSynced": self.bytes,
            "rowsSynced": self.records,
        }

    def config(self) -> dict[str, Any]:
        """The configuration API's `JobInfoRead`: the job and its (one) attempt."""
        created = int(self.created_at.timestamp())
        updated = int((self.updated_at or self.created_at).timestamp())
        attempt: dict[str, Any] = {
            "id": 0,
            "status": "failed" if self.status == "failed" else self.status,
            "createdAt": created,
            "updatedAt": updated,
            "recordsSynced": self.records,
            "bytesSynced": self.bytes,
            "streamStats": [
                {
                    "streamName": stream.table_name,
                    "stats": {"recordsEmitted": stream.records, "bytesEmitted": stream.bytes},
                }
                for stream in self.streams
            ],
        }
        if self.ended_at is not None:
            attempt["endedAt"] = int(self.ended_at.timestamp())
        if self.failure is not None:
            attempt["failureSummary"] = {
                "failures": [
                    {
                        "failureOrigin": self.failure.origin,
                        "failureType": self.failure.failure_type,
                        "externalMessage": self.failure.message,
                        "internalMessage": f"io.airbyte.workers.exception: {self.failure.message}",
                        "timestamp": updated * 1000,
                    }
                ],
                "partialSuccess": False,
            }
        return {
            "job": {
                "id": self.id,
                "configType": "sync",
                "configId": self.connection.id,
                "createdAt": created,
                "updatedAt": updated,
                "status": self.status,
            },
            "attempts": [{"attempt": attempt, "logs": {"logLines": []}}],
        }


class AirbyteApi:
    """One sandbox's Airbyte (`handle` answers below `/airbyte`).

    `lake_root` is where the S3 destination writes (None: syncs fail, as a destination with no
    bucket would); `sync_seconds` is how long a sync runs at least, so that pollers see it
    running.
    """

    def __init__(
        self,
        institution: Institution,
        *,
        lake_root: str | None = None,
        sync_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.institution = institution
        self.lake_root = lake_root
        self.sync_seconds = sync_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._jobs: dict[int, Job] = {}
        self._next_job_id = 1
        self._generations: dict[str, int] = {}
        self._pending_failures: dict[str, Failure] = {}
        self._selected: dict[str, list[str]] = {
            c.id: list(c.default_streams) for c in CONNECTIONS.values()
        }
        self.requests_started: list[int] = []  # ids of jobs clients started through the API

    # -- test and operator controls -------------------------------------------------------------

    def connection(self, key: str) -> Connection:
        """A connection by id, name or app (`mitxonline`, `xpro`)."""
        for connection in CONNECTIONS.values():
            if key in (connection.id, connection.name, connection.app):
                return connection
        msg = f"no connection {key!r}; the sandbox's are: {', '.join(CONNECTIONS)}"
        raise KeyError(msg)

    def selected_streams(self, connection: str) -> list[str]:
        with self._lock:
            return list(self._selected[self.connection(connection).id])

    def select_stream(self, connection: str, stream: str) -> None:
        """Add a stream to a connection (what the UI's schema editor or a PATCH does)."""
        if stream not in STREAM_COLUMNS:
            raise KeyError(stream)
        with self._lock:
            chosen = self._selected[self.connection(connection).id]
            if stream not in chosen:
                chosen.append(stream)

    def fail_next_sync(
        self, connection: str, message: str, *, origin: str = "source", kind: str = "config_error"
    ) -> None:
        """The connection's next sync fails with Airbyte's `message`."""
        with self._lock:
            self._pending_failures[self.connection(connection).id] = Failure(message, origin, kind)

    def start_sync(self, connection: str, *, hold: bool = False, by: str = "scheduler") -> Job:
        """Start a sync as Airbyte's own scheduler would; `hold` keeps it running until
        `release(job_id)`. Raises `RuntimeError` when one is already running."""
        job = self._start(self.connection(connection), by)
        if job is None:
            msg = f"a sync is already running for {connection}"
            raise RuntimeError(msg)
        if not hold:
            job.release.set()
        return job

    def release(self, job_id: int) -> None:
        self._jobs[job_id].release.set()

    def cancel(self, job_id: int) -> Job:
        job = self._jobs[job_id]
        job.cancelled.set()
        job.release.set()
        job.done.wait(10)
        return job

    def job(self, job_id: int) -> Job:
        return self._jobs[job_id]

    def jobs(self, connection: str | None = None) -> list[Job]:
        with self._lock:
            jobs = list(self._jobs.values())
        if connection is not None:
            wanted = self.connection(connection).id
            jobs = [job for job in jobs if job.connection.id == wanted]
        return jobs

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until no sync is pending or running (releasing none)."""
        deadline = self._clock() + timeout
        for job in self.jobs():
            job.done.wait(max(0.0, deadline - self._clock()))

    # -- syncs ----------------------------------------------------------------------------------

    def _start(self, connection: Connection, by: str) -> Job | None:
        with self._lock:
            if any(
                job.connection.id == connection.id and job.status in RUNNING_STATES
                for job in self._jobs.values()
            ):
                return None
            job = Job(self._next_job_id, connection, datetime.now(UTC), by)
            self._next_job_id += 1
            self._jobs[job.id] = job
            failure = self._pending_failures.pop(connection.id, None)
            streams = list(self._selected[connection.id])
        thread = threading.Thread(
            target=self._run, args=(job, streams, failure), name=f"airbyte-job-{job.id}",
            daemon=True,
        )  # fmt: skip
        thread.start()
        return job

    def _set(self, job: Job, status: str, **changes: Any) -> None:
        with self._lock:
            job.status = status
            job.updated_at = datetime.now(UTC)
            if status not in RUNNING_STATES:
                job.ended_at = job.updated_at
            for name, value in changes.items():
                setattr(job, name, value)

    def _run(self, job: Job, streams: list[str], failure: Failure | None) -> None:
        try:
            self._set(job, "running")
            job.release.wait()  # a held sync runs until released (or cancelled)
            # Long enough for pollers to see it running, as a real sync is.
            deadline = time.monotonic() + self.sync_seconds
            while time.monotonic() < deadline and not job.cancelled.is_set():
                time.sleep(0.01)
            if job.cancelled.is_set():
                self._set(job, "cancelled")
                return
            if failure is not None:
                self._set(job, "failed", failure=failure)
                return
            if self.lake_root is None:
                self._set(
                    job,
                    "failed",
                    failure=Failure(
                        "Could not connect to the destination: no bucket configured (start the "
                        "sandbox with a lake root)",
                        "destination",
                    ),
                )
                return
            self._write(job, streams)
        except Exception as exc:  # a sandbox bug: a failed job says what, the server lives on
            self._set(job, "failed", failure=Failure(f"{type(exc).__name__}: {exc}", "airbyte"))
        finally:
            job.done.set()

    def _write(self, job: Job, streams: list[str]) -> None:
        assert self.lake_root is not None
        connection = job.connection
        tables = app_tables(self.institution, connection.app)
        with self._lock:
            generation = self._generations.get(connection.id, 0) + 1
            self._generations[connection.id] = generation
        extracted_at = datetime.now(UTC)
        written: list[WrittenStream] = []
        for stream in streams:
            if job.cancelled.is_set():
                self._set(job, "cancelled")
                return
            written.append(
                write_stream(
                    self.lake_root,
                    NAMESPACE,
                    connection.table_name(stream),
                    STREAM_COLUMNS[stream],
                    tables.rows[stream],
                    extracted_at=extracted_at,
                    sync_id=job.id,
                    generation_id=generation,
                    nulled=tables.nulled.get(stream),
                )
            )
        commit_overwrite(written)
        self._set(
            job,
            "succeeded",
            streams=written,
            records=sum(s.records for s in written),
            bytes=sum(s.bytes for s in written),
            generation_id=generation,
        )

    # -- HTTP -------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        route = "/".join(s for s in request.path.split("/") if s)
        if route == f"{PUBLIC}/health":
            return Response.json(200, {"available": True})
        if route == f"{PUBLIC}/applications/token":
            if request.method != "POST":
                return _problem(405, "method-not-allowed", "Use POST.")
            return self._token(request)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        base = f"{request.origin}/{AIRBYTE_PREFIX}/{PUBLIC}"
        if route.startswith(f"{CONFIG}/"):
            return self._config_api(request, route.removeprefix(f"{CONFIG}/"))
        if not route.startswith(f"{PUBLIC}/"):
            return _problem(404, "not-found", f"No route {request.path}.")
        parts = route.removeprefix(f"{PUBLIC}/").split("/")
        resource, item = parts[0], (parts[1] if len(parts) > 1 else None)
        if len(parts) > 2:
            return _problem(404, "not-found", f"No route {request.path}.")
        if resource == "jobs":
            return self._jobs_route(request, base, item)
        if resource == "connections":
            return self._connections_route(request, base, item)
        if request.method != "GET":
            return _problem(405, "method-not-allowed", f"{request.method} is not allowed here.")
        if resource == "workspaces":
            workspace = {"workspaceId": WORKSPACE_ID, "name": WORKSPACE_NAME,
                         "dataResidency": "auto"}  # fmt: skip
            if item is None:
                return self._page(request, f"{base}/workspaces", [workspace])
            if item != WORKSPACE_ID:
                return _problem(404, "not-found", f"Workspace {item} not found.")
            return Response.json(200, workspace)
        if resource == "sources":
            sources = [source_payload(s) for s in SOURCES.values()]
            if item is None:
                return self._page(request, f"{base}/sources", sources)
            found = [s for s in sources if s["sourceId"] == item]
            return (
                Response.json(200, found[0])
                if found
                else _problem(404, "not-found", f"Source {item} not found.")
            )
        if resource == "destinations":
            destination = destination_payload(self.lake_root)
            if item is None:
                return self._page(request, f"{base}/destinations", [destination])
            if item != DESTINATION_ID:
                return _problem(404, "not-found", f"Destination {item} not found.")
            return Response.json(200, destination)
        if resource == "streams" and item is None:
            return self._streams(request)
        return _problem(404, "not-found", f"No route {request.path}.")

    def _token(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _problem(400, "bad-request", "The body is not JSON.")
        if not (
            secrets.compare_digest(str(body.get("client_id", "")), CLIENT_ID)
            and secrets.compare_digest(str(body.get("client_secret", "")), CLIENT_SECRET)
        ):
            return _problem(401, "unauthorized", "Invalid client credentials.")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self._clock() + TOKEN_TTL_SECONDS
        return Response.json(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_SECONDS}
        )

    def _authenticate(self, request: Request) -> Response | None:
        scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            with self._lock:
                expires = self._tokens.get(value.strip())
            if expires is None:
                return _problem(401, "unauthorized", "Invalid access token.")
            if self._clock() >= expires:
                return _problem(401, "unauthorized", "Access token expired.")
            return None
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = password = ""
            if secrets.compare_digest(user, USERNAME) and secrets.compare_digest(
                password, PASSWORD
            ):
                return None
        return _problem(401, "unauthorized", "Authentication required.")

    def _page(self, request: Request, url: str, items: list[dict[str, Any]]) -> Response:
        try:
            limit = int(request.param("limit") or DEFAULT_LIMIT)
            offset = int(request.param("offset") or 0)
        except ValueError:
            return _problem(400, "bad-request", "limit and offset are integers.")
        if limit < 1 or limit > MAX_LIMIT or offset < 0:
            return _problem(400, "bad-request", f"limit is 1..{MAX_LIMIT}, offset >= 0.")

        def link(at: int) -> str:
            params = {k: v[0] for k, v in request.query.items() if k not in ("limit", "offset")}
            return f"{url}?{urlencode({**params, 'limit': limit, 'offset': at})}"

        return Response.json(
            200,
            {
                "data": items[offset : offset + limit],
                "next": link(offset + limit) if offset + limit < len(items) else None,
                "previous": link(max(0, offset - limit)) if offset > 0 else None,
            },
        )

    # connections -----------------------------------------------------------------------------

    def _connection_public(self, connection: Connection) -> dict[str, Any]:
        with self._lock:
            chosen = list(self._selected[connection.id])
        return {
            "connectionId": connection.id,
            "name": connection.name,
            "sourceId": connection.source_id,
            "destinationId": DESTINATION_ID,
            "workspaceId": WORKSPACE_ID,
            "status": "active",
            "schedule": {"scheduleType": "cron", "cronExpression": "0 0 */6 * * ?"},
            "namespaceDefinition": "custom_format",
            "namespaceFormat": NAMESPACE,
            "prefix": connection.prefix,
            "nonBreakingSchemaUpdatesBehavior": "ignore",
            "configurations": {
                "streams": [
                    {
                        "name": stream,
                        "syncMode": "full_refresh_overwrite",
                        "primaryKey": [[PRIMARY_KEYS[stream]]],
                    }
                    for stream in chosen
                ]
            },
        }

    def _connection_config(self, connection: Connection) -> dict[str, Any]:
        """The configuration API's `ConnectionRead`: every stream, selected or not."""
        with self._lock:
            chosen = set(self._selected[connection.id])
        return {
            "connectionId": connection.id,
            "name": connection.name,
            "namespaceDefinition": "customformat",
            "namespaceFormat": NAMESPACE,
            "prefix": connection.prefix,
            "sourceId": connection.source_id,
            "destinationId": DESTINATION_ID,
            "status": "active",
            "scheduleType": "cron",
            "syncCatalog": {
                "streams": [
                    {
                        "stream": {
                            "name": stream,
                            "namespace": "public",
                            "jsonSchema": stream_json_schema(stream),
                            "supportedSyncModes": ["full_refresh", "incremental"],
                            "sourceDefinedPrimaryKey": [[PRIMARY_KEYS[stream]]],
                        },
                        "config": {
                            "syncMode": "full_refresh",
                            "destinationSyncMode": "overwrite",
                            "primaryKey": [[PRIMARY_KEYS[stream]]],
                            "aliasName": stream,
                            "selected": stream in chosen,
                        },
                    }
                    for stream in STREAM_COLUMNS
                ]
            },
        }

    def _connections_route(self, request: Request, base: str, item: str | None) -> Response:
        if item is None:
            if request.method != "GET":
                return _problem(405, "method-not-allowed", "Use GET.")
            workspaces = _split(request.param("workspaceIds"))
            connections = [
                self._connection_public(c)
                for c in CONNECTIONS.values()
                if not workspaces or WORKSPACE_ID in workspaces
            ]
            return self._page(request, f"{base}/connections", connections)
        try:
            connection = self.connection(item)
        except KeyError:
            return _problem(404, "not-found", f"Connection {item} not found.")
        if request.method == "GET":
            return Response.json(200, self._connection_public(connection))
        if request.method != "PATCH":
            return _problem(405, "method-not-allowed", "Use GET or PATCH.")
        try:
            body = json.loads(request.body or b"{}")
            streams = [s["name"] for s in body["configurations"]["streams"]]
        except (ValueError, KeyError, TypeError):
            return _problem(400, "bad-request", "Expected configurations.streams[].name.")
        unknown = [s for s in streams if s not in STREAM_COLUMNS]
        if unknown:
            return _problem(400, "bad-request", f"Unknown stream(s): {', '.join(unknown)}.")
        with self._lock:
            self._selected[connection.id] = streams
        return Response.json(200, self._connection_public(connection))

    def _streams(self, request: Request) -> Response:
        source_id = request.param("sourceId")
        if source_id not in {s.id for s in SOURCES.values()}:
            return _problem(400, "bad-request", "sourceId is required and must exist.")
        return Response.json(
            200,
            [
                {
                    "streamName": stream,
                    "syncModes": ["full_refresh_overwrite", "incremental_append"],
                    "defaultCursorField": [],
                    "sourceDefinedCursorField": False,
                    "sourceDefinedPrimaryKey": [[PRIMARY_KEYS[stream]]],
                    "propertyFields": [[name] for name, _ in STREAM_COLUMNS[stream]],
                }
                for stream in STREAM_COLUMNS
            ],
        )

    # jobs ------------------------------------------------------------------------------------

    def _jobs_route(self, request: Request, base: str, item: str | None) -> Response:
        if item is None and request.method == "POST":
            try:
                body = json.loads(request.body or b"{}")
                connection = self.connection(str(body["connectionId"]))
            except (ValueError, KeyError, TypeError):
                return _problem(400, "bad-request", "connectionId names no connection.")
            if body.get("jobType", "sync") != "sync":
                return _problem(400, "bad-request", "The sandbox runs sync jobs only.")
            job = self._start(connection, "api")
            if job is None:
                return _problem(
                    409, "state-conflict", f"A sync is already running for: {connection.id}"
                )
            job.release.set()
            self.requests_started.append(job.id)
            return Response.json(200, job.public())
        if item is None:
            if request.method != "GET":
                return _problem(405, "method-not-allowed", "Use GET or POST.")
            return self._list_jobs(request, base)
        try:
            job = self._jobs[int(item)]
        except (ValueError, KeyError):
            return _problem(404, "not-found", f"Job {item} not found.")
        if request.method == "GET":
            return Response.json(200, job.public())
        if request.method == "DELETE":
            if job.status in RUNNING_STATES:
                self.cancel(job.id)
            return Response.json(200, job.public())
        return _problem(405, "method-not-allowed", "Use GET or DELETE.")

    def _list_jobs(self, request: Request, base: str) -> Response:
        jobs = self.jobs()
        connection_id = request.param("connectionId")
        if connection_id:
            jobs = [job for job in jobs if job.connection.id == connection_id]
        statuses = _split(request.param("status"))
        if statuses:
            jobs = [job for job in jobs if job.status in statuses]
        created_start = _parse_time(request.param("createdAtStart"))
        if created_start is not None:
            jobs = [job for job in jobs if job.created_at >= created_start]
        descending = (request.param("orderBy") or "createdAt|DESC").upper().endswith("DESC")
        jobs.sort(key=lambda job: job.id, reverse=descending)
        return self._page(request, f"{base}/jobs", [job.public() for job in jobs])

    def _config_api(self, request: Request, route: str) -> Response:
        if request.method != "POST":
            return _problem(405, "method-not-allowed", "The configuration API is POST only.")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _problem(400, "bad-request", "The body is not JSON.")
        if route == "connections/get":
            try:
                connection = self.connection(str(body.get("connectionId")))
            except KeyError:
                return _problem(404, "not-found", "Connection not found.")
            return Response.json(200, self._connection_config(connection))
        if route == "jobs/get":
            try:
                job = self._jobs[int(body.get("id"))]
            except (TypeError, ValueError, KeyError):
                return _problem(404, "not-found", "Job not found.")
            return Response.json(200, job.config())
        return _problem(404, "not-found", f"No configuration API route {route}.")


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part]


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
