"""The learning catalogs' HTTP endpoints, served under `/learn_sources/<source>/`.

Each source keeps its real API's shape (paths below are relative to `/learn_sources/`):

- `mit_climate/api/articles/?page=N&page_size=M` (default 10, max 100): MIT Climate Portal
  articles, DRF pages `{"count", "next", "previous", "results"}` with absolute `next` links.
- `mitpe/feeds/courses/`, `mitpe/feeds/programs/`: MIT Professional Education's JSON feeds (one
  JSON array each, no paging).
- `oll/courses.csv`: Open Learning Library's course list as CSV (`text/csv`, a header row).
- `sloan/oauth/token` (POST, OAuth2 client credentials in the form or HTTP Basic) then, with
  `Authorization: Bearer <token>`: `sloan/api/courses` and `sloan/api/course-offerings` (JSON
  arrays with Sloan's field names). No or a wrong token: 401.
- `ovs/api/v0/public/videos/?include_in_learn=true&page=N&page_size=M`: Open Video Studio's public
  videos (DRF pages of `{"key", "title", "updated_at"}`), and one detail call per video,
  `ovs/api/v0/public/videos/<key>/` (404 for a video that is gone).

Unknown paths answer 404 `{"detail"}`, wrong methods 405.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode

from ol_sandbox.data import Institution
from ol_sandbox.learn_sources.data import LearnSourcesData
from ol_sandbox.openedx.tokens import TokenStore
from ol_sandbox.routing import Request, Response

LEARN_SOURCES_PREFIX = "learn_sources"
# SANDBOX-ONLY client credentials of Sloan's API (also in dg_deployments/local/secrets.yaml).
SLOAN_CLIENT_ID = "sandbox-sloan"
SLOAN_CLIENT_SECRET = "sandbox-secret-sloan"  # noqa: S105  # pragma: allowlist secret
OLL_CSV_COLUMNS = (
    "readable_id",
    "title",
    "url",
    "image_url",
    "description",
    "topics",
    "year",
    "semester",
    "published",
)
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
_SLOAN_REALM = "sloan"
_OVS_VIDEOS = "api/v0/public/videos"


def _not_found() -> Response:
    return Response.json(404, {"detail": "Not found."})


def _method_not_allowed(allowed: str) -> Response:
    return Response.json(405, {"detail": "Method not allowed."}, {"Allow": allowed})


def drf_page(request: Request, url: str, items: list[dict[str, Any]]) -> Response:
    """One page of `items` as Django REST Framework pages them (`page`, `page_size`)."""
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


def oll_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OLL_CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column) or "" for column in OLL_CSV_COLUMNS})
    return buffer.getvalue().encode("utf-8")


class LearnSourcesApi:
    """Every learning catalog of one sandbox (`handle` answers below `/learn_sources`).

    `.data` is the `LearnSourcesData` tests change records through; `.tokens` the Sloan tokens.
    """

    def __init__(
        self,
        institution: Institution,
        *,
        token_ttl: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.data = LearnSourcesData.for_institution(institution)
        self.token_ttl = token_ttl
        self.tokens = TokenStore(clock)

    def handle(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        if not segments:
            return _not_found()
        source, route = segments[0], "/".join(segments[1:])
        base = f"{request.origin}/{LEARN_SOURCES_PREFIX}/{source}"
        handler = {
            "mit_climate": self._climate,
            "mitpe": self._mitpe,
            "oll": self._oll,
            "sloan": self._sloan,
            "ovs": self._ovs,
        }.get(source)
        if handler is None:
            return _not_found()
        return handler(request, route, base)

    # -- sources ------------------------------------------------------------------------------

    def _climate(self, request: Request, route: str, base: str) -> Response:
        if route != "api/articles":
            return _not_found()
        if request.method != "GET":
            return _method_not_allowed("GET")
        return drf_page(request, f"{base}/{route}/", self.data.list("mit_climate"))

    def _mitpe(self, request: Request, route: str, base: str) -> Response:
        feeds = {"feeds/courses": "mitpe_courses", "feeds/programs": "mitpe_programs"}
        if route not in feeds:
            return _not_found()
        if request.method != "GET":
            return _method_not_allowed("GET")
        return Response.json(200, self.data.list(feeds[route]))

    def _oll(self, request: Request, route: str, base: str) -> Response:
        if route != "courses.csv":
            return _not_found()
        if request.method != "GET":
            return _method_not_allowed("GET")
        return Response(
            200, oll_csv(self.data.list("oll")), {"Content-Type": "text/csv; charset=utf-8"}
        )

    def _sloan(self, request: Request, route: str, base: str) -> Response:
        if route == "oauth/token":
            if request.method != "POST":
                return _method_not_allowed("POST")
            return self._sloan_token(request)
        listings = {"api/courses": "sloan_courses", "api/course-offerings": "sloan_offerings"}
        if route not in listings:
            return _not_found()
        if request.method != "GET":
            return _method_not_allowed("GET")
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Response.json(401, {"error": "invalid_token", "message": "Missing token"})
        problem = self.tokens.check(token.strip(), _SLOAN_REALM)
        if problem:
            return Response.json(401, {"error": "invalid_token", "message": f"Token {problem}"})
        return Response.json(200, self.data.list(listings[route]))

    def _sloan_token(self, request: Request) -> Response:
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
            secrets.compare_digest(client_id, SLOAN_CLIENT_ID)
            and secrets.compare_digest(client_secret, SLOAN_CLIENT_SECRET)
        ):
            return Response.json(401, {"error": "invalid_client"})
        token = self.tokens.issue(_SLOAN_REALM, self.token_ttl)
        return Response.json(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)},
            {"Cache-Control": "no-store"},
        )

    def _ovs(self, request: Request, route: str, base: str) -> Response:
        if not route.startswith(_OVS_VIDEOS):
            return _not_found()
        if request.method != "GET":
            return _method_not_allowed("GET")
        rest = route[len(_OVS_VIDEOS) :].strip("/")
        videos = [
            video
            for video in self.data.list("ovs")
            if video.get("include_in_learn") or request.param("include_in_learn") != "true"
        ]
        if not rest:
            listed = [
                {"key": v["key"], "title": v["title"], "updated_at": v["updated_at"]}
                for v in videos
            ]
            return drf_page(request, f"{base}/{_OVS_VIDEOS}/", listed)
        for video in videos:
            if video["key"] == rest:
                return Response.json(200, video)
        return Response.json(404, {"detail": "No Video matches the given query."})
