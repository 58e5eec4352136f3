"""Open edX Studio's course export API: a course's OLX export, started, polled and downloaded.

The API is MIT's Studio plugin's (`ol-openedx-course-export`), called with the LMS's OAuth2
client-credentials JWT (a staff client): `POST /api/courses/v0/export/` with `{"courses": [...]}`
starts one export task per course and answers each course's `upload_urls` (where its tarball
will be) and `upload_task_ids`; `GET /api/courses/v0/export/<course_id>/?task_id=<id>` gives
the task's `state` (`Pending`, `In Progress`, `Retrying`, then `Succeeded`, `Failed` or
`Canceled`); the tarball is then read at its upload URL. The wait is bounded
(`CourseExportTimeoutError`), a failed task is a `CourseExportError`, and every request —
the start, each poll, the download — goes through `ApiClient`, so throttling, 5xx answers,
resets and cut bodies are retried. An upload URL on Studio's own host is read with the JWT;
another host's (a presigned object URL) without credentials.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import dagster as dg
import httpx
from pydantic import Field

from ol_orchestrate.lib.http import ApiClient, OAuth2ClientCredentialsAuth, redact_url
from ol_orchestrate.resources.secrets import SecretsResource

EXPORT_PATH = "/api/courses/v0/export/"
TOKEN_PATH = "/oauth2/access_token"  # noqa: S105 - a path, not a secret
SUCCEEDED = "Succeeded"
FAILED_STATES = frozenset({"Failed", "Canceled"})
# Courses per start request: one request for a residential deployment's whole course list,
# small enough that Studio queues the tasks well inside a gateway timeout.
START_BATCH = 50


class CourseExportError(RuntimeError):
    """A course's export could not be started, ended `Failed`/`Canceled`, or gave no tarball."""

    def __init__(
        self, message: str, *, course_id: str, task_id: str | None, state: str | None
    ) -> None:
        super().__init__(message)
        self.course_id = course_id
        self.task_id = task_id
        self.state = state


class CourseExportTimeoutError(CourseExportError):
    """An export did not finish within the allowed time."""


@dataclass(frozen=True)
class ExportTask:
    """A started export: the course, its task and where its tarball will be."""

    course_id: str
    task_id: str
    upload_url: str


@dataclass(frozen=True)
class CourseExport:
    """A finished export: its task and the tarball's bytes."""

    task: ExportTask
    data: bytes

    @property
    def course_id(self) -> str:
        return self.task.course_id


