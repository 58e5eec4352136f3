"""The sandbox's HTTP server: one local server that mounts every emulated system's routes.

Stdlib only (`http.server` in a background thread) so it starts in milliseconds in tests and in
dev. Open edX deployments are served under `/openedx/<deployment>/` (`ol_sandbox.openedx`) and
Canvas under `/canvas/` (`ol_sandbox.canvas`) with the real paths, auth and payload shapes (see
docs/contracts.md), and the failure alerts' Slack (`/slack/`) and Sentry (`/sentry/`) endpoints
record what they receive, and so do healthchecks.io's ping URLs (`/healthchecks/`); `/vault/` is
Vault's dynamic database credentials for the legacy LMS database (`ol_sandbox.vault`), and each
legacy LMS's Studio course exports (`/studio/`, `ol_sandbox.studio`) and forum (`/forum/`,
`ol_sandbox.forum`). Airbyte's public API is under `/airbyte/` (`ol_sandbox.airbyte`): each
sync writes the MITx Online and xPro application tables into `lake_root` as its S3 destination.
The learning catalogs are under `/learn_sources/<source>/` (`ol_sandbox.learn_sources`) and MIT
Learn's signature-verifying webhook receiver under `/mit_learn/` (`ol_sandbox.learn_webhook`).
edX.org is two things: its catalog API under `/edxorg/` (`ol_sandbox.edxorg.catalog`) and its
delivery bucket, an S3-compatible endpoint of its own (moto's server, `.delivery_bucket`,
`.s3_url`) started and stopped with this server; `.faults` injects throttling, errors, stalls,
truncated bodies, connection resets and changed payloads; `.requests` logs what was asked.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ol_sandbox.airbyte import AIRBYTE_PREFIX, AirbyteApi
from ol_sandbox.canvas import CANVAS_PREFIX, CanvasApi, throttle_response
from ol_sandbox.data import Institution
from ol_sandbox.edxapp import LEGACY_DEPLOYMENTS
from ol_sandbox.edxorg import EDXORG_PREFIX, CatalogApi, DeliveryBucket
from ol_sandbox.faults import PAYLOAD_KINDS, Fault, FaultConfig, FaultInjector, mutate_payload
from ol_sandbox.forum import FORUM_PREFIX, ForumApi
from ol_sandbox.healthchecks import HEALTHCHECKS_PREFIX, HealthchecksApi
from ol_sandbox.learn_sources import LEARN_SOURCES_PREFIX, LearnSourcesApi
from ol_sandbox.learn_webhook import LEARN_PREFIX, CatalogWebhook
from ol_sandbox.openedx import OPENEDX_PREFIX, OpenEdxApi
from ol_sandbox.routing import Request, Response, Routes
from ol_sandbox.sentry import SENTRY_PREFIX, SentryIngest
from ol_sandbox.slack import SLACK_PREFIX, SlackApi
from ol_sandbox.studio import STUDIO_PREFIX, StudioApi
from ol_sandbox.vault import VAULT_PREFIX, DatabaseRole, VaultApi


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw. `status` is None when the connection was reset."""

    method: str
    path: str
    query: str
    status: int | None
    fault: str | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _HTTPServer
    server_version = "ol-sandbox/0.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the sandbox keeps a log
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        fault = sandbox.faults.next_fault(self.command, self.path)

        def record(status: int | None) -> None:
            sandbox.record(
                RequestRecord(
                    self.command, parts.path, parts.query, status, fault.kind if fault else None
                )
            )

        if fault is not None:
            if fault.kind == "reset":
                record(None)
                self._reset()
                return
            if fault.kind == "rate_limit":
                retry_after = _header_value(fault.opts.get("retry_after", 1))
                response = Response.json(
                    429,
                    {"detail": f"Request was throttled. Expected available in {retry_after}."},
                    {"Retry-After": retry_after},
                )
                record(response.status)
                self._send(response)
                return
            if fault.kind == "canvas_throttle":
                response = throttle_response()
                record(response.status)
                self._send(response)
                return
            if fault.kind == "server_error":
                response = _server_error(fault)
                record(response.status)
                self._send(response)
                return
            if fault.kind == "slow":
                sandbox.wait(float(fault.opts.get("seconds", 1.0)))

        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            origin=f"http://{self.headers.get('Host') or sandbox.authority}",
        )
        try:
            response = sandbox.route(request)
        except Exception as exc:  # a sandbox bug must show up as a 500, not a hung client
            response = Response.json(500, {"detail": f"sandbox error: {type(exc).__name__}"})
        if fault is not None and fault.kind in PAYLOAD_KINDS:
            response = _mutated(response, fault)
        record(response.status)
        if fault is not None and fault.kind == "truncate":
            self._send_truncated(response, str(fault.opts.get("mode", "length")))
        else:
            self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client went away (e.g. it timed out during a "slow" fault)
            self.close_connection = True

    def _send_truncated(self, response: Response, mode: str) -> None:
        cut = response.body[: len(response.body) // 2]
        announced = len(response.body) if mode == "length" else len(cut)
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(announced))
            if mode == "length":
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(cut)
            self.wfile.flush()
        except OSError:
            pass
        if mode == "length":
            self.close_connection = True

    def _reset(self) -> None:
        with contextlib.suppress(OSError):
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        self.close_connection = True
        self.connection.close()  # with SO_LINGER 0 the final close sends a TCP RST


