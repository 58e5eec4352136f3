"""Forum HTTP routes: `ForumApi`, the discussion service's REST API under `/forum/<deployment>/`.

The API is cs_comments_service's (`/api/v1/`, what the LMS itself calls; the forum's MongoDB
documents as JSON), authenticated by the service's API key (`X-Edx-Api-Key`,
`sandbox-forum-key-<deployment>`):

- `GET api/v1/threads?course_id=<id>&page=N&per_page=M` (default 20, at most 100; newest first)
  → `{"collection": [thread, ...], "page", "num_pages", "thread_count"}`; a page past the end has
  an empty collection;
- `GET api/v1/threads/<thread_id>?recursive=true&resp_skip=S&resp_limit=L` → the thread with its
  responses, each with its comments in `children`: a discussion thread's in `children` (with
  `resp_total`), a question thread's in `endorsed_responses` (all) and `non_endorsed_responses`
  (paged, with `non_endorsed_resp_total`), as the service answers them. Unknown → 404.

Thread and comment fields are the service's (`user_id` as text, `votes` as an object, `type`
`thread` / `comment`, `depth`, `parent_id`, `endorsement`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from ol_sandbox.data import Institution
from ol_sandbox.edxapp import LEGACY_DEPLOYMENTS
from ol_sandbox.forum.data import ForumComment, ForumThread, forum_threads
from ol_sandbox.routing import Request, Response

FORUM_PREFIX = "forum"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
DEFAULT_RESP_LIMIT = 100


def api_key_for(deployment: str) -> str:
    """The sandbox forum's API key of `deployment`."""
    return f"sandbox-forum-key-{deployment}"


def _votes(up: int, down: int = 0) -> dict[str, int]:
    return {"count": up + down, "up_count": up, "down_count": down, "point": up - down}


def comment_payload(comment: ForumComment, thread: ForumThread, depth: int) -> dict[str, Any]:
    endorsement = (
        {"user_id": str(comment.endorsed_by), "time": comment.created_at}
        if comment.endorsed
        else None
    )
    return {
        "id": comment.id,
        "body": comment.body,
        "course_id": comment.course_id,
        "endorsed": comment.endorsed,
        "endorsement": endorsement,
        "anonymous": comment.anonymous,
        "anonymous_to_peers": False,
        "created_at": comment.created_at,
        "updated_at": comment.created_at,
        "at_position_list": [],
        "user_id": str(comment.author_id),
        "username": comment.author_username,
        "depth": depth,
        "closed": thread.closed,
        "thread_id": comment.thread_id,
        "parent_id": comment.parent_id,
        "votes": _votes(comment.votes_up),
        "type": "comment",
        "abuse_flaggers": [],
        "child_count": len(comment.children),
        "children": [comment_payload(child, thread, depth + 1) for child in comment.children],
    }


def thread_payload(thread: ForumThread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "title": thread.title,
        "body": thread.body,
        "course_id": thread.course_id,
        "commentable_id": thread.commentable_id,
        "anonymous": thread.anonymous,
        "anonymous_to_peers": thread.anonymous_to_peers,
        "created_at": thread.created_at,
        "updated_at": thread.created_at,
        "last_activity_at": thread.last_activity_at,
        "at_position_list": [],
        "closed": thread.closed,
        "user_id": str(thread.author_id),
        "username": thread.author_username,
        "votes": _votes(thread.votes_up, thread.votes_down),
        "abuse_flaggers": [],
        "type": "thread",
        "thread_type": thread.thread_type,
        "comments_count": thread.comments_count,
        "pinned": thread.pinned,
        "endorsed": any(response.endorsed for response in thread.responses),
        "group_id": None,
        "context": "course",
        "read": False,
        "unread_comments_count": thread.comments_count,
    }


def _int(request: Request, name: str, default: int) -> int | None:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


class ForumApi:
    """The discussion service of every legacy deployment."""

    def __init__(
        self, institution: Institution, *, deployments: Iterable[str] = LEGACY_DEPLOYMENTS
    ) -> None:
        self.institution = institution
        self.deployment_names = tuple(deployments)

    def threads(self, deployment: str) -> dict[str, tuple[ForumThread, ...]]:
        return forum_threads(self.institution, deployment)

    def handle(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        if not segments or segments[0] not in self.deployment_names:
            return Response.json(404, {"error": "not found"})
        deployment, route = segments[0], segments[1:]
        if route[:3] != ["api", "v1", "threads"] or len(route) > 4:
            return Response.json(404, {"error": "not found"})
        if request.method != "GET":
            return Response.json(405, {"error": "method not allowed"}, {"Allow": "GET"})
        key = request.headers.get("x-edx-api-key", "")
        if not secrets.compare_digest(key, api_key_for(deployment)):
            return Response.json(401, {"error": "unauthorized"})
        if len(route) == 3:
            return self.list_threads(request, deployment)
        return self.thread(request, deployment, route[3])

    def list_threads(self, request: Request, deployment: str) -> Response:
        course_id = request.param("course_id")
        page = _int(request, "page", 1)
        per_page = _int(request, "per_page", DEFAULT_PER_PAGE)
        if not course_id or page is None or per_page is None or page < 1 or per_page < 1:
            return Response.json(400, {"error": "course_id, page and per_page are required"})
        per_page = min(per_page, MAX_PER_PAGE)
        newest_first = sorted(
            self.threads(deployment).get(course_id, ()),
            key=lambda thread: (thread.created_at, thread.id),
            reverse=True,
        )
        chunk = newest_first[(page - 1) * per_page : page * per_page]
        return Response.json(
            200,
            {
                "collection": [thread_payload(thread) for thread in chunk],
                "page": page,
                "num_pages": max(1, -(-len(newest_first) // per_page)),
                "thread_count": len(newest_first),
            },
        )

    def thread(self, request: Request, deployment: str, thread_id: str) -> Response:
        found = next(
            (
                thread
                for threads in self.threads(deployment).values()
                for thread in threads
                if thread.id == thread_id
            ),
            None,
        )
        if found is None:
            return Response.json(404, {"error": "thread not found"})
        payload = thread_payload(found)
        if (request.param("recursive") or "").lower() != "true":
            return Response.json(200, payload)
        skip = max(0, _int(request, "resp_skip", 0) or 0)
        limit = max(1, _int(request, "resp_limit", DEFAULT_RESP_LIMIT) or DEFAULT_RESP_LIMIT)
        responses = [comment_payload(response, found, 0) for response in found.responses]
        if found.thread_type == "question":
            endorsed = [response for response in responses if response["endorsed"]]
            others = [response for response in responses if not response["endorsed"]]
            payload["endorsed_responses"] = endorsed
            payload["non_endorsed_responses"] = others[skip : skip + limit]
            payload["non_endorsed_resp_total"] = len(others)
        else:
            payload["children"] = responses[skip : skip + limit]
            payload["resp_total"] = len(responses)
        payload["resp_skip"] = skip
        payload["resp_limit"] = limit
        return Response.json(200, payload)
