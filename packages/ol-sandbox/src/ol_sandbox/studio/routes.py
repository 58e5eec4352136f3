"""Studio HTTP routes: `StudioApi`, the course export REST API served under `/studio/<deployment>/`.

The API is MIT's Studio plugin's (`ol-openedx-course-export`, which the IRx pipeline calls with a
staff JWT): `POST api/courses/v0/export/` starts one export task per course and answers where
each tarball will be (`upload_urls`) and its task (`upload_task_ids`); `GET
api/courses/v0/export/<course_id>/?task_id=<id>` gives the task's `state` (user_tasks' `Pending`,
`In Progress`, `Succeeded`, `Failed`); the tarball is then read at its upload URL — here
`exports/<course_id>.tar.gz` on the same mount, standing in for the export bucket's object (404
until the task succeeded). `oauth2/access_token` is the deployment's LMS token endpoint (the
sandbox's `/openedx/` serves only the API deployments; the legacy LMSes get theirs here), with
the sandbox's Open edX credentials (`sandbox-<deployment>` / `sandbox-secret-<deployment>`).

Knobs (plain attributes; change them in tests): `export_polls` (status GETs before a task
finishes; 0 = finished at the first poll), `fail_exports(course_id=None, times=1)` (the next
export tasks of a course, or of any course, end `Failed`), `stalled_courses` (their tasks stay
`In Progress`). `exports_started` and `downloads` count what was asked.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qs, quote, unquote

from ol_sandbox.data import CourseRun, DeploymentData, Institution
from ol_sandbox.edxapp import LEGACY_DEPLOYMENTS, edxapp_deployment
from ol_sandbox.openedx.tokens import TokenStore, client_id_for, client_secret_for
from ol_sandbox.routing import Request, Response
from ol_sandbox.studio.olx import course_export

STUDIO_PREFIX = "studio"
EXPORT_PATH = "api/courses/v0/export"
PENDING, IN_PROGRESS, SUCCEEDED, FAILED = "Pending", "In Progress", "Succeeded", "Failed"


@dataclass
class ExportTask:
    """One export task (a user_tasks status): its course, state and the polls it has seen."""

    task_id: str
    deployment: str
    course_id: str
    state: str = PENDING
    polls: int = 0
    error: str | None = None


def _api_error(status: int, message: str, code: str) -> Response:
    """edx-platform's `api_error` body."""
    return Response.json(status, {"developer_message": message, "error_code": code})


@cache
def _tarball(course: CourseRun) -> bytes:
    return course_export(course)


