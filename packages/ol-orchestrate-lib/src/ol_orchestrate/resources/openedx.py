"""Open edX REST API client and the raw-table rows built from its payloads.

`OpenEdxClient` talks to one deployment (LMS base URL) with an OAuth2 client-credentials JWT.
The `*_rows` functions are pure: they turn API payloads into rows whose columns are exactly the
raw tables of docs/contracts.md ("Raw Open edX tables"), and the `*_SCHEMA`s give those tables
their types even when a run finds nothing. Timestamps stay the strings the API sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pyarrow as pa

from ol_orchestrate.lib.http import ApiClient, OAuth2ClientCredentialsAuth
from ol_orchestrate.resources.secrets import SecretsResource

COURSES_PATH = "/api/courses/v1/courses/"
BLOCKS_PATH = "/api/courses/v2/blocks/"
ENROLLMENTS_PATH = "/api/enrollment/v1/enrollments/"
TOKEN_PATH = "/oauth2/access_token"  # noqa: S105 - a path, not a secret
BLOCK_REQUESTED_FIELDS = "children,display_name,type,graded,format,due,lms_web_url"


class OpenEdxClient(ApiClient):
    """Client for one Open edX deployment's LMS REST APIs."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        courses_page_size: int = 100,
        enrollments_page_size: int = 100,
        **api_client_kwargs: Any,
    ) -> None:
        base_url = base_url.rstrip("/")
        auth = OAuth2ClientCredentialsAuth(
            f"{base_url}{TOKEN_PATH}",
            client_id,
            client_secret,
            scheme="JWT",
            extra_params={"token_type": "jwt"},
        )
        super().__init__(base_url, auth, **api_client_kwargs)
        self.courses_page_size = courses_page_size
        self.enrollments_page_size = enrollments_page_size

    @classmethod
    def from_credentials(
        cls, base_url: str, credentials: Mapping[str, str], **api_client_kwargs: Any
    ) -> OpenEdxClient:
        """Build from a secret holding `client_id` and `client_secret` (see SecretsResource)."""
        return cls(
            base_url, credentials["client_id"], credentials["client_secret"], **api_client_kwargs
        )

    def iter_course_runs(self) -> Iterator[dict[str, Any]]:
        """Every course run the course-list API shows, as raw dicts, across all pages."""
        yield from self.paginate(
            COURSES_PATH, {"page_size": self.courses_page_size}, style="next_url"
        )

    def get_course_blocks(self, course_id: str) -> dict[str, Any]:
        """The whole block tree of a course run: `{"root": key, "blocks": {key: {...}}}`."""
        payload = self.get_json(
            BLOCKS_PATH,
            {
                "course_id": course_id,
                "all_blocks": "true",
                "depth": "all",
                "requested_fields": BLOCK_REQUESTED_FIELDS,
            },
        )
        if not isinstance(payload, dict):
            payload = {}
        return payload

    def iter_enrollments(self, course_id: str) -> Iterator[dict[str, Any]]:
        """Every enrollment of a course run (cursor-paginated), as raw dicts."""
        yield from self.paginate(
            ENROLLMENTS_PATH,
            {"course_id": course_id, "page_size": self.enrollments_page_size},
            style="cursor",
        )


# -- raw tables --------------------------------------------------------------------------------


def _string_fields(*names: str) -> list[pa.Field]:
    return [pa.field(name, pa.string()) for name in names]


COURSE_RUNS_SCHEMA = pa.schema(
    [
        pa.field("deployment", pa.string(), nullable=False),
        pa.field("course_id", pa.string(), nullable=False),
        *_string_fields(
            "course_name",
            "org",
            "number",
            "run",
            "start",
            "end",
            "enrollment_start",
            "enrollment_end",
            "pacing",
            "short_description",
        ),
        pa.field("hidden", pa.bool_(), nullable=False),
        pa.field("invitation_only", pa.bool_(), nullable=False),
        pa.field("mobile_available", pa.bool_(), nullable=False),
        pa.field("blocks_url", pa.string()),
        pa.field("retrieved_at", pa.string(), nullable=False),
    ]
)

COURSE_BLOCKS_SCHEMA = pa.schema(
    [
        pa.field("deployment", pa.string(), nullable=False),
        pa.field("course_id", pa.string(), nullable=False),
        pa.field("block_id", pa.string(), nullable=False),
        pa.field("block_type", pa.string()),
        pa.field("block_title", pa.string()),
        pa.field("parent_block_id", pa.string()),
        pa.field("block_index", pa.int64(), nullable=False),
        pa.field("graded", pa.bool_(), nullable=False),
        pa.field("block_format", pa.string()),
        pa.field("due", pa.string()),
        pa.field("lms_web_url", pa.string()),
        pa.field("retrieved_at", pa.string(), nullable=False),
    ]
)

ENROLLMENTS_SCHEMA = pa.schema(
    [
        pa.field("deployment", pa.string(), nullable=False),
        pa.field("course_id", pa.string(), nullable=False),
        pa.field("username", pa.string(), nullable=False),
        pa.field("mode", pa.string()),
        pa.field("is_active", pa.bool_(), nullable=False),
        pa.field("created", pa.string()),
        pa.field("retrieved_at", pa.string(), nullable=False),
    ]
)


