"""Open edX REST API client and the raw-table rows built from its payloads.

`OpenEdxClient` talks to one deployment (LMS base URL) with an OAuth2 client-credentials JWT.
The raw tables are declared here once (`COURSE_RUNS`, `COURSE_BLOCKS`, `ENROLLMENTS`): the
`*_SCHEMA`s give them their types even when a run finds nothing, and the pure `*_rows` functions
turn API payloads into their rows. Timestamps stay the strings the API sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import dagster as dg
import pyarrow as pa

from ol_orchestrate.lib.http import ApiClient, OAuth2ClientCredentialsAuth
from ol_orchestrate.lib.raw_tables import (
    RETRIEVED_AT,
    Column,
    RawTable,
    bool_,
    boolean,
    format_retrieved_at,
    int64,
    string,
    text,
)
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
# One `RawTable` declaration per table (ol_orchestrate.lib.raw_tables): the Arrow schema, the rows
# below, the dbt sources' columns (tested) and docs/contracts.md's column lists come from it.


def _flag(value: Any) -> Any:
    """A flag: absent (null) means false; booleans and "true"/"false" as such; anything else is
    passed through so that `land_rows` quarantines the record (not `bool("false")`, true)."""
    return False if value is None else boolean(value)


# Strings and numbers are kept as text, flags absent mean false; a value of another shape (an
# object where an id belongs, a flag sent as "yes") is passed through unchanged, so `land_rows`
# quarantines the record instead of landing its Python repr or a wrong flag.
OPENEDX_READERS: Mapping[pa.DataType, Callable[[Any], Any]] = MappingProxyType(
    {pa.string(): text, pa.bool_(): _flag}
)

DEPLOYMENT = Column(
    "deployment", nullable=False, given=True, description="the deployment, e.g. mitxonline"
)


def _table(name: str, *columns: Column, description: str = "") -> RawTable:
    return RawTable(
        name,
        (DEPLOYMENT, *columns, RETRIEVED_AT),
        description=description,
        readers=OPENEDX_READERS,
    )


COURSE_RUNS = _table(
    "course_runs",
    string("course_id", ("course_id", "id"), nullable=False),
    string("course_name", "name"),
    string("org", given=True, description="as sent, else from the course key"),
    string("number", given=True, description="as sent, else from the course key"),
    string("run", given=True, description="as sent, else from the course key"),
    string("start"),
    string("end"),
    string("enrollment_start"),
    string("enrollment_end"),
    string("pacing"),
    string("short_description"),
    bool_("hidden", nullable=False),
    bool_("invitation_only", nullable=False),
    bool_("mobile_available", nullable=False),
    string("blocks_url"),
)
COURSE_BLOCKS = _table(
    "course_blocks",
    string("course_id", nullable=False, given=True),
    string("block_id", nullable=False, given=True, description="usage key"),
    string("block_type", "type"),
    string("block_title", "display_name"),
    string("parent_block_id", given=True, description="from the parents' children lists"),
    int64("block_index", nullable=False, given=True, description="depth-first order"),
    bool_("graded", nullable=False),
    string("block_format", "format"),
    string("due"),
    string("lms_web_url"),
)
ENROLLMENTS = _table(
    "enrollments",
    string("course_id", nullable=False),
    string("username", ("user", "username"), nullable=False, pii=True),
    string("mode"),
    bool_("is_active", nullable=False),
    string("created"),
)

# Every raw Open edX API table (each deployment lands `<deployment>_<table>`), in docs order.
TABLES: tuple[RawTable, ...] = (COURSE_RUNS, COURSE_BLOCKS, ENROLLMENTS)

COURSE_RUNS_SCHEMA = COURSE_RUNS.schema
COURSE_BLOCKS_SCHEMA = COURSE_BLOCKS.schema
ENROLLMENTS_SCHEMA = ENROLLMENTS.schema


def split_course_key(course_id: Any) -> tuple[str | None, str | None, str | None]:
    """`course-v1:Org+Number+Run` (or old-style `Org/Number/Run`) → (org, number, run);
    (None, None, None) for anything else (also a missing or non-string id)."""
    if not isinstance(course_id, str):
        return None, None, None
    key = course_id.removeprefix("course-v1:")
    parts = key.split("+") if course_id.startswith("course-v1:") else key.split("/")
    if len(parts) != 3:
        return None, None, None
    return parts[0], parts[1], parts[2]


def course_run_rows(
    deployment: str, courses: Iterable[Mapping[str, Any]], retrieved_at: datetime | str
) -> list[dict[str, Any]]:
    """Rows of `<deployment>_course_runs` from course-list API results."""
    retrieved = format_retrieved_at(retrieved_at)
    rows = []
    for record in courses:
        # a record that is not an object lands nowhere: its row has no course_id (quarantined)
        course: Mapping[str, Any] = record if isinstance(record, Mapping) else {}
        course_id = COURSE_RUNS.read(course, "course_id")
        org, number, run = split_course_key(course_id)
        rows.append(
            COURSE_RUNS.row(
                course,
                deployment=deployment,
                course_id=course_id,
                org=text(course.get("org") or org),
                number=text(course.get("number") or number),
                run=text(course.get("run") or run),
                retrieved_at=retrieved,
            )
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
    found = blocks_payload.get("blocks")
    # a block that is not an object becomes a row of nothing but its key (its type is missing,
    # so the asset quarantines it); children that are not a list of keys are no children
    blocks: dict[str, Mapping[str, Any]] = {
        str(key): block if isinstance(block, Mapping) else {}
        for key, block in (found.items() if isinstance(found, Mapping) else ())
    }

    def children(key: str) -> list[str]:
        listed = blocks[key].get("children")
        return [str(c) for c in listed] if isinstance(listed, list) else []

    parents: dict[str, str] = {}
    for key in blocks:
        for child in children(key):
            parents.setdefault(child, key)

    order: list[str] = []
    visited: set[str] = set()
    root = blocks_payload.get("root")
    root_key = None if root is None or isinstance(root, dict | list) else str(root)
    if root_key is not None:
        parents.pop(root_key, None)  # the root has no parent, even if a bad payload loops back
    stack: list[str] = [root_key] if root_key in blocks else []
    while stack:
        key = stack.pop()
        if key in visited or key not in blocks:
            continue
        visited.add(key)
        order.append(key)
        stack.extend(reversed(children(key)))
    order.extend(sorted(k for k in blocks if k not in visited))

    return [
        COURSE_BLOCKS.row(
            blocks[key],
            deployment=deployment,
            course_id=course_id,
            block_id=text(blocks[key].get("id") or key),
            parent_block_id=parents.get(key),
            block_index=index,
            retrieved_at=retrieved,
        )
        for index, key in enumerate(order)
    ]


def enrollment_rows(
    deployment: str, enrollments: Iterable[Mapping[str, Any]], retrieved_at: datetime | str
) -> list[dict[str, Any]]:
    """Rows of `<deployment>_enrollments` from enrollment API results."""
    retrieved = format_retrieved_at(retrieved_at)
    return ENROLLMENTS.rows(enrollments, deployment=deployment, retrieved_at=retrieved)


# -- Dagster resource --------------------------------------------------------------------------


class OpenEdxApiClientFactory(dg.ConfigurableResource):
    """Builds `OpenEdxClient`s for one Open edX deployment.

    The openedx location configures one per deployment (its `base_url` and the `secret_path`
    of its OAuth2 client credentials for this environment); the secret is read from the secrets
    resource only when `get_client()` builds a client, never at load time.
    """

    deployment: str
    base_url: str
    secret_path: str
    secrets: SecretsResource
    max_retries: int = 5
    backoff_initial: float = 0.5
    timeout: float = 30.0

    def get_client(self) -> OpenEdxClient:
        """A client authenticated with the deployment's OAuth2 client credentials."""
        credentials = self.secrets.get_secret(self.secret_path)
        return OpenEdxClient.from_credentials(
            self.base_url,
            credentials,
            max_retries=self.max_retries,
            backoff_initial=self.backoff_initial,
            timeout=self.timeout,
        )


def openedx_resource_key(deployment: str) -> str:
    """The resource key a code location binds a deployment's `OpenEdxApiClientFactory` to."""
    return f"openedx_{deployment}"
