"""Canvas LMS REST API client, its client factory resource and the content hash of exports.

Canvas throttles with a per-token leaky bucket and answers a full bucket with
`403 Forbidden (Rate Limit Exceeded)` rather than 429, so `CanvasClient` teaches the shared
`ApiClient` that this 403 (and 429, sent by some proxies) means "back off and retry" while any
other 403 is a permission problem worth reporting, not retrying. It also slows down before the
bucket runs dry, using the `X-Rate-Limit-Remaining` header Canvas sends on every response.

Course content exports are asynchronous (start, poll, download); `imscc_content_hash` gives an
export an identity that ignores the manifest's timestamps, so an unchanged course is not stored
again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import httpx
from pydantic import Field

from ol_orchestrate.lib.http import (
    ApiClient,
    ApiError,
    BearerTokenAuth,
    RetryBudgetExhaustedError,
    redact_url,
)
from ol_orchestrate.resources.secrets import SecretsResource

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_PER_PAGE = 100
STRING_IDS_MEDIA_TYPE = "application/json+canvas-string-ids"
# Enrollment states to list: Canvas returns only active and invited ones unless asked.
ENROLLMENT_STATES = ("active", "invited", "creation_pending", "inactive", "completed", "rejected")
EXPORT_FINISHED = "exported"
EXPORT_FAILED = "failed"
MANIFEST_NAME = "imsmanifest.xml"


# -- errors ------------------------------------------------------------------------------------


class CanvasPermissionError(ApiError):
    """Canvas answered 403 for a reason other than throttling: the token may not do this."""


class CanvasExportError(RuntimeError):
    """A content export ended `failed` (or never finished); carries the export's own state."""

    def __init__(
        self, message: str, *, course_id: str, export_id: str, workflow_state: str | None
    ) -> None:
        super().__init__(message)
        self.course_id = course_id
        self.export_id = export_id
        self.workflow_state = workflow_state


class CanvasExportTimeoutError(CanvasExportError):
    """A content export did not reach a final state within the allowed time."""


# -- the client --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletedExport:
    """A finished content export: the API's export object and the downloaded `.imscc`."""

    export: dict[str, Any]
    data: bytes

    @property
    def export_id(self) -> str:
        return str(self.export["id"])


