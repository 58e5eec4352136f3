"""A local HTTP server emulating the platform's source APIs over a synthetic `Institution`.

Stdlib only (`http.server` in a background thread) so it starts in milliseconds in tests and in
dev. Open edX deployments are served under `/openedx/<deployment>/` and Canvas under `/canvas/`
(`ol_sandbox.canvas`) with the real paths, auth and payload shapes (see docs/contracts.md);
`.faults` injects throttling, errors, stalls, truncated bodies and connection resets;
`.requests` logs what was asked.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote_plus, urlencode, urlsplit

from ol_sandbox.canvas import CANVAS_PREFIX, CanvasApi, throttle_response
from ol_sandbox.data import CourseRun, DeploymentData, Institution
from ol_sandbox.faults import Fault, FaultConfig, FaultInjector

OPENEDX_PREFIX = "openedx"
COURSES_DEFAULT_PAGE_SIZE = 10
COURSES_MAX_PAGE_SIZE = 100
ENROLLMENTS_DEFAULT_PAGE_SIZE = 100
ENROLLMENTS_MAX_PAGE_SIZE = 1000
BLOCK_BASE_FIELDS = ("id", "block_id", "type", "display_name", "lms_web_url", "student_view_url")
BLOCK_OPTIONAL_FIELDS = ("children", "graded", "format", "due")
_MONTHS = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
           "Nov.", "Dec.")  # fmt: skip


def client_id_for(deployment: str) -> str:
    return f"sandbox-{deployment}"


def client_secret_for(deployment: str) -> str:
    return f"sandbox-secret-{deployment}"


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw. `status` is None when the connection was reset."""

    method: str
    path: str
    query: str
    status: int | None
    fault: str | None = None


@dataclass
class _Response:
    status: int
    body: bytes
    headers: dict[str, str]

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> _Response:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})


@dataclass(frozen=True)
class _Token:
    deployment: str
    expires_at: float


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    origin: str  # scheme://host[:port] as the client addressed us

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


def _not_found(detail: str = "Not found.") -> _Response:
    return _Response.json(404, {"detail": detail})


def _unauthorized(detail: str, code: str | None = None) -> _Response:
    payload: dict[str, str] = {"detail": detail}
    if code:
        payload["error_code"] = code
    return _Response.json(401, payload, {"WWW-Authenticate": 'JWT realm="api"'})


