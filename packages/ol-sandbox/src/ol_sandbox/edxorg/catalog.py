"""edX.org's catalog (the Discovery service) for the sandbox: MIT's programs, courses and runs.

Served under `/edxorg/` with Discovery's paths and shapes: `POST oauth2/v1/access_token` (OAuth2
client credentials, form or HTTP Basic; `token_type=jwt` gives a JWT-type token), then with
`Authorization: JWT|Bearer <token>`: `GET api/v1/programs/`, `api/v1/courses/` (each course with
its `course_runs`) and `api/v1/course_runs/`, every list paginated with `page`/`page_size`
(default 20, max 100) and an absolute `next` link (`{"count", "next", "previous", "results"}`).
Course-run keys are the course ids as edX writes them (legacy ids stay legacy).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode

from ol_sandbox.data import Institution
from ol_sandbox.edxorg.data import ORG, EdxorgCourse, EdxorgData, stable_int
from ol_sandbox.openedx.tokens import TokenStore
from ol_sandbox.routing import Request, Response

EDXORG_PREFIX = "edxorg"
CATALOG_CLIENT_ID = "sandbox-edxorg-catalog"
CATALOG_CLIENT_SECRET = "sandbox-secret-edxorg-catalog"  # noqa: S105  # pragma: allowlist secret
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_REALM = "edxorg"


def _uuid(text: str) -> str:
    digest = f"{stable_int(text, 1 << 128):032x}"
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def course_key(course: EdxorgCourse) -> str:
    """Discovery's course key (`MITx+6.002x`), shared by every run of the course."""
    return f"{course.run.org}+{course.run.number}"


def course_run_payload(course: EdxorgCourse) -> dict[str, Any]:
    run = course.run
    return {
        "key": course.course_id,
        "uuid": _uuid(f"run:{course.course_id}"),
        "course": course_key(course),
        "title": run.name,
        "short_description": run.short_description,
        "start": run.start,
        "end": run.end,
        "enrollment_start": run.enrollment_start,
        "enrollment_end": run.enrollment_end,
        "pacing_type": "self_paced" if run.pacing == "self" else "instructor_paced",
        "type": "verified",
        "status": "published" if course.site == "prod" else "unpublished",
        "availability": "Archived" if course.legacy else "Current",
        "is_enrollable": not course.legacy,
        "content_language": "en-us",
        "weeks_to_complete": 10 + stable_int(course.course_id) % 6,
        "marketing_url": f"https://www.edx.org/learn/{run.number.lower()}",
        "modified": run.start,
    }


def course_payloads(data: EdxorgData) -> list[dict[str, Any]]:
    courses: dict[str, dict[str, Any]] = {}
    for course in data.courses:
        if course.ccx_of is not None:
            continue  # a CCX is not in the catalog
        key = course_key(course)
        entry = courses.setdefault(
            key,
            {
                "key": key,
                "uuid": _uuid(f"course:{key}"),
                "title": course.run.name,
                "short_description": course.run.short_description,
                "owners": [{"key": ORG, "name": "Massachusetts Institute of Technology"}],
                "level_type": ("Introductory", "Intermediate", "Advanced")[stable_int(key) % 3],
                "marketing_url": f"https://www.edx.org/learn/{course.run.number.lower()}",
                "modified": course.run.start,
                "course_runs": [],
            },
        )
        entry["course_runs"].append(course_run_payload(course))
    return list(courses.values())


