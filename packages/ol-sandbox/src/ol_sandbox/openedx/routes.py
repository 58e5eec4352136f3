"""Open edX HTTP routes: `OpenEdxApi`, the LMS REST endpoints served under `/openedx/<deployment>/`.

OAuth2 client-credentials tokens, course list pages, the course blocks API and cursor-paginated
enrollments; the JSON comes from `.payloads`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Callable
from urllib.parse import parse_qs, unquote_plus, urlencode

from ol_sandbox.data import DeploymentData, Institution
from ol_sandbox.openedx.payloads import blocks_payload, course_payload, enrollment_payload
from ol_sandbox.openedx.tokens import TokenStore, client_id_for, client_secret_for
from ol_sandbox.routing import Request, Response

OPENEDX_PREFIX = "openedx"
COURSES_DEFAULT_PAGE_SIZE = 10
COURSES_MAX_PAGE_SIZE = 100
ENROLLMENTS_DEFAULT_PAGE_SIZE = 100
ENROLLMENTS_MAX_PAGE_SIZE = 1000


def _not_found(detail: str = "Not found.") -> Response:
    return Response.json(404, {"detail": detail})


def _unauthorized(detail: str, code: str | None = None) -> Response:
    payload: dict[str, str] = {"detail": detail}
    if code:
        payload["error_code"] = code
    return Response.json(401, payload, {"WWW-Authenticate": 'JWT realm="api"'})


class OpenEdxApi:
    """The Open edX REST endpoints of one sandbox (all deployments of its `Institution`).

    `token_ttl` is the lifetime in seconds of the access tokens it issues; `tokens` holds them.
    """

    def __init__(
        self,
        institution: Institution,
        *,
        token_ttl: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.institution = institution
        self.token_ttl = token_ttl
        self.tokens = TokenStore(clock)

    def handle(self, request: Request) -> Response:
        """Answer one request; `request.path` is below the `/openedx` prefix."""
        segments = [s for s in request.path.split("/") if s]
        if not segments:
            return _not_found()
        deployment = self.institution.deployments.get(segments[0])
        if deployment is None:
            return _not_found(f"Unknown Open edX deployment {segments[0]!r}.")
        route = "/".join(segments[1:])
        base = f"{request.origin}/{OPENEDX_PREFIX}/{deployment.name}"
        routes: dict[str, tuple[str, Callable[[Request, DeploymentData, str], Response]]] = {
            "oauth2/access_token": ("POST", self.access_token),
            "api/courses/v1/courses": ("GET", self.courses),
            "api/courses/v2/blocks": ("GET", self.blocks),
            "api/enrollment/v1/enrollments": ("GET", self.enrollments),
        }
        if route not in routes:
            return _not_found()
        method, handler = routes[route]
        if request.method != method:
            return Response.json(
                405, {"detail": f'Method "{request.method}" not allowed.'}, {"Allow": method}
            )
        if method == "GET":
            denied = self.authenticate(request, deployment.name)
            if denied is not None:
                return denied
        return handler(request, deployment, base)

    # -- auth ---------------------------------------------------------------------------------

    def access_token(self, request: Request, deployment: DeploymentData, base: str) -> Response:
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
            return Response.json(400, {"error": "unsupported_grant_type"})
        if not (
            secrets.compare_digest(client_id, client_id_for(deployment.name))
            and secrets.compare_digest(client_secret, client_secret_for(deployment.name))
        ):
            return Response.json(401, {"error": "invalid_client"})
        token_type = "JWT" if (form.get("token_type") or [""])[0].lower() == "jwt" else "Bearer"
        ttl = self.token_ttl
        token = self.tokens.issue(deployment.name, ttl)
        expires_in: float | int = int(ttl) if float(ttl).is_integer() else ttl
        return Response.json(
            200,
            {
                "access_token": token,
                "token_type": token_type,
                "expires_in": expires_in,
                "scope": "read write",
            },
            {"Cache-Control": "no-store"},
        )

    def authenticate(self, request: Request, deployment: str) -> Response | None:
        header = request.headers.get("authorization", "").strip()
        if not header:
            return _unauthorized("Authentication credentials were not provided.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("jwt", "bearer") or not token.strip():
            return _unauthorized("Invalid Authorization header.")
        problem = self.tokens.check(token.strip(), deployment)
        if problem == "invalid":
            return _unauthorized("Invalid token.")
        if problem == "expired":
            return _unauthorized("Token has expired.", "token_expired")
        return None

    # -- courses ------------------------------------------------------------------------------

    def courses(self, request: Request, deployment: DeploymentData, base: str) -> Response:
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

        return Response.json(
            200,
            {
                "results": [course_payload(course, base) for course in chunk],
                "pagination": {
                    "next": page_url(page + 1) if page < num_pages else None,
                    "previous": page_url(page - 1) if page > 1 else None,
                    "count": len(runs),
                    "num_pages": num_pages,
                },
            },
        )

    # -- blocks -------------------------------------------------------------------------------

    def blocks(self, request: Request, deployment: DeploymentData, base: str) -> Response:
        course_id = request.param("course_id")
        if not course_id:
            return Response.json(400, {"course_id": ["This field is required."]})
        if not course_id.startswith("course-v1:"):
            return Response.json(400, {"course_id": [f"Invalid course key: {course_id}"]})
        if (request.param("all_blocks") or "").lower() != "true" and not request.param("username"):
            return Response.json(400, {"username": ["This field is required."]})
        course = deployment.course_run(course_id)
        if course is None:
            return _not_found(f"Course {course_id} not found.")
        depth_param = request.param("depth") or "0"
        if depth_param == "all":
            max_depth: int | None = None
        elif depth_param.isdigit():
            max_depth = int(depth_param)
        else:
            return Response.json(400, {"depth": ["Enter a whole number or 'all'."]})
        requested = {f.strip() for f in (request.param("requested_fields") or "").split(",")}
        return Response.json(
            200,
            blocks_payload(course, base, request.origin, requested, max_depth),
        )

    # -- enrollments --------------------------------------------------------------------------

    def enrollments(self, request: Request, deployment: DeploymentData, base: str) -> Response:
        course_id = request.param("course_id")
        username = request.param("username")
        page_size = _int_param(request, "page_size", ENROLLMENTS_DEFAULT_PAGE_SIZE)
        if page_size is None or page_size < 1:
            return Response.json(400, {"page_size": ["Enter a positive whole number."]})
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
        return Response.json(
            200,
            {
                "next": cursor_url(offset + page_size) if has_next else None,
                "previous": cursor_url(max(0, offset - page_size)) if offset > 0 else None,
                "results": [enrollment_payload(row) for row in chunk],
            },
        )


def _int_param(request: Request, name: str, default: int) -> int | None:
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