def _is_canvas_id(value: Any) -> bool:
    """An id Canvas could have sent: an integer, or a string of digits (string ids)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


def _float_header(response: httpx.Response, name: str) -> float | None:
    try:
        return float(response.headers[name])
    except (KeyError, ValueError):
        return None


class CanvasClient(ApiClient):
    """Client for one Canvas instance (`base_url` without `/api/v1`), authenticated by a token.

    - Pagination follows the `Link` header's rel="next" exactly, with `per_page` (max 100).
    - Throttling: 429 and 403 "Rate Limit Exceeded" are retried with backoff; other 403s raise
      `CanvasPermissionError` naming the endpoint, at once.
    - When `X-Rate-Limit-Remaining` falls below `rate_limit_threshold`, the client pauses
      `deficit / rate_limit_leak_per_second` seconds (at most `max_slowdown`), the time Canvas's
      bucket needs to drain back to the threshold. `sleep`/`clock` are injectable for tests.
    - `string_ids=True` asks Canvas for string ids (`application/json+canvas-string-ids`); the
      row builders accept either.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        per_page: int = MAX_PER_PAGE,
        string_ids: bool = False,
        rate_limit_threshold: float = 100.0,
        rate_limit_leak_per_second: float = 10.0,
        max_slowdown: float = 30.0,
        clock: Any = time.monotonic,
        **api_client_kwargs: Any,
    ) -> None:
        headers = dict(api_client_kwargs.pop("headers", None) or {})
        if string_ids:
            headers["Accept"] = STRING_IDS_MEDIA_TYPE
        super().__init__(
            base_url.rstrip("/"), BearerTokenAuth(token), headers=headers, **api_client_kwargs
        )
        self.per_page = max(1, min(per_page, MAX_PER_PAGE))
        self.rate_limit_threshold = rate_limit_threshold
        self.rate_limit_leak_per_second = rate_limit_leak_per_second
        self.max_slowdown = max_slowdown
        self._clock = clock
        self.rate_limit_remaining: float | None = None
        self.last_request_cost: float | None = None
        self.slowdowns: list[float] = []  # pauses taken before the bucket ran dry
        hooks = self._http.event_hooks
        hooks["response"] = [*hooks.get("response", []), self._observe_rate_limit]
        self._http.event_hooks = hooks

    # -- throttling and errors ---------------------------------------------------------------

    def is_throttled(self, response: httpx.Response) -> bool:
        if response.status_code == 429:
            return True
        if response.status_code != 403:
            return False
        if "rate limit exceeded" in response.text.lower():
            return True
        remaining = _float_header(response, "X-Rate-Limit-Remaining")
        return remaining is not None and remaining <= 0 and "unauthorized" not in response.text

    def _observe_rate_limit(self, response: httpx.Response) -> None:
        """Runs for every response (retries and pages included) before its body is read."""
        self.last_request_cost = _float_header(response, "X-Request-Cost")
        remaining = _float_header(response, "X-Rate-Limit-Remaining")
        self.rate_limit_remaining = remaining
        if remaining is None or response.status_code in (403, 429):
            return  # a throttled request is retried with backoff instead
        deficit = self.rate_limit_threshold - remaining
        if deficit <= 0:
            return
        pause = min(self.max_slowdown, deficit / max(self.rate_limit_leak_per_second, 1e-9))
        logger.info(
            "Canvas rate limit: %.1f remaining (threshold %.1f); pausing %.2fs",
            remaining,
            self.rate_limit_threshold,
            pause,
        )
        self.slowdowns.append(pause)
        self._sleep(pause)

    def _send(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        # Every request, page and download goes through here: turn a non-throttling 403 into
        # a permission error (the base client raised it without retrying).
        try:
            return super()._send(method, path, *args, **kwargs)
        except RetryBudgetExhaustedError:
            raise
        except ApiError as error:
            if error.status != 403:
                raise
            msg = (
                f"Canvas denied {error.method} {error.endpoint} (HTTP 403"
                f"{': ' + error.detail if error.detail else ''}); the API token's user lacks "
                "permission for this resource (not retried)"
            )
            raise CanvasPermissionError(
                msg,
                method=error.method,
                endpoint=error.endpoint,
                status=403,
                detail=error.detail,
            ) from None

    def _detail(self, response: httpx.Response) -> str | None:
        try:
            payload = response.json()
        except ValueError:
            return super()._detail(response)
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if isinstance(errors, list):
            messages = [str(e.get("message")) for e in errors if isinstance(e, dict)]
            text = self._scrub("; ".join(m for m in messages if m))
            if text:
                return text[:200]
        return super()._detail(response)

    # -- listing -----------------------------------------------------------------------------

    def _list(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        query = {**(params or {}), "per_page": self.per_page}
        yield from self.paginate(f"{API_PREFIX}{path}", query, style="link", results_key=None)

    def iter_account_courses(
        self, account_id: str | int, *, enrollment_term_id: str | int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Courses of an account and its sub-accounts (optionally of one enrollment term)."""
        params: dict[str, Any] = {"include[]": ["term"]}
        if enrollment_term_id is not None:
            params["enrollment_term_id"] = str(enrollment_term_id)
        yield from self._list(f"/accounts/{account_id}/courses", params)

    def get_course(self, course_id: str | int) -> dict[str, Any]:
        """Course details with its term and account."""
        payload = self.get_json(
            f"{API_PREFIX}/courses/{course_id}", {"include[]": ["term", "account"]}
        )
        return payload if isinstance(payload, dict) else {}

    def iter_sections(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        yield from self._list(f"/courses/{course_id}/sections")

    def iter_enrollments(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        """Every enrollment in the course, in every state (Canvas defaults to active+invited)."""
        yield from self._list(
            f"/courses/{course_id}/enrollments", {"state[]": list(ENROLLMENT_STATES)}
        )

    def iter_users(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        """Users with an enrollment in the course (any state), with their email."""
        yield from self._list(
            f"/courses/{course_id}/users",
            {"include[]": ["email"], "enrollment_state[]": list(ENROLLMENT_STATES)},
        )

    def iter_assignments(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        yield from self._list(f"/courses/{course_id}/assignments")

    def iter_assignment_groups(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        yield from self._list(f"/courses/{course_id}/assignment_groups")

    def iter_submissions(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        """Every student's submission (placeholders for unsubmitted work included)."""
        yield from self._list(
            f"/courses/{course_id}/students/submissions", {"student_ids[]": ["all"]}
        )

    def iter_modules(
        self, course_id: str | int, *, include_items: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Modules; with `include_items`, each module's `items` when Canvas inlines them."""
        params = {"include[]": ["items"]} if include_items else {}
        yield from self._list(f"/courses/{course_id}/modules", params)

    def iter_module_items(
        self, course_id: str | int, module_id: str | int
    ) -> Iterator[dict[str, Any]]:
        yield from self._list(f"/courses/{course_id}/modules/{module_id}/items")

    def iter_modules_with_items(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        """Modules with their complete `items`: Canvas may omit inline items for big modules
        ("if it deems them too numerous"), so those are fetched from the items endpoint.

        A module record without a usable id (missing, or not an id: an object, a list) is
        yielded as it came, with no items fetched: there is no endpoint to ask, and the modules
        table quarantines the record."""
        for module in self.iter_modules(course_id, include_items=True):
            if isinstance(module, dict) and module.get("items") is None:
                if _is_canvas_id(module.get("id")):
                    items = list(self.iter_module_items(course_id, module["id"]))
                    module = {**module, "items": items}
                else:
                    logger.warning(
                        "Canvas course %s: a module without a usable id (%r); its items cannot "
                        "be listed",
                        course_id,
                        module.get("id"),
                    )
            yield module

    def iter_wiki_pages(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        """The course's pages (named so as not to shadow `ApiClient.iter_pages`)."""
        yield from self._list(f"/courses/{course_id}/pages")

    def iter_files(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        yield from self._list(f"/courses/{course_id}/files")

    def iter_folders(self, course_id: str | int) -> Iterator[dict[str, Any]]:
        yield from self._list(f"/courses/{course_id}/folders")

    # -- content exports ---------------------------------------------------------------------

    def start_content_export(
        self, course_id: str | int, export_type: str = "common_cartridge"
    ) -> dict[str, Any]:
        """Start an export; returns the export object (`workflow_state` "created")."""
        payload = self.post_json(
            f"{API_PREFIX}/courses/{course_id}/content_exports", data={"export_type": export_type}
        )
        if not isinstance(payload, dict) or "id" not in payload:
            endpoint = redact_url(self.url_for(f"{API_PREFIX}/courses/{course_id}/content_exports"))
            msg = f"POST {endpoint}: Canvas did not return a content export"
            raise ApiError(msg, method="POST", endpoint=endpoint, status=200)
        return payload

    def get_content_export(self, course_id: str | int, export_id: str | int) -> dict[str, Any]:
        payload = self.get_json(f"{API_PREFIX}/courses/{course_id}/content_exports/{export_id}")
        return payload if isinstance(payload, dict) else {}

    def wait_for_export(
        self,
        course_id: str | int,
        export_id: str | int,
        timeout_s: float = 3600.0,
        poll_interval_s: float = 10.0,
    ) -> dict[str, Any]:
        """Poll an export until it is `exported`; bounded by `timeout_s`.

        Polls at once, then at growing intervals (0.5 s doubling, at most `poll_interval_s`).
        A `failed` export raises `CanvasExportError`, running out of time
        `CanvasExportTimeoutError`; both name the course, the export and its workflow_state.
        """
        deadline = self._clock() + timeout_s
        delay = min(0.5, poll_interval_s)
        state: str | None = None
        while True:
            export = self.get_content_export(course_id, export_id)
            state = export.get("workflow_state")
            if state == EXPORT_FINISHED:
                return export
            if state == EXPORT_FAILED:
                msg = (
                    f"Canvas content export {export_id} of course {course_id} ended with "
                    f"workflow_state {state!r}"
                )
                raise CanvasExportError(
                    msg, course_id=str(course_id), export_id=str(export_id), workflow_state=state
                )
            remaining = deadline - self._clock()
            if remaining <= 0:
                msg = (
                    f"Canvas content export {export_id} of course {course_id} did not finish "
                    f"within {timeout_s:g}s (last workflow_state {state!r})"
                )
                raise CanvasExportTimeoutError(
                    msg, course_id=str(course_id), export_id=str(export_id), workflow_state=state
                )
            self._sleep(min(delay, remaining))
            delay = min(poll_interval_s, delay * 2)

    def download(self, url: str) -> bytes:
        """The bytes at `url` (e.g. an export's `attachment.url`), retried like any request."""
        response = self.request("GET", url, headers={"Accept": "*/*"})
        return response.content

    def export_course(
        self,
        course_id: str | int,
        *,
        timeout_s: float = 3600.0,
        poll_interval_s: float = 10.0,
        export_type: str = "common_cartridge",
    ) -> CompletedExport:
        """Start a content export, wait for it, and download its file."""
        started = self.start_content_export(course_id, export_type)
        export = self.wait_for_export(course_id, started["id"], timeout_s, poll_interval_s)
        attachment = export.get("attachment") or {}
        url = attachment.get("url")
        if not url:
            msg = (
                f"Canvas content export {export['id']} of course {course_id} is exported but "
                "has no attachment URL"
            )
            raise CanvasExportError(
                msg,
                course_id=str(course_id),
                export_id=str(export["id"]),
                workflow_state=export.get("workflow_state"),
            )
        data = self.download(str(url))
        size = attachment.get("size")
        if isinstance(size, int) and size != len(data):
            msg = (
                f"Canvas content export {export['id']} of course {course_id}: downloaded "
                f"{len(data)} bytes, the export says {size}"
            )
            raise CanvasExportError(
                msg,
                course_id=str(course_id),
                export_id=str(export["id"]),
                workflow_state=export.get("workflow_state"),
            )
        return CompletedExport(export, data)


# -- content hash of an export -------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_DATETIME_ELEMENT = re.compile(
    r"<(?P<tag>(?:[\w.-]+:)?(?:dateTime|date|created|modified|lastmod))\b[^>]*>.*?</(?P=tag)>",
    re.DOTALL,
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def normalize_manifest(text: str) -> str:
    """`imsmanifest.xml` without what changes on every export of the same content.

    Drops comments and date/time elements (LOM `dateTime`, `date`, ...), blanks any other
    ISO-8601 timestamp (in attributes or text), and collapses whitespace.
    """
    text = _COMMENT.sub("", text)
    text = _DATETIME_ELEMENT.sub("", text)
    text = _TIMESTAMP.sub("", text)
    return " ".join(text.split())


def imscc_content_hash(data: bytes) -> str:
    """SHA-256 of a Common Cartridge's content, ignoring the manifest's timestamps.

    Every member (directories aside) is hashed by name and bytes in name order; the manifest is
    hashed after `normalize_manifest`. Zip metadata (entry times, compression, member order) is
    ignored, so exporting an unchanged course twice gives the same hash.
    """
    digest = hashlib.sha256()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        msg = f"not a Common Cartridge (.imscc) zip: {error}"
        raise ValueError(msg) from None
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            content = archive.read(info)
            if info.filename == MANIFEST_NAME:
                content = normalize_manifest(content.decode("utf-8", "replace")).encode()
            name = info.filename.encode()
            digest.update(len(name).to_bytes(8, "big") + name)
            digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


# -- Dagster resource --------------------------------------------------------------------------


class CanvasApiClientFactory(dg.ConfigurableResource):
    """Builds `CanvasClient`s for one Canvas instance.

    The canvas location configures `base_url` and `secret_path` (the secret holding the API
    `token`) for its environment; the token is read from the secrets resource only when
    `get_client()` builds a client, never at load time.
    """

    secrets: SecretsResource
    base_url: str = Field(description="Canvas host, e.g. https://canvas.mit.edu")
    secret_path: str = Field(description="secret holding the API `token`")
    max_retries: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    timeout: float = 60.0
    per_page: int = MAX_PER_PAGE
    rate_limit_threshold: float = 100.0
    export_timeout_seconds: float = 3600.0
    export_poll_interval_seconds: float = 10.0

    def get_client(self, **overrides: Any) -> CanvasClient:
        """A client with this resource's retry, paging and throttling settings (`overrides` win)."""
        token = self.secrets.get_secret_value(self.secret_path, "token")
        kwargs: dict[str, Any] = {
            "per_page": self.per_page,
            "rate_limit_threshold": self.rate_limit_threshold,
            "max_retries": self.max_retries,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
            "timeout": self.timeout,
            **overrides,
        }
        return CanvasClient(self.base_url, token, **kwargs)