def program_payloads(data: EdxorgData) -> list[dict[str, Any]]:
    courses = course_payloads(data)
    halves = [courses[: max(1, len(courses) // 2)], courses[max(1, len(courses) // 2) :]]
    titles = ("Statistics and Data Science", "Principles of Manufacturing")
    programs = []
    for title, members in zip(titles, halves, strict=True):
        if not members:
            continue
        programs.append(
            {
                "uuid": _uuid(f"program:{title}"),
                "title": title,
                "subtitle": f"A MicroMasters® program in {title.lower()}",
                "type": "MicroMasters",
                "status": "active",
                "marketing_slug": title.lower().replace(" ", "-"),
                "authoring_organizations": [{"key": ORG}],
                "courses": [
                    {
                        "key": c["key"],
                        "title": c["title"],
                        "course_runs": [{"key": r["key"]} for r in c["course_runs"]],
                    }
                    for c in members
                ],
                "data_modified_timestamp": "2026-01-02T00:00:00Z",
            }
        )
    return programs


class CatalogApi:
    """The Discovery endpoints of one sandbox (`handle` answers below `/edxorg`)."""

    def __init__(
        self,
        institution: Institution,
        *,
        token_ttl: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.data = EdxorgData.for_institution(institution)
        self.token_ttl = token_ttl
        self.tokens = TokenStore(clock)

    def handle(self, request: Request) -> Response:
        route = "/".join(s for s in request.path.split("/") if s)
        base = f"{request.origin}/{EDXORG_PREFIX}"
        if route == "oauth2/v1/access_token":
            if request.method != "POST":
                return Response.json(405, {"detail": "Method not allowed."}, {"Allow": "POST"})
            return self.access_token(request)
        listings: dict[str, Callable[[], list[dict[str, Any]]]] = {
            "api/v1/programs": lambda: program_payloads(self.data),
            "api/v1/courses": lambda: course_payloads(self.data),
            "api/v1/course_runs": lambda: [
                course_run_payload(c) for c in self.data.courses if c.ccx_of is None
            ],
        }
        if route not in listings:
            return Response.json(404, {"detail": "Not found."})
        if request.method != "GET":
            return Response.json(405, {"detail": "Method not allowed."}, {"Allow": "GET"})
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        return self.page(request, f"{base}/{route}/", listings[route]())

    def access_token(self, request: Request) -> Response:
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        client_id = (form.get("client_id") or [""])[0]
        client_secret = (form.get("client_secret") or [""])[0]
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, client_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if (form.get("grant_type") or [""])[0] != "client_credentials":
            return Response.json(400, {"error": "unsupported_grant_type"})
        if not (
            secrets.compare_digest(client_id, CATALOG_CLIENT_ID)
            and secrets.compare_digest(client_secret, CATALOG_CLIENT_SECRET)
        ):
            return Response.json(401, {"error": "invalid_client"})
        token = self.tokens.issue(_REALM, self.token_ttl)
        token_type = "JWT" if (form.get("token_type") or [""])[0].lower() == "jwt" else "Bearer"
        return Response.json(
            200,
            {
                "access_token": token,
                "token_type": token_type,
                "expires_in": int(self.token_ttl),
                "scope": "read",
            },
            {"Cache-Control": "no-store"},
        )

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() not in ("jwt", "bearer") or not token.strip():
            return Response.json(401, {"detail": "Authentication credentials were not provided."})
        problem = self.tokens.check(token.strip(), _REALM)
        if problem == "expired":
            return Response.json(
                401, {"detail": "Token has expired.", "error_code": "token_expired"}
            )
        if problem:
            return Response.json(401, {"detail": "Invalid token."})
        return None

    def page(self, request: Request, url: str, items: list[dict[str, Any]]) -> Response:
        try:
            size = int(request.param("page_size") or DEFAULT_PAGE_SIZE)
            number = int(request.param("page") or 1)
        except ValueError:
            return Response.json(404, {"detail": "Invalid page."})
        size = max(1, min(size, MAX_PAGE_SIZE))
        pages = max(1, -(-len(items) // size))
        if number < 1 or number > pages:
            return Response.json(404, {"detail": "Invalid page."})

        def link(page: int) -> str:
            params = {k: v[0] for k, v in request.query.items() if k != "page"}
            params["page"] = str(page)
            return f"{url}?{urlencode(params)}"

        return Response.json(
            200,
            {
                "count": len(items),
                "next": link(number + 1) if number < pages else None,
                "previous": link(number - 1) if number > 1 else None,
                "results": items[(number - 1) * size : number * size],
            },
        )