class StudioClient(ApiClient):
    """Client for one deployment's Studio course export API.

    `token_url` is the LMS's token endpoint (`<lms>/oauth2/access_token`; default on Studio's
    host). `clock` and the ApiClient's `sleep` are injectable for tests.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        token_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        **api_client_kwargs: Any,
    ) -> None:
        base_url = base_url.rstrip("/")
        auth = OAuth2ClientCredentialsAuth(
            token_url or f"{base_url}{TOKEN_PATH}",
            client_id,
            client_secret,
            scheme="JWT",
            extra_params={"token_type": "jwt"},
        )
        super().__init__(base_url, auth, **api_client_kwargs)
        self._clock = clock

    def start_exports(self, course_ids: Iterable[str]) -> dict[str, ExportTask]:
        """Start an export of every course (in batches); their tasks by course id.

        A course Studio refuses (`failed_uploads`; it answers 400 then) is an `ApiError` whose
        message names the courses and Studio's reasons.
        """
        wanted = list(dict.fromkeys(course_ids))
        tasks: dict[str, ExportTask] = {}
        for start in range(0, len(wanted), START_BATCH):
            batch = wanted[start : start + START_BATCH]
            payload = self.post_json(EXPORT_PATH, json={"courses": batch})
            payload = payload if isinstance(payload, Mapping) else {}
            urls = payload.get("upload_urls") or {}
            task_ids = payload.get("upload_task_ids") or {}
            for course_id in batch:
                task_id, url = task_ids.get(course_id), urls.get(course_id)
                if not task_id or not url:
                    msg = f"Studio started no export task for {course_id} (answer: {payload!r})"
                    raise CourseExportError(msg, course_id=course_id, task_id=None, state=None)
                tasks[course_id] = ExportTask(course_id, str(task_id), str(url))
        return tasks

    def _detail(self, response: httpx.Response) -> str | None:
        """Studio's reasons: a refused export's `failed_uploads`, an `api_error`'s message."""
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, Mapping):
            failed = payload.get("failed_uploads")
            if isinstance(failed, Mapping) and failed:
                reasons = "; ".join(f"{course}: {reason}" for course, reason in failed.items())
                return self._scrub(f"Studio refused to export {reasons}")[:500]
            if payload.get("developer_message"):
                return self._scrub(str(payload["developer_message"]))[:500]
        return super()._detail(response)

    def export_state(self, task: ExportTask) -> str:
        payload = self.get_json(
            f"{EXPORT_PATH}{quote(task.course_id, safe=':+')}/", {"task_id": task.task_id}
        )
        state = payload.get("state") if isinstance(payload, Mapping) else None
        return str(state) if state else "Unknown"

    def wait_for_exports(
        self,
        tasks: Iterable[ExportTask],
        *,
        timeout_s: float = 1800.0,
        poll_interval_s: float = 10.0,
        on_done: Callable[[ExportTask], None] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        """Poll every task until it `Succeeded`, calling `on_done(task)` as each one does.

        Polls at once, then at growing intervals (0.5 s doubling, at most `poll_interval_s`),
        all tasks in each round, within one `timeout_s` for all. A `Failed`/`Canceled` task
        raises `CourseExportError`; running out of time `CourseExportTimeoutError`, naming the
        courses still running and their last state.
        """
        pending = {task.task_id: task for task in tasks}
        last: dict[str, str] = {}
        deadline = self._clock() + timeout_s
        delay = min(0.5, poll_interval_s)
        while pending:
            for task_id, task in list(pending.items()):
                state = self.export_state(task)
                last[task_id] = state
                if state == SUCCEEDED:
                    del pending[task_id]
                    if on_done is not None:
                        on_done(task)
                elif state in FAILED_STATES:
                    msg = f"Studio export of {task.course_id} (task {task.task_id}) ended {state!r}"
                    raise CourseExportError(
                        msg, course_id=task.course_id, task_id=task.task_id, state=state
                    )
            if not pending:
                return
            remaining = deadline - self._clock()
            if remaining <= 0:
                waiting = sorted(pending.values(), key=lambda t: t.course_id)
                first = waiting[0]
                msg = (
                    f"Studio export of {first.course_id} (task {first.task_id}) did not finish "
                    f"within {timeout_s:g}s (last state {last.get(first.task_id)!r}); "
                    f"{len(waiting)} export(s) still running"
                )
                raise CourseExportTimeoutError(
                    msg,
                    course_id=first.course_id,
                    task_id=first.task_id,
                    state=last.get(first.task_id),
                )
            if log is not None:
                log.info(f"{len(pending)} Studio export(s) running; next poll in {delay:g}s")
            self._sleep(min(delay, remaining))
            delay = min(poll_interval_s, delay * 2)

    def download(self, task: ExportTask) -> bytes:
        """The tarball at the task's upload URL, retried like any request."""
        same_host = urlsplit(task.upload_url).netloc == urlsplit(self.base_url).netloc
        response = self.request(
            "GET",
            task.upload_url,
            headers={"Accept": "application/gzip, application/x-tgz, */*"},
            authenticated=same_host,
        )
        data = response.content
        if not data:
            msg = f"Studio export of {task.course_id}: {redact_url(task.upload_url)} is empty"
            raise CourseExportError(
                msg, course_id=task.course_id, task_id=task.task_id, state=SUCCEEDED
            )
        return data


class OpenEdxStudioResource(dg.ConfigurableResource):
    """Course exports of one Open edX deployment's Studio.

    `studio_url` and `token_url` (the LMS's `oauth2/access_token`) come from the code location's
    configuration for its environment, `secret_path` is the secret holding the OAuth2
    `client_id` and `client_secret` (a staff client), read only when a client is built.
    """

    deployment: str
    studio_url: str
    token_url: str
    secret_path: str
    secrets: SecretsResource
    export_timeout_seconds: float = Field(
        default=1800.0, description="How long the exports of one run may take, in all"
    )
    export_poll_interval_seconds: float = Field(
        default=15.0, description="The longest wait between two polls of the export tasks"
    )
    max_retries: int = 5
    backoff_initial: float = 0.5
    timeout: float = Field(default=120.0, description="HTTP timeout (a tarball download too)")

    def client(self) -> StudioClient:
        credentials = self.secrets.get_secret(self.secret_path)
        return StudioClient(
            self.studio_url,
            credentials["client_id"],
            credentials["client_secret"],
            token_url=self.token_url,
            max_retries=self.max_retries,
            backoff_initial=self.backoff_initial,
            timeout=self.timeout,
        )