class StudioApi:
    """The course export API of every legacy deployment's Studio."""

    def __init__(
        self,
        institution: Institution,
        *,
        deployments: Iterable[str] = LEGACY_DEPLOYMENTS,
        token_ttl: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.institution = institution
        self.deployment_names = tuple(deployments)
        self.token_ttl = token_ttl
        self.tokens = TokenStore(clock)
        self.export_polls = 2
        self.stalled_courses: set[str] = set()
        self._failures: dict[str | None, int] = {}
        self._lock = threading.Lock()
        self._tasks: dict[str, ExportTask] = {}
        self.exports_started = 0
        self.downloads = 0

    def deployment(self, name: str) -> DeploymentData | None:
        if name not in self.deployment_names:
            return None
        return edxapp_deployment(self.institution, name)

    def fail_exports(self, course_id: str | None = None, times: int = 1) -> None:
        """The next `times` export tasks of `course_id` (None: of any course) end `Failed`."""
        with self._lock:
            self._failures[course_id] = self._failures.get(course_id, 0) + times

    @property
    def tasks(self) -> list[ExportTask]:
        with self._lock:
            return list(self._tasks.values())

    # -- routing ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; `request.path` is below the `/studio` prefix."""
        segments = [unquote(s) for s in request.path.split("/") if s]
        if not segments:
            return Response.json(404, {"detail": "Not found."})
        deployment = self.deployment(segments[0])
        if deployment is None:
            return Response.json(404, {"detail": f"Unknown Studio {segments[0]!r}."})
        route = segments[1:]
        if route == ["oauth2", "access_token"]:
            if request.method != "POST":
                return Response.json(405, {"detail": "Method not allowed."}, {"Allow": "POST"})
            return self.access_token(request, deployment.name)
        if len(route) == 2 and route[0] == "exports" and route[1].endswith(".tar.gz"):
            return self.download(deployment, route[1].removesuffix(".tar.gz"))
        if "/".join(route[:4]) != EXPORT_PATH or len(route) > 5:
            return Response.json(404, {"detail": "Not found."})
        denied = self.authenticate(request, deployment.name)
        if denied is not None:
            return denied
        if len(route) == 4:
            if request.method != "POST":
                return Response.json(405, {"detail": "Method not allowed."}, {"Allow": "POST"})
            return self.start(request, deployment)
        if request.method != "GET":
            return Response.json(405, {"detail": "Method not allowed."}, {"Allow": "GET"})
        return self.status(request, deployment, route[4])

    # -- auth ---------------------------------------------------------------------------------

    def access_token(self, request: Request, deployment: str) -> Response:
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        client_id = (form.get("client_id") or [""])[0]
        client_secret = (form.get("client_secret") or [""])[0]
        if (form.get("grant_type") or [""])[0] != "client_credentials":
            return Response.json(400, {"error": "unsupported_grant_type"})
        if not (
            secrets.compare_digest(client_id, client_id_for(deployment))
            and secrets.compare_digest(client_secret, client_secret_for(deployment))
        ):
            return Response.json(401, {"error": "invalid_client"})
        token = self.tokens.issue(deployment, self.token_ttl)
        token_type = "JWT" if (form.get("token_type") or [""])[0].lower() == "jwt" else "Bearer"
        return Response.json(
            200,
            {
                "access_token": token,
                "token_type": token_type,
                "expires_in": int(self.token_ttl),
                "scope": "read write",
            },
            {"Cache-Control": "no-store"},
        )

    def authenticate(self, request: Request, deployment: str) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() not in ("jwt", "bearer") or not token.strip():
            return Response.json(401, {"detail": "Authentication credentials were not provided."})
        problem = self.tokens.check(token.strip(), deployment)
        if problem == "expired":
            return Response.json(
                401, {"detail": "Token has expired.", "error_code": "token_expired"}
            )
        if problem is not None:
            return Response.json(401, {"detail": "Invalid token."})
        return None

    # -- exports ------------------------------------------------------------------------------

    def start(self, request: Request, deployment: DeploymentData) -> Response:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            payload = {}
        course_ids = payload.get("courses") if isinstance(payload, dict) else None
        if not isinstance(course_ids, list) or not course_ids:
            return _api_error(400, "No course Id was provided", "internal_error")
        base = f"{request.origin}/{STUDIO_PREFIX}/{deployment.name}"
        urls: dict[str, str] = {}
        task_ids: dict[str, str] = {}
        failed: dict[str, str] = {}
        with self._lock:
            for course_id in map(str, course_ids):
                if deployment.course_run(course_id) is None:
                    failed[course_id] = f"Course {course_id} does not exist"
                    continue
                self.exports_started += 1
                task_id = str(uuid.UUID(int=(1 << 64) + len(self._tasks) + 1))
                self._tasks[task_id] = ExportTask(task_id, deployment.name, course_id)
                task_ids[course_id] = task_id
                urls[course_id] = f"{base}/exports/{quote(course_id, safe=':+')}.tar.gz"
        body = {"upload_urls": urls, "upload_task_ids": task_ids, "failed_uploads": failed}
        return Response.json(400 if failed else 200, body)

    def _advance(self, task: ExportTask) -> None:
        with self._lock:
            if task.state in (SUCCEEDED, FAILED):
                return
            task.polls += 1
            if task.course_id in self.stalled_courses or task.polls < self.export_polls:
                task.state = IN_PROGRESS
                return
            for key in (task.course_id, None):
                if self._failures.get(key, 0) > 0:
                    self._failures[key] -= 1
                    task.state = FAILED
                    task.error = f"Error while exporting {task.course_id}: modulestore timed out"
                    return
            task.state = SUCCEEDED

    def status(self, request: Request, deployment: DeploymentData, course_id: str) -> Response:
        if deployment.course_run(course_id) is None:
            return _api_error(
                404, f"Requested grade for unknown course {course_id}", "course_does_not_exist"
            )
        task = self._tasks.get(request.param("task_id") or "")
        if task is None or task.course_id != course_id or task.deployment != deployment.name:
            return Response.json(404, {"detail": "Task not found"})
        self._advance(task)
        return Response.json(200, {"state": task.state})

    def download(self, deployment: DeploymentData, course_id: str) -> Response:
        """The export bucket's object: the course's tarball once one of its tasks succeeded."""
        course = deployment.course_run(course_id)
        exported = any(
            task.course_id == course_id
            and task.deployment == deployment.name
            and task.state == SUCCEEDED
            for task in self.tasks
        )
        if course is None or not exported:
            return Response(
                404,
                b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
                b"</Message></Error>",
                {"Content-Type": "application/xml"},
            )
        with self._lock:
            self.downloads += 1
        return Response(200, _tarball(course), {"Content-Type": "application/x-tgz"})
