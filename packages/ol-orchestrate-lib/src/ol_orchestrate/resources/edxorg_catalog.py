"""edX.org's catalog (the Discovery service): MIT's programs, courses and course runs.

`EdxorgCatalogClient` is an `ApiClient` with OAuth2 client credentials (a JWT from edX's token
endpoint) that follows Discovery's `next` links. The raw tables are declared here once
(`PROGRAMS`, `COURSES`, `COURSE_RUNS`; `TABLES`) with pure row builders. Course-run keys are kept
as edX writes them: a legacy `MITx/6.002x/2012_Fall` stays legacy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg

from ol_orchestrate.lib.http import ApiClient, OAuth2ClientCredentialsAuth
from ol_orchestrate.lib.raw_tables import RETRIEVED_AT, RawTable, bool_, int64, string
from ol_orchestrate.resources.secrets import SecretsResource

TOKEN_PATH = "/oauth2/v1/access_token"  # noqa: S105 - a path, not a secret
PROGRAMS_PATH = "/api/v1/programs/"
COURSES_PATH = "/api/v1/courses/"
COURSE_RUNS_PATH = "/api/v1/course_runs/"


class EdxorgCatalogClient(ApiClient):
    """Client for edX.org's Discovery API (programs, courses, course runs of one org)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        page_size: int = 100,
        token_url: str | None = None,
        **api_client_kwargs: Any,
    ) -> None:
        base_url = base_url.rstrip("/")
        # edX.org issues tokens on its API gateway, not on the catalog's host (the sandbox: same).
        auth = OAuth2ClientCredentialsAuth(
            token_url or f"{base_url}{TOKEN_PATH}",
            client_id,
            client_secret,
            scheme="JWT",
            extra_params={"token_type": "jwt"},
        )
        super().__init__(base_url, auth, **api_client_kwargs)
        self.page_size = page_size

    @classmethod
    def from_credentials(
        cls, base_url: str, credentials: Mapping[str, str], **kwargs: Any
    ) -> EdxorgCatalogClient:
        return cls(base_url, credentials["client_id"], credentials["client_secret"], **kwargs)

    def _listing(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        yield from self.paginate(
            path, {"page_size": str(self.page_size), **params}, style="next_url"
        )

    def iter_programs(self, org: str) -> Iterator[dict[str, Any]]:
        return self._listing(PROGRAMS_PATH, org=org)

    def iter_courses(self, org: str) -> Iterator[dict[str, Any]]:
        return self._listing(COURSES_PATH, org=org)

    def iter_course_runs(self, org: str) -> Iterator[dict[str, Any]]:
        return self._listing(COURSE_RUNS_PATH, org=org)


def _keys(items: Any, key: str = "key") -> str | None:
    """`a,b,c` from a list of objects' `key` (None for no list)."""
    if not isinstance(items, list):
        return None
    return ",".join(str(item.get(key)) for item in items if isinstance(item, Mapping))


PROGRAMS = RawTable(
    "catalog_programs",
    (
        string("program_uuid", path="uuid", nullable=False),
        string("program_title", path="title"),
        string("program_subtitle", path="subtitle"),
        string("program_type", path="type", description="MicroMasters, XSeries, ..."),
        string("program_status", path="status"),
        string("marketing_slug"),
        string("authoring_organizations", given=True, description="org keys, comma-separated"),
        string("course_keys", given=True, description="the program's course keys, comma-separated"),
        string("data_modified_timestamp"),
        RETRIEVED_AT,
    ),
    "one row per program of the org",
)
COURSES = RawTable(
    "catalog_courses",
    (
        string("course_key", path="key", nullable=False, description="e.g. MITx+6.002x"),
        string("course_uuid", path="uuid"),
        string("course_title", path="title"),
        string("short_description"),
        string("owners", given=True, description="owner org keys, comma-separated"),
        string("level_type"),
        string("marketing_url"),
        string("modified"),
        RETRIEVED_AT,
    ),
    "one row per course of the org",
)
COURSE_RUNS = RawTable(
    "catalog_course_runs",
    (
        string(
            "course_run_key",
            path="key",
            nullable=False,
            description="the course id, as edX writes it",
        ),
        string("course_run_uuid", path="uuid"),
        string("course_key", path="course"),
        string("course_run_title", path="title"),
        string("short_description"),
        string("start"),
        string("end"),
        string("enrollment_start"),
        string("enrollment_end"),
        string("pacing_type", description="instructor_paced or self_paced"),
        string("run_type", path="type", description="verified, audit, professional, ..."),
        string("run_status", path="status", description="published, unpublished, ..."),
        string("availability", description="Current, Archived, Upcoming, ..."),
        bool_("is_enrollable"),
        string("content_language"),
        int64("weeks_to_complete"),
        string("marketing_url"),
        string("modified"),
        RETRIEVED_AT,
    ),
    "one row per course run of the org",
)
TABLES: tuple[RawTable, ...] = (PROGRAMS, COURSES, COURSE_RUNS)


def program_rows(programs: Iterable[Mapping[str, Any]], retrieved_at: str) -> list[dict[str, Any]]:
    return [
        PROGRAMS.row(
            program,
            authoring_organizations=_keys(program.get("authoring_organizations")),
            course_keys=_keys(program.get("courses")),
            retrieved_at=retrieved_at,
        )
        for program in programs
    ]


def course_rows(courses: Iterable[Mapping[str, Any]], retrieved_at: str) -> list[dict[str, Any]]:
    return [
        COURSES.row(course, owners=_keys(course.get("owners")), retrieved_at=retrieved_at)
        for course in courses
    ]


def course_run_rows(runs: Iterable[Mapping[str, Any]], retrieved_at: str) -> list[dict[str, Any]]:
    return COURSE_RUNS.rows(runs, retrieved_at=retrieved_at)


class EdxorgCatalogResource(dg.ConfigurableResource):
    """edX.org's catalog API for one org; the client credentials are read when a client is
    built (never at load time)."""

    base_url: str
    org: str
    secret_path: str
    token_url: str | None = None
    secrets: SecretsResource
    max_retries: int = 5
    backoff_initial: float = 0.5
    timeout: float = 30.0

    def client(self) -> EdxorgCatalogClient:
        return EdxorgCatalogClient.from_credentials(
            self.base_url,
            self.secrets.get_secret(self.secret_path),
            token_url=self.token_url,
            max_retries=self.max_retries,
            backoff_initial=self.backoff_initial,
            timeout=self.timeout,
        )