def _header_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _mutated(response: Response, fault: Fault) -> Response:
    """A successful JSON answer with a payload fault applied (anything else is sent as it is)."""
    if not 200 <= response.status < 300 or not response.body:
        return response
    try:
        payload = json.loads(response.body)
    except ValueError:
        return response
    body = json.dumps(mutate_payload(payload, fault.kind, fault.opts), ensure_ascii=False)
    return Response(response.status, body.encode("utf-8"), dict(response.headers))


def _server_error(fault: Fault) -> Response:
    status = int(fault.opts.get("status", 500))
    phrase = HTTPStatus(status).phrase
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if "retry_after" in fault.opts:
        headers["Retry-After"] = _header_value(fault.opts["retry_after"])
    if status == 500:
        return Response.json(500, {"detail": "A server error occurred."}, headers)
    # gateways in front of the LMS answer with HTML, not JSON
    html = f"<html><head><title>{status} {phrase}</title></head><body>{phrase}</body></html>"
    return Response(status, html.encode(), headers)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


class SandboxServer:
    """The source sandbox: `with SandboxServer(Institution.generate()) as sandbox: sandbox.url`."""

    def __init__(
        self,
        institution: Institution,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token_ttl: float = 3600,
        fault_config: FaultConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        delivery_bucket: bool = True,
        s3_port: int = 0,
        lake_root: str | None = None,
    ) -> None:
        """`fault_config=None` reads random faults from `OL_SANDBOX_FAULTS` (unset: none).
        `delivery_bucket=False` leaves out edX.org's delivery bucket (moto's S3 server on
        `s3_port`), for tests that need only the HTTP APIs. `lake_root` is where the Airbyte
        emulator's S3 destination writes (None: its syncs fail, as with no bucket)."""
        self.institution = institution
        self.host = host
        self._requested_port = port
        self.faults = FaultInjector(
            fault_config if fault_config is not None else FaultConfig.from_env()
        )
        self._lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._stopping = threading.Event()
        self._stop_requested = False
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.openedx = OpenEdxApi(institution, token_ttl=token_ttl, clock=clock)
        self.canvas = CanvasApi(institution, clock=clock)
        # Where the failure alerts go: Slack's Web API and webhooks, Sentry's event ingest.
        self.slack = SlackApi()
        self.sentry = SentryIngest()
        self.edxorg = CatalogApi(institution, token_ttl=token_ttl, clock=clock)
        self.delivery_bucket: DeliveryBucket | None = (
            DeliveryBucket(institution, host, s3_port) if delivery_bucket else None
        )
        # The legacy LMS database's dynamic credentials (users created on MariaDB only when a
        # lease is asked for) and the healthchecks.io pings of its daily extraction.
        self.vault = VaultApi(
            [DatabaseRole(f"mariadb-{deployment}") for deployment in LEGACY_DEPLOYMENTS],
            clock=clock,
        )
        self.healthchecks = HealthchecksApi()
        # The legacy LMSes' Studio (OLX course exports) and discussion forum, for the IRx bundle.
        self.studio = StudioApi(institution, token_ttl=token_ttl, clock=clock)
        self.forum = ForumApi(institution)
        # The learning catalogs MIT Learn is fed from, and MIT Learn's webhook receiver.
        self.learn_sources = LearnSourcesApi(institution, token_ttl=token_ttl, clock=clock)
        self.learn_webhook = CatalogWebhook()
        # Airbyte: the MITx Online and xPro application databases, replicated into the lake.
        self.airbyte = AirbyteApi(institution, lake_root=lake_root)
        self._mounts: dict[str, Routes] = {
            OPENEDX_PREFIX: self.openedx,
            CANVAS_PREFIX: self.canvas,
            SLACK_PREFIX: self.slack,
            SENTRY_PREFIX: self.sentry,
            EDXORG_PREFIX: self.edxorg,
            VAULT_PREFIX: self.vault,
            HEALTHCHECKS_PREFIX: self.healthchecks,
            STUDIO_PREFIX: self.studio,
            FORUM_PREFIX: self.forum,
            LEARN_SOURCES_PREFIX: self.learn_sources,
            LEARN_PREFIX: self.learn_webhook,
            AIRBYTE_PREFIX: self.airbyte,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"ol-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self.vault.start()
        if self.delivery_bucket is not None:
            try:
                self.delivery_bucket.start()
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes "slow" faults
        self.vault.stop()  # revokes live leases: no sandbox database user outlives the sandbox
        if self.delivery_bucket is not None:
            self.delivery_bucket.stop()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (used by `python -m ol_sandbox serve`)."""
        self.start()
        try:
            while not self._stopping.wait(0.5) and not self._stop_requested:
                pass
        finally:
            self.stop()

    def request_stop(self) -> None:
        """Ask `serve_forever` to return; safe to call from a signal handler (sets a flag only)."""
        self._stop_requested = True

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            msg = "the sandbox server is not running; call start() first"
            raise RuntimeError(msg)
        return int(self._httpd.server_address[1])

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.authority}"

    def openedx_url(self, deployment: str) -> str:
        self.institution.deployment(deployment)  # KeyError naming the known ones
        return f"{self.url}/{OPENEDX_PREFIX}/{deployment}"

    @property
    def canvas_url(self) -> str:
        """Base URL of the Canvas emulator (the API is under `<canvas_url>/api/v1/`)."""
        return f"{self.url}/{CANVAS_PREFIX}"

    @property
    def edxorg_catalog_url(self) -> str:
        """Base URL of edX.org's catalog (Discovery) emulator (`<url>/api/v1/programs/`, ...)."""
        return f"{self.url}/{EDXORG_PREFIX}"

    @property
    def s3_url(self) -> str:
        """The S3-compatible endpoint serving edX.org's delivery bucket."""
        if self.delivery_bucket is None:
            raise RuntimeError("this sandbox was started without the delivery bucket")
        return self.delivery_bucket.url

    @property
    def vault_url(self) -> str:
        """The Vault emulator's address (hvac's `url`; the API is under `<vault_url>/v1/`)."""
        return f"{self.url}/{VAULT_PREFIX}"

    def learn_source_url(self, source: str) -> str:
        """Base URL of one learning catalog (`mit_climate`, `mitpe`, `oll`, `sloan`, `ovs`)."""
        return f"{self.url}/{LEARN_SOURCES_PREFIX}/{source}"

    @property
    def learn_url(self) -> str:
        """Base URL of MIT Learn's webhook receiver (`<learn_url>/api/v1/webhooks/...`)."""
        return f"{self.url}/{LEARN_PREFIX}"

    @property
    def airbyte_url(self) -> str:
        """Airbyte's base URL: public API `<url>/api/public/v1`, configuration `<url>/api/v1`."""
        return f"{self.url}/{AIRBYTE_PREFIX}"

    @property
    def healthchecks_url(self) -> str:
        """healthchecks.io's ping base (`<healthchecks_url>/<uuid>`, `/<uuid>/fail`, ...)."""
        return f"{self.url}/{HEALTHCHECKS_PREFIX}"

    def studio_url(self, deployment: str) -> str:
        """A legacy LMS's Studio (course exports; its LMS token endpoint too)."""
        return f"{self.url}/{STUDIO_PREFIX}/{deployment}"

    def forum_url(self, deployment: str) -> str:
        """A legacy LMS's discussion service (`<forum_url>/api/v1/threads`)."""
        return f"{self.url}/{FORUM_PREFIX}/{deployment}"

    @property
    def slack_api_url(self) -> str:
        """Base URL of the Slack Web API emulator (`<slack_api_url>/chat.postMessage`, ...)."""
        return f"{self.url}/{SLACK_PREFIX}/api"

    @property
    def slack_webhook_url(self) -> str:
        """The sandbox's one incoming-webhook URL."""
        return f"{self.url}/{SLACK_PREFIX}/webhook/{self.slack.webhook_path}"

    @property
    def sentry_dsn(self) -> str:
        """A DSN whose events this sandbox's Sentry ingest records."""
        return self.sentry.dsn(self.url)

    # -- request log --------------------------------------------------------------------------

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self._log.append(entry)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # -- Open edX tokens -----------------------------------------------------------------------

    @property
    def token_ttl(self) -> float:
        """Lifetime in seconds of the Open edX access tokens issued from now on."""
        return self.openedx.token_ttl

    @token_ttl.setter
    def token_ttl(self, seconds: float) -> None:
        self.openedx.token_ttl = seconds

    @property
    def tokens_issued(self) -> int:
        return self.openedx.tokens.issued

    def expire_tokens(self) -> None:
        """Make every issued token expired (clients must refresh)."""
        self.openedx.tokens.expire_all()

    # -- routing ------------------------------------------------------------------------------

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def route(self, request: Request) -> Response:
        """Answer `request` (its full path): `/health`, or the system mounted at its prefix."""
        segments = [s for s in request.path.split("/") if s]
        if segments == ["health"]:
            return Response.json(
                200, {"status": "ok", "openedx": sorted(self.institution.deployments)}
            )
        routes = self._mounts.get(segments[0]) if segments else None
        if routes is None:
            return Response.json(404, {"detail": "Not found."})
        return routes.handle(replace(request, path="/" + "/".join(segments[1:])))
