"""Canvas HTTP routes: `CanvasApi`, the REST endpoints the sandbox serves under `/canvas/`.

Bearer-token auth, the leaky-bucket rate limit, `Link` pagination, string ids and the
asynchronous content export workflow; the JSON comes from `.payloads`, the files from `.exports`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from ol_sandbox.canvas.data import CanvasCourse, CanvasData, Submission
from ol_sandbox.canvas.exports import ContentExport, build_imscc
from ol_sandbox.canvas.payloads import (
    assignment_group_json,
    assignment_json,
    course_json,
    download_verifier,
    enrollment_json,
    export_json,
    file_json,
    folder_json,
    module_item_json,
    module_json,
    page_json,
    progress_json,
    section_json,
    stringify_ids,
    submission_json,
    user_json,
)
from ol_sandbox.data import Institution, iso_z
from ol_sandbox.routing import Request, Response

CANVAS_PREFIX = "canvas"
# SANDBOX-ONLY API token (also in dg_deployments/local/secrets.yaml under canvas/api).
CANVAS_SANDBOX_TOKEN = "sandbox-canvas-token"  # noqa: S105 - grants access to the sandbox only
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
STRING_IDS_MEDIA_TYPE = "application/json+canvas-string-ids"
# What Canvas's request throttle middleware answers (text/plain, not JSON).
THROTTLE_BODY = b"403 Forbidden (Rate Limit Exceeded)\n"
EXPORT_TYPES = ("common_cartridge", "qti", "zip")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def throttle_response() -> Response:
    """Canvas's answer when the token's bucket is full (also the `canvas_throttle` fault)."""
    return Response(
        403,
        THROTTLE_BODY,
        {
            "Content-Type": "text/plain; charset=utf-8",
            "X-Rate-Limit-Remaining": "0.0",
            "X-Request-Cost": "0",
        },
    )


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response.json(status, payload, headers, content_type=JSON_CONTENT_TYPE)


def _errors(http_status: int, message: str, **extra: Any) -> Response:
    return _json(http_status, {**extra, "errors": [{"message": message}]})


def _not_found() -> Response:
    return _errors(404, "The specified resource does not exist.")


def _forbidden() -> Response:
    return _errors(403, "user not authorized to perform that action", status="unauthorized")


_Handler = Callable[["_Call"], Response]


@dataclass(frozen=True)
class _Call(Request):
    """A request to one endpoint: `path` is below /canvas, e.g. "/api/v1/courses/10001"."""

    args: tuple[str, ...] = ()  # the endpoint's path parameters

    @property
    def site(self) -> str:
        """The emulator's root URL as the client addressed it."""
        return f"{self.origin}/{CANVAS_PREFIX}"

    def params(self, name: str) -> list[str]:
        values = self.query.get(name) or self.query.get(name.removesuffix("[]")) or []
        return [v for value in values for v in value.split(",") if v]

    def form(self) -> dict[str, list[str]]:
        content_type = self.headers.get("content-type", "")
        if "json" in content_type:
            try:
                payload = json.loads(self.body or b"{}")
            except ValueError:
                return {}
            return {k: [str(v)] for k, v in payload.items()} if isinstance(payload, dict) else {}
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)