class _OpenEdxApi:
    """The Open edX REST endpoints of one sandbox (all deployments)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox

    def handle(self, request: _Request, segments: list[str]) -> _Response:
        if not segments:
            return _not_found()
        deployment = self.sandbox.institution.deployments.get(segments[0])
        if deployment is None:
            return _not_found(f"Unknown Open edX deployment {segments[0]!r}.")
        route = "/".join(segments[1:])
        base = f"{request.origin}/{OPENEDX_PREFIX}/{deployment.name}"
        routes: dict[str, tuple[str, Callable[[_Request, DeploymentData, str], _Response]]] = {
            "oauth2/access_token": ("POST", self.access_token),
            "api/courses/v1/courses": ("GET", self.courses),
            "api/courses/v2/blocks": ("GET", self.blocks),
            "api/enrollment/v1/enrollments": ("GET", self.enrollments),
        }
        if route not in routes:
            return _not_found()
        method, handler = routes[route]
        if request.method != method:
            return _Response.json(
                405, {"detail": f'Method "{request.method}" not allowed.'}, {"Allow": method}
            )
        if method == "GET":
            denied = self.authenticate(request, deployment.name)
            if denied is not None:
                return denied
        return handler(request, deployment, base)

    # -- auth ---------------------------------------------------------------------------------

    def access_token(self, request: _Request, deployment: DeploymentData, base: str) -> _Response:
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        client_id = (form.get("client_id") or [""])[0]
        client_secret = (form.get("client_secret") or [""])[0]
        auth_header = request.headers.get("authorization", "")
        if auth_header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth_header[6:].strip()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, client_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        grant_type = (form.get("grant_type") or [""])[0]
        if grant_type != "client_credentials":
            return _Response.json(400, {"error": "unsupported_grant_type"})
        if not (
            secrets.compare_digest(client_id, client_id_for(deployment.name))
            and secrets.compare_digest(client_secret, client_secret_for(deployment.name))
        ):
            return _Response.json(401, {"error": "invalid_client"})
        token_type = "JWT" if (form.get("token_type") or [""])[0].lower() == "jwt" else "Bearer"
        ttl = self.sandbox.token_ttl
        token = self.sandbox.issue_token(deployment.name, ttl)
        expires_in: float | int = int(ttl) if float(ttl).is_integer() else ttl
        return _Response.json(
            200,
            {
                "access_token": token,
                "token_type": token_type,
                "expires_in": expires_in,
                "scope": "read write",
            },
            {"Cache-Control": "no-store"},
        )

    def authenticate(self, request: _Request, deployment: str) -> _Response | None:
        header = request.headers.get("authorization", "").strip()
        if not header:
            return _unauthorized("Authentication credentials were not provided.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("jwt", "bearer") or not token.strip():
            return _unauthorized("Invalid Authorization header.")
        return self.sandbox.check_token(token.strip(), deployment)

    # -- courses ------------------------------------------------------------------------------

    def courses(self, request: _Request, deployment: DeploymentData, base: str) -> _Response:
        page_size = _int_param(request, "page_size", COURSES_DEFAULT_PAGE_SIZE)
        page = _int_param(request, "page", 1)
        if page_size is None or page is None or page < 1:
            return _not_found("Invalid page.")
        page_size = max(1, min(page_size, COURSES_MAX_PAGE_SIZE))
        runs = deployment.course_runs
        num_pages = max(1, -(-len(runs) // page_size))
        if page > num_pages:
            return _not_found("Invalid page.")
        chunk = runs[(page - 1) * page_size : page * page_size]
        url = f"{base}/api/courses/v1/courses/"

        def page_url(number: int) -> str:
            params = {k: v[0] for k, v in request.query.items() if k != "page"}
            params["page"] = str(number)
            return f"{url}?{urlencode(params)}"

        return _Response.json(
            200,
            {
                "results": [_course_payload(course, base) for course in chunk],
                "pagination": {
                    "next": page_url(page + 1) if page < num_pages else None,
                    "previous": page_url(page - 1) if page > 1 else None,
                    "count": len(runs),
                    "num_pages": num_pages,
                },
            },
        )

    # -- blocks -------------------------------------------------------------------------------

    def blocks(self, request: _Request, deployment: DeploymentData, base: str) -> _Response:
        course_id = request.param("course_id")
        if not course_id:
            return _Response.json(400, {"course_id": ["This field is required."]})
        if not course_id.startswith("course-v1:"):
            return _Response.json(400, {"course_id": [f"Invalid course key: {course_id}"]})
        if (request.param("all_blocks") or "").lower() != "true" and not request.param("username"):
            return _Response.json(400, {"username": ["This field is required."]})
        course = deployment.course_run(course_id)
        if course is None:
            return _not_found(f"Course {course_id} not found.")
        depth_param = request.param("depth") or "0"
        if depth_param == "all":
            max_depth: int | None = None
        elif depth_param.isdigit():
            max_depth = int(depth_param)
        else:
            return _Response.json(400, {"depth": ["Enter a whole number or 'all'."]})
        requested = {f.strip() for f in (request.param("requested_fields") or "").split(",")}
        return _Response.json(
            200,
            _blocks_payload(course, base, request.origin, requested, max_depth),
        )

    # -- enrollments --------------------------------------------------------------------------

    def enrollments(self, request: _Request, deployment: DeploymentData, base: str) -> _Response:
        course_id = request.param("course_id")
        username = request.param("username")
        page_size = _int_param(request, "page_size", ENROLLMENTS_DEFAULT_PAGE_SIZE)
        if page_size is None or page_size < 1:
            return _Response.json(400, {"page_size": ["Enter a positive whole number."]})
        page_size = min(page_size, ENROLLMENTS_MAX_PAGE_SIZE)
        rows = (
            deployment.enrollments.get(course_id, ()) if course_id else deployment.all_enrollments()
        )
        if username:
            rows = tuple(row for row in rows if row.username == username)
        cursor = request.param("cursor")
        offset = 0
        if cursor:
            decoded = _decode_cursor(cursor)
            if decoded is None:
                return _not_found("Invalid cursor")
            offset = decoded
        chunk = rows[offset : offset + page_size]
        url = f"{base}/api/enrollment/v1/enrollments/"

        def cursor_url(position: int) -> str:
            params = {k: v[0] for k, v in request.query.items() if k != "cursor"}
            params["cursor"] = _encode_cursor(position)
            return f"{url}?{urlencode(params)}"

        has_next = offset + page_size < len(rows)
        return _Response.json(
            200,
            {
                "next": cursor_url(offset + page_size) if has_next else None,
                "previous": cursor_url(max(0, offset - page_size)) if offset > 0 else None,
                "results": [
                    {
                        "created": row.created,
                        "mode": row.mode,
                        "is_active": row.is_active,
                        "user": row.username,
                        "course_id": row.course_id,
                    }
                    for row in chunk
                ],
            },
        )


def _int_param(request: _Request, name: str, default: int) -> int | None:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def _encode_cursor(offset: int) -> str:
    raw = json.dumps({"p": offset, "v": 1}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = payload["p"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None


def _start_display(iso: str) -> str:
    year, month, day = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
    return f"{_MONTHS[month - 1]} {day}, {year}"


def _course_payload(course: CourseRun, base: str) -> dict[str, Any]:
    image = f"/asset-v1:{course.course_id[len('course-v1:') :]}+type@asset+block@course_image.png"
    return {
        "blocks_url": f"{base}/api/courses/v2/blocks/?course_id={quote(course.course_id)}",
        "effort": None,
        "end": course.end,
        "enrollment_start": course.enrollment_start,
        "enrollment_end": course.enrollment_end,
        "id": course.course_id,
        "course_id": course.course_id,
        "media": {"course_image": {"uri": image}, "course_video": {"uri": None}},
        "name": course.name,
        "number": course.number,
        "org": course.org,
        "short_description": course.short_description,
        "start": course.start,
        "start_display": _start_display(course.start),
        "start_type": "timestamp",
        "pacing": course.pacing,
        "mobile_available": course.mobile_available,
        "hidden": course.hidden,
        "invitation_only": course.invitation_only,
    }


def _blocks_payload(
    course: CourseRun, base: str, origin: str, requested: set[str], max_depth: int | None
) -> dict[str, Any]:
    by_key = {block.usage_key: block for block in course.blocks}
    depth = {course.root_key: 0}
    for block in course.blocks:  # blocks are stored depth-first, so parents come first
        for child in block.children:
            depth[child] = depth[block.usage_key] + 1
    included = {k for k, d in depth.items() if max_depth is None or d <= max_depth}
    lms_root = origin  # the LMS serves courseware at the site root
    payload: dict[str, dict[str, Any]] = {}
    for key in (k for k in by_key if k in included):
        block = by_key[key]
        entry: dict[str, Any] = {
            "id": key,
            "block_id": block.block_id,
            "type": block.block_type,
            "display_name": block.display_name,
            "lms_web_url": f"{lms_root}/courses/{course.course_id}/jump_to/{key}",
            "student_view_url": f"{base}/xblock/{key}",
        }
        children = [c for c in block.children if c in included]
        if "children" in requested and children:  # like the real API: leaves have no key
            entry["children"] = children
        if "graded" in requested:
            entry["graded"] = block.graded
        if "format" in requested:
            entry["format"] = block.format
        if "due" in requested:
            entry["due"] = block.due
        payload[key] = entry
    return {"root": course.root_key, "blocks": payload}


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
                response = _Response.json(
                    429,
                    {"detail": f"Request was throttled. Expected available in {retry_after}."},
                    {"Retry-After": retry_after},
                )
                record(response.status)
                self._send(response)
                return
            if fault.kind == "canvas_throttle":
                throttled = throttle_response()
                response = _Response(throttled.status, throttled.body, throttled.headers)
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

        request = _Request(
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
            response = _Response.json(500, {"detail": f"sandbox error: {type(exc).__name__}"})
        record(response.status)
        if fault is not None and fault.kind == "truncate":
            self._send_truncated(response, str(fault.opts.get("mode", "length")))
        else:
            self._send(response)

    def _send(self, response: _Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client went away (e.g. it timed out during a "slow" fault)
            self.close_connection = True

    def _send_truncated(self, response: _Response, mode: str) -> None:
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


def _server_error(fault: Fault) -> _Response:
    status = int(fault.opts.get("status", 500))
    phrase = HTTPStatus(status).phrase
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if "retry_after" in fault.opts:
        headers["Retry-After"] = _header_value(fault.opts["retry_after"])
    if status == 500:
        return _Response.json(500, {"detail": "A server error occurred."}, headers)
    # gateways in front of the LMS answer with HTML, not JSON
    html = f"<html><head><title>{status} {phrase}</title></head><body>{phrase}</body></html>"
    return _Response(status, html.encode(), headers)


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
        self.token_ttl = token_ttl
        self.faults = FaultInjector(
            fault_config if fault_config is not None else FaultConfig.from_env()
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._log: list[RequestRecord] = []
        self._stopping = threading.Event()
        self._stop_requested = False
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._openedx = _OpenEdxApi(self)
        self.canvas = CanvasApi(institution, clock=clock)
        self.tokens_issued = 0

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

    # -- tokens -------------------------------------------------------------------------------

    def issue_token(self, deployment: str, ttl: float) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _Token(deployment, self._clock() + ttl)
            self.tokens_issued += 1
        return token

    def check_token(self, token: str, deployment: str) -> _Response | None:
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.deployment != deployment:
            return _unauthorized("Invalid token.")
        if self._clock() >= issued.expires_at:
            return _unauthorized("Token has expired.", "token_expired")
        return None

    def expire_tokens(self) -> None:
        """Make every issued token expired (clients must refresh)."""
        with self._lock:
            self._tokens = {t: _Token(v.deployment, float("-inf")) for t, v in self._tokens.items()}

    # -- routing ------------------------------------------------------------------------------

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def route(self, request: _Request) -> _Response:
        segments = [s for s in request.path.split("/") if s]
        if segments == ["health"]:
            return _Response.json(
                200, {"status": "ok", "openedx": sorted(self.institution.deployments)}
            )
        if segments and segments[0] == OPENEDX_PREFIX:
            return self._openedx.handle(request, segments[1:])
        if segments and segments[0] == CANVAS_PREFIX:
            answer = self.canvas.handle(
                request.method,
                "/".join(segments[1:]),
                request.query,
                request.headers,
                request.body,
                request.origin,
            )
            return _Response(answer.status, answer.body, answer.headers)
        return _not_found()