def format_retrieved_at(value: datetime | str) -> str:
    """ISO-8601 UTC with a Z suffix; strings are passed through unchanged."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def split_course_key(course_id: str) -> tuple[str | None, str | None, str | None]:
    """`course-v1:Org+Number+Run` (or old-style `Org/Number/Run`) → (org, number, run)."""
    key = course_id.removeprefix("course-v1:")
    parts = key.split("+") if course_id.startswith("course-v1:") else key.split("/")
    if len(parts) != 3:
        return None, None, None
    return parts[0], parts[1], parts[2]


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def course_run_rows(
    deployment: str, courses: Iterable[Mapping[str, Any]], retrieved_at: datetime | str
) -> list[dict[str, Any]]:
    """Rows of `<deployment>_course_runs` from course-list API results."""
    retrieved = format_retrieved_at(retrieved_at)
    rows = []
    for course in courses:
        course_id = str(course.get("course_id") or course.get("id"))
        org, number, run = split_course_key(course_id)
        rows.append(
            {
                "deployment": deployment,
                "course_id": course_id,
                "course_name": _opt_str(course.get("name")),
                "org": _opt_str(course.get("org") or org),
                "number": _opt_str(course.get("number") or number),
                "run": _opt_str(course.get("run") or run),
                "start": _opt_str(course.get("start")),
                "end": _opt_str(course.get("end")),
                "enrollment_start": _opt_str(course.get("enrollment_start")),
                "enrollment_end": _opt_str(course.get("enrollment_end")),
                "pacing": _opt_str(course.get("pacing")),
                "short_description": _opt_str(course.get("short_description")),
                "hidden": bool(course.get("hidden")),
                "invitation_only": bool(course.get("invitation_only")),
                "mobile_available": bool(course.get("mobile_available")),
                "blocks_url": _opt_str(course.get("blocks_url")),
                "retrieved_at": retrieved,
            }
        )
    return rows


def course_block_rows(
    deployment: str,
    course_id: str,
    blocks_payload: Mapping[str, Any],
    retrieved_at: datetime | str,
) -> list[dict[str, Any]]:
    """Rows of `<deployment>_course_blocks`: depth-first from the root, children in order.

    `parent_block_id` comes from the parents' `children` lists. Blocks the root cannot reach
    are kept (after the tree, in key order) so nothing the API sent is dropped.
    """
    retrieved = format_retrieved_at(retrieved_at)
    blocks: Mapping[str, Mapping[str, Any]] = blocks_payload.get("blocks") or {}
    parents: dict[str, str] = {}
    for key, block in blocks.items():
        for child in block.get("children") or ():
            parents.setdefault(child, key)

    order: list[str] = []
    visited: set[str] = set()
    root = blocks_payload.get("root")
    parents.pop(str(root), None)  # the root has no parent, even if a bad payload loops back
    stack: list[str] = [str(root)] if root in blocks else []
    while stack:
        key = stack.pop()
        if key in visited or key not in blocks:
            continue
        visited.add(key)
        order.append(key)
        stack.extend(reversed(blocks[key].get("children") or ()))
    order.extend(sorted(k for k in blocks if k not in visited))

    rows = []
    for index, key in enumerate(order):
        block = blocks[key]
        rows.append(
            {
                "deployment": deployment,
                "course_id": course_id,
                "block_id": str(block.get("id") or key),
                "block_type": _opt_str(block.get("type")),
                "block_title": _opt_str(block.get("display_name")),
                "parent_block_id": parents.get(key),
                "block_index": index,
                "graded": bool(block.get("graded")),
                "block_format": _opt_str(block.get("format")),
                "due": _opt_str(block.get("due")),
                "lms_web_url": _opt_str(block.get("lms_web_url")),
                "retrieved_at": retrieved,
            }
        )
    return rows


def enrollment_rows(
    deployment: str, enrollments: Iterable[Mapping[str, Any]], retrieved_at: datetime | str
) -> list[dict[str, Any]]:
    """Rows of `<deployment>_enrollments` from enrollment API results."""
    retrieved = format_retrieved_at(retrieved_at)
    return [
        {
            "deployment": deployment,
            "course_id": str(enrollment.get("course_id")),
            "username": str(enrollment.get("user") or enrollment.get("username")),
            "mode": _opt_str(enrollment.get("mode")),
            "is_active": bool(enrollment.get("is_active")),
            "created": _opt_str(enrollment.get("created")),
            "retrieved_at": retrieved,
        }
        for enrollment in enrollments
    ]


# -- Dagster resource --------------------------------------------------------------------------


class OpenEdxApiResource(dg.ConfigurableResource):
    """API access to one Open edX deployment.

    The openedx location configures one per deployment (its `base_url` and the `secret_path`
    of its OAuth2 client credentials for this environment); the secret is read only when an
    asset asks for a client, never at load time.
    """

    deployment: str
    base_url: str
    secret_path: str
    secrets: SecretsResource
    max_retries: int = 5
    backoff_initial: float = 0.5
    timeout: float = 30.0

    def client(self) -> OpenEdxClient:
        credentials = self.secrets.get_secret(self.secret_path)
        return OpenEdxClient.from_credentials(
            self.base_url,
            credentials,
            max_retries=self.max_retries,
            backoff_initial=self.backoff_initial,
            timeout=self.timeout,
        )


def openedx_resource_key(deployment: str) -> str:
    """The resource key under which a code location binds a deployment's `OpenEdxApiResource`."""
    return f"openedx_{deployment}"