class CanvasApi:
    """The Canvas REST API of the sandbox, served under `<sandbox>/canvas/`.

    Knobs (plain attributes, change them in tests): `export_polls` (GETs of an export before it
    finishes; 0 = finished at the first poll), `failed_export_courses` (course ids whose exports
    end `failed`), `forbidden_courses` (course ids every endpoint answers with a permission-denied
    403), `content_revisions` (course id → revision: bump it to "edit" a course so its export
    content changes), `inline_items_limit` (modules with more items omit `items`), and the leaky
    bucket: `rate_limit_capacity`, `rate_limit_leak_per_second`, `preflight_penalty`,
    `request_cost`.
    """

    def __init__(self, institution: Institution, *, clock: Callable[[], float] = time.monotonic):
        self.institution = institution
        self._clock = clock
        self._lock = threading.RLock()
        self._data: CanvasData | None = None
        self.token = CANVAS_SANDBOX_TOKEN
        self.export_polls = 2
        self.failed_export_courses: set[str] = set()
        self.forbidden_courses: set[str] = set()
        self.content_revisions: dict[str, int] = {}
        self.inline_items_limit = 6
        self.rate_limit_capacity = 700.0
        self.rate_limit_leak_per_second = 10.0
        self.preflight_penalty = 50.0
        self.request_cost = 0.5
        self._bucket = 0.0
        self._bucket_at = clock()
        self._exports: dict[int, ContentExport] = {}
        self._next_export = 1
        self.exports_started = 0
        self._routes: list[tuple[str, re.Pattern[str], _Handler]] = [
            ("GET", re.compile(r"/api/v1/accounts/([^/]+)/courses"), self._account_courses),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)"), self._course),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/sections"), self._sections),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/enrollments"), self._enrollments),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/users"), self._users),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/assignments"), self._assignments),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/assignment_groups"), self._groups),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/students/submissions"), self._submissions),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/modules"), self._modules),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/modules/([^/]+)/items"), self._items),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/pages"), self._pages),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/files"), self._files),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/folders"), self._folders),
            ("POST", re.compile(r"/api/v1/courses/([^/]+)/content_exports"), self._start_export),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/content_exports"), self._list_exports),
            ("GET", re.compile(r"/api/v1/courses/([^/]+)/content_exports/([^/]+)"), self._export),
            ("GET", re.compile(r"/api/v1/progress/([^/]+)"), self._progress),
        ]

    @property
    def data(self) -> CanvasData:
        with self._lock:
            if self._data is None:  # generated on first use: Open edX-only tests never pay
                self._data = CanvasData.for_institution(self.institution)
            return self._data

    # -- dispatch -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; `request.path` is below the `/canvas` prefix."""
        call = _Call(
            request.method.upper(),
            request.path,
            request.query,
            request.headers,
            request.body,
            request.origin,
        )
        download = re.fullmatch(r"/files/([^/]+)/download", call.path)
        if download:
            return self._download(call, download.group(1))
        found = self._match(call)
        if isinstance(found, Response):  # unknown path (404) or method (405)
            return found
        call, handler = found
        header = call.headers.get("authorization", "").strip()
        scheme, _, token = header.partition(" ")
        if not header:
            return _errors(401, "user authorization required", status="unauthenticated")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            response = _errors(401, "Invalid access token.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
            return response
        if not self._admit():
            return throttle_response()
        response = self._dispatch(call, handler)
        if STRING_IDS_MEDIA_TYPE in call.headers.get("accept", "") and response.headers.get(
            "Content-Type", ""
        ).startswith("application/json"):
            response.body = json.dumps(
                stringify_ids(json.loads(response.body)), ensure_ascii=False
            ).encode()
        self._charge(response)
        return response

    def _match(self, call: _Call) -> tuple[_Call, _Handler] | Response:
        """The endpoint `call` is for, with its path parameters filled in."""
        allowed: list[str] = []
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(call.path)
            if not match:
                continue
            if method != call.method:
                allowed.append(method)
                continue
            return replace(call, args=match.groups()), handler
        if allowed:
            return _errors(405, f"{call.method} not allowed", allowed=allowed)
        return _not_found()

    def _dispatch(self, call: _Call, handler: _Handler) -> Response:
        if "/courses/" in call.path:
            course = self.data.course(call.args[0])
            if course is None:
                return _not_found()
            if str(course.id) in self.forbidden_courses:
                return _forbidden()
        return handler(call)

    # -- the leaky bucket (per token; the sandbox has one token) -------------------------------

    def _leak(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._bucket_at)
        self._bucket = max(0.0, self._bucket - elapsed * self.rate_limit_leak_per_second)
        self._bucket_at = now

    def _admit(self) -> bool:
        with self._lock:
            self._leak()
            return self._bucket + self.preflight_penalty <= self.rate_limit_capacity

    def _charge(self, response: Response) -> None:
        with self._lock:
            self._leak()
            self._bucket += self.request_cost
            remaining = max(0.0, self.rate_limit_capacity - self._bucket)
        response.headers["X-Request-Cost"] = repr(float(self.request_cost))
        response.headers["X-Rate-Limit-Remaining"] = repr(round(remaining, 4))

    @property
    def rate_limit_remaining(self) -> float:
        with self._lock:
            self._leak()
            return max(0.0, self.rate_limit_capacity - self._bucket)

    def drain(self, amount: float) -> None:
        """Fill the bucket by `amount` (as if other clients of the token had been busy)."""
        with self._lock:
            self._leak()
            self._bucket = min(self.rate_limit_capacity, self._bucket + amount)

    # -- pagination ---------------------------------------------------------------------------

    def _paginate(
        self, call: _Call, items: Sequence[Any], *, bookmarks: bool = False
    ) -> tuple[Sequence[Any], dict[str, str]] | Response:
        """One page of `items` and its `Link` header (Canvas's page numbers or bookmarks)."""
        try:
            per_page = int(call.param("per_page") or DEFAULT_PER_PAGE)
        except ValueError:
            per_page = DEFAULT_PER_PAGE
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        raw = call.param("page") or ("first" if bookmarks else "1")
        if bookmarks and raw.startswith("bookmark:"):
            offset = _decode_bookmark(raw.removeprefix("bookmark:"))
            if offset is None:
                return _errors(400, "invalid bookmark")
        elif bookmarks and raw == "first":
            offset = 0
        else:
            try:
                number = max(1, int(raw))
            except ValueError:
                number = 1
            offset = (number - 1) * per_page
        chunk = items[offset : offset + per_page]
        url = f"{call.site}{call.path}"

        def link(page: str) -> str:
            params = [(k, v) for k, values in call.query.items() if k not in ("page", "per_page")
                      for v in values]  # fmt: skip
            params += [("page", page), ("per_page", str(per_page))]
            return f"{url}?{urlencode(params)}"

        def page_token(position: int) -> str:
            if bookmarks:
                return "first" if position == 0 else f"bookmark:{_encode_bookmark(position)}"
            return str(position // per_page + 1)

        links = [f'<{link(page_token(offset))}>; rel="current"']
        if offset + per_page < len(items):
            links.append(f'<{link(page_token(offset + per_page))}>; rel="next"')
        if offset > 0 and not bookmarks:
            links.append(f'<{link(page_token(max(0, offset - per_page)))}>; rel="prev"')
        links.append(f'<{link(page_token(0))}>; rel="first"')
        if not bookmarks:  # Canvas omits "last" when it paginates with bookmarks
            last = max(0, (len(items) - 1) // per_page) * per_page
            links.append(f'<{link(page_token(last))}>; rel="last"')
        return chunk, {"Link": ",".join(links)}

    def _list(
        self, call: _Call, items: Sequence[Any], render: Callable[[Any], Any], **kwargs: Any
    ) -> Response:
        page = self._paginate(call, items, **kwargs)
        if isinstance(page, Response):
            return page
        chunk, headers = page
        return _json(200, [render(item) for item in chunk], headers)

    def _course_of(self, call: _Call) -> CanvasCourse:
        course = self.data.course(call.args[0])
        assert course is not None  # checked by _dispatch
        return course

    # -- endpoints ----------------------------------------------------------------------------

    def _account_courses(self, call: _Call) -> Response:
        account = self.data.account(call.args[0])
        if account is None:
            return _not_found()
        scope = self.data.account_and_descendants(account.id)
        courses = [c for c in self.data.courses if c.account_id in scope]
        term = call.param("enrollment_term_id")
        if term:
            courses = [c for c in courses if str(c.enrollment_term_id) == term]
        states = call.params("state[]")
        if states and "all" not in states:
            courses = [c for c in courses if c.workflow_state in states]
        include = set(call.params("include[]"))
        return self._list(call, courses, lambda c: course_json(self.data, c, include, call.site))

    def _course(self, call: _Call) -> Response:
        include = set(call.params("include[]"))
        return _json(200, course_json(self.data, self._course_of(call), include, call.site))

    def _sections(self, call: _Call) -> Response:
        course = self._course_of(call)
        return self._list(call, course.sections, lambda s: section_json(course, s))

    def _enrollments(self, call: _Call) -> Response:
        course = self._course_of(call)
        states = set(call.params("state[]")) or {"active", "invited"}
        types = set(call.params("type[]"))
        rows = [
            e
            for e in course.enrollments
            if e.enrollment_state in states and (not types or e.type in types)
        ]
        return self._list(
            call,
            rows,
            lambda e: enrollment_json(self.data, course, e, call.site),
            bookmarks=True,
        )

    def _users(self, call: _Call) -> Response:
        course = self._course_of(call)
        states = set(call.params("enrollment_state[]")) or {"active", "invited"}
        ids = sorted({e.user_id for e in course.enrollments if e.enrollment_state in states})
        users = sorted((self.data.users[i] for i in ids), key=lambda u: (u.sortable_name, u.id))
        include = set(call.params("include[]"))
        return self._list(call, users, lambda u: user_json(u, include))

    def _assignments(self, call: _Call) -> Response:
        course = self._course_of(call)
        return self._list(call, course.assignments, lambda a: assignment_json(course, a, call.site))

    def _groups(self, call: _Call) -> Response:
        course = self._course_of(call)
        include = set(call.params("include[]"))

        return self._list(
            call,
            course.assignment_groups,
            lambda g: assignment_group_json(course, g, include, call.site),
        )

    def _submissions(self, call: _Call) -> Response:
        course = self._course_of(call)
        wanted = call.params("student_ids[]")
        if "all" in wanted:
            rows: Sequence[Submission] = course.submissions
        else:  # an admin token asking without student_ids gets its own (no) submissions
            ids = {str(i) for i in wanted}
            rows = [s for s in course.submissions if str(s.user_id) in ids]
        assignment_ids = set(call.params("assignment_ids[]"))
        if assignment_ids:
            rows = [s for s in rows if str(s.assignment_id) in assignment_ids]
        state = call.param("workflow_state")
        if state:
            rows = [s for s in rows if s.workflow_state == state]
        return self._list(
            call, rows, lambda s: submission_json(course, s, call.site), bookmarks=True
        )

    def _modules(self, call: _Call) -> Response:
        course = self._course_of(call)
        include = set(call.params("include[]"))
        return self._list(
            call,
            course.modules,
            lambda m: module_json(course, m, include, self.inline_items_limit, call.site),
        )

    def _items(self, call: _Call) -> Response:
        course = self._course_of(call)
        module = next((m for m in course.modules if str(m.id) == call.args[1]), None)
        if module is None:
            return _not_found()
        return self._list(call, module.items, lambda i: module_item_json(course, i, call.site))

    def _pages(self, call: _Call) -> Response:
        course = self._course_of(call)
        return self._list(call, course.pages, lambda p: page_json(course, p, call.site))

    def _files(self, call: _Call) -> Response:
        course = self._course_of(call)
        return self._list(call, course.files, lambda f: file_json(course, f, call.site))

    def _folders(self, call: _Call) -> Response:
        course = self._course_of(call)
        return self._list(call, course.folders, lambda f: folder_json(course, f, call.site))

    # -- content exports ----------------------------------------------------------------------

    def _start_export(self, call: _Call) -> Response:
        course = self._course_of(call)
        export_type = (call.form().get("export_type") or [""])[0]
        if export_type not in EXPORT_TYPES:
            return _errors(400, f"invalid export_type; expected one of {', '.join(EXPORT_TYPES)}")
        with self._lock:
            export_id = 50_000 + self._next_export
            self._next_export += 1
            self.exports_started += 1
            # Deterministic, but different for every export: the manifest's dates change.
            created = self.data.now + timedelta(minutes=export_id - 50_000)
            export = ContentExport(export_id, course.id, export_type, iso_z(created))
            self._exports[export_id] = export
        return _json(200, export_json(self.data, export, call.site))

    def _poll(self, export: ContentExport) -> None:
        with self._lock:
            if export.workflow_state in ("exported", "failed"):
                return
            export.polls += 1
            if export.polls < self.export_polls:
                export.workflow_state = "exporting"
                return
            if str(export.course_id) in self.failed_export_courses:
                export.workflow_state = "failed"
                return
            course = self.data.course(export.course_id)
            assert course is not None
            revision = self.content_revisions.get(str(course.id), 0)
            exported_at = datetime.fromisoformat(export.created_at)
            export.data = build_imscc(course, exported_at, revision)
            export.attachment_id = 60_000 + export.id - 50_000
            export.workflow_state = "exported"

    def _find_export(self, call: _Call, raw_id: str) -> ContentExport | None:
        export = self._exports.get(int(raw_id)) if raw_id.isdigit() else None
        if export is None or (call.args and str(export.course_id) != call.args[0]):
            return None
        return export

    def _export(self, call: _Call) -> Response:
        export = self._find_export(call, call.args[1])
        if export is None:
            return _not_found()
        self._poll(export)
        return _json(200, export_json(self.data, export, call.site))

    def _list_exports(self, call: _Call) -> Response:
        course = self._course_of(call)
        exports = [e for e in self._exports.values() if e.course_id == course.id]
        return self._list(call, exports, lambda e: export_json(self.data, e, call.site))

    def _progress(self, call: _Call) -> Response:
        export = self._exports.get(int(call.args[0])) if call.args[0].isdigit() else None
        if export is None:
            return _not_found()
        self._poll(export)
        return _json(200, progress_json(export, call.site))

    def _download(self, call: _Call, raw_id: str) -> Response:
        """File downloads are served with a `verifier` (no token needed), like Canvas."""
        if call.method != "GET":
            return _errors(405, f"{call.method} not allowed", allowed=["GET"])
        if not raw_id.isdigit():
            return _not_found()
        attachment_id = int(raw_id)
        with self._lock:
            export = next(
                (e for e in self._exports.values() if e.attachment_id == attachment_id), None
            )
        if export is None or export.data is None:
            return _not_found()
        if call.param("verifier") != download_verifier(attachment_id):
            return _errors(401, "Invalid verifier.")
        return Response(
            200,
            export.data,
            {
                "Content-Type": "application/zip",
                "Content-Disposition": f'attachment; filename="export-{export.id}.imscc"',
            },
        )


def _encode_bookmark(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset]).encode()).decode().rstrip("=")


def _decode_bookmark(token: str) -> int | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    if isinstance(payload, list) and payload and isinstance(payload[0], int) and payload[0] >= 0:
        return int(payload[0])
    return None
