"""The sandbox's HTTP server: one local server that mounts every emulated system's routes.

Stdlib only (`http.server` in a background thread) so it starts in milliseconds in tests and in
dev. Open edX deployments are served under `/openedx/<deployment>/` (`ol_sandbox.openedx`) and
Canvas under `/canvas/` (`ol_sandbox.canvas`) with the real paths, auth and payload shapes (see
docs/contracts.md); `.faults` injects throttling, errors, stalls, truncated bodies, connection
resets and changed payloads; `.requests` logs what was asked.
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

from ol_sandbox.canvas import CANVAS_PREFIX, CanvasApi, throttle_response
from ol_sandbox.data import Institution
from ol_sandbox.faults import PAYLOAD_KINDS, Fault, FaultConfig, FaultInjector, mutate_payload
from ol_sandbox.openedx import OPENEDX_PREFIX, OpenEdxApi
from ol_sandbox.routing import Request, Response, Routes


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
    ) -> None:
        """`fault_config=None` reads random faults from `OL_SANDBOX_FAULTS` (unset: none)."""
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
        self._mounts: dict[str, Routes] = {OPENEDX_PREFIX: self.openedx, CANVAS_PREFIX: self.canvas}

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
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes "slow" faults
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
