"""The Open edX discussion forum (cs_comments_service): its threads and comments, and the raw
table built from them.

The forum keeps its posts in MongoDB; the service's REST API (`/api/v1/`, what the LMS itself
calls, authenticated by the service's API key in `X-Edx-Api-Key`) serves those documents as JSON
with every field IR uses — author ids, anonymity, votes, endorsement, nesting — without giving the
pipeline MongoDB credentials or a route to the database. `ForumClient.iter_course_threads` pages
through a course's threads (`GET /api/v1/threads?course_id=...`) and reads each one with its
responses and their comments (`GET /api/v1/threads/<id>?recursive=true`, paged by `resp_skip`);
discussion threads answer them in `children`, question threads in `endorsed_responses` and
`non_endorsed_responses`, as the service does. `forum_post_rows` flattens a thread into
`FORUM_POSTS` rows: the thread, each response and each comment on a response, one row each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from pydantic import Field

from ol_orchestrate.lib.http import ApiAuth, ApiClient, ApiError
from ol_orchestrate.lib.raw_tables import (
    RETRIEVED_AT,
    Column,
    RawTable,
    bool_,
    format_retrieved_at,
    int64,
    string,
)
from ol_orchestrate.resources.secrets import SecretsResource

THREADS_PATH = "/api/v1/threads"
THREADS_PER_PAGE = 100
RESPONSES_PER_PAGE = 100
# A course's thread list longer than this many pages is a runaway pagination, not a forum.
MAX_THREAD_PAGES = 10_000
THREAD, COMMENT = "CommentThread", "Comment"


class ForumApiKeyAuth(ApiAuth):
    """The forum service's shared API key, in `X-Edx-Api-Key`."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def auth_headers(self, client: ApiClient) -> dict[str, str]:
        return {"X-Edx-Api-Key": self._api_key}

    def secrets(self) -> tuple[str, ...]:
        return (self._api_key,)

    def __repr__(self) -> str:
        return "ForumApiKeyAuth(api_key=***)"


class ForumClient(ApiClient):
    """Client for one deployment's forum service (`base_url` without `/api/v1`)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        threads_per_page: int = THREADS_PER_PAGE,
        responses_per_page: int = RESPONSES_PER_PAGE,
        **api_client_kwargs: Any,
    ) -> None:
        super().__init__(base_url.rstrip("/"), ForumApiKeyAuth(api_key), **api_client_kwargs)
        self.threads_per_page = threads_per_page
        self.responses_per_page = responses_per_page

    def iter_thread_summaries(self, course_id: str) -> Iterator[dict[str, Any]]:
        """Every thread of the course (without responses), each once, across all pages.

        The service lists newest first: a thread posted while we page pushes older ones to the
        next page, where they are skipped the second time.
        """
        seen: set[str] = set()
        page = 1
        while page <= MAX_THREAD_PAGES:
            payload = self.get_json(
                THREADS_PATH,
                {"course_id": course_id, "page": page, "per_page": self.threads_per_page},
            )
            collection = payload.get("collection") if isinstance(payload, Mapping) else None
            if not isinstance(collection, list):
                msg = f"the forum's thread list of {course_id} (page {page}) has no collection"
                raise ApiError(msg, method="GET", endpoint=self.url_for(THREADS_PATH))
            for thread in collection:
                thread_id = str(thread.get("id")) if isinstance(thread, Mapping) else None
                if thread_id and thread_id not in seen:
                    seen.add(thread_id)
                    yield dict(thread)
            num_pages = payload.get("num_pages")
            if not collection or not isinstance(num_pages, int) or page >= num_pages:
                return
            page += 1
        msg = f"the forum's thread list of {course_id} has more than {MAX_THREAD_PAGES} pages"
        raise ApiError(msg, method="GET", endpoint=self.url_for(THREADS_PATH))

    def get_thread(self, thread_id: str) -> dict[str, Any]:
        """The thread with all its responses (and their comments) under `responses`."""
        responses: list[dict[str, Any]] = []
        skip = 0
        while True:
            payload = self.get_json(
                f"{THREADS_PATH}/{thread_id}",
                {
                    "recursive": "true",
                    "resp_skip": skip,
                    "resp_limit": self.responses_per_page,
                    "mark_as_read": "false",
                },
            )
            if not isinstance(payload, Mapping):
                msg = f"the forum's thread {thread_id} is not an object"
                raise ApiError(msg, method="GET", endpoint=self.url_for(THREADS_PATH))
            if "non_endorsed_responses" in payload or "endorsed_responses" in payload:
                if skip == 0:
                    responses.extend(payload.get("endorsed_responses") or [])
                page = list(payload.get("non_endorsed_responses") or [])
                total = payload.get("non_endorsed_resp_total")
            else:
                page = list(payload.get("children") or [])
                total = payload.get("resp_total")
            responses.extend(page)
            skip += len(page)
            if not page or not isinstance(total, int) or skip >= total:
                thread = {
                    key: value
                    for key, value in payload.items()
                    if key not in ("children", "endorsed_responses", "non_endorsed_responses")
                }
                thread["responses"] = responses
                return thread

    def iter_course_threads(self, course_id: str) -> Iterator[dict[str, Any]]:
        """Every thread of the course with its responses and comments (`get_thread`)."""
        for summary in self.iter_thread_summaries(course_id):
            yield self.get_thread(str(summary["id"]))


# -- the raw table -------------------------------------------------------------------------------

_TIME = "ISO-8601 UTC (`Z`), as the forum sends it"
FORUM_POSTS = RawTable(
    "forum_posts",
    (
        Column("deployment", nullable=False, given=True, description="the LMS deployment"),
        string("post_id", nullable=False, description="the document's ObjectId (hex)"),
        string("post_type", nullable=False, description="CommentThread or Comment"),
        string("course_id", nullable=False),
        string("commentable_id", description="the discussion the thread is in"),
        string("thread_id", nullable=False, description="the thread: its own id for a thread"),
        string("parent_id", description="the response a comment replies to (nested comments)"),
        int64("author_id", description="the author's LMS user id"),
        string("author_username", pii=True),
        string("title", description="threads only"),
        string("body", description="the post's text (markdown)"),
        string("thread_type", description="discussion or question (threads only)"),
        bool_("anonymous"),
        bool_("anonymous_to_peers"),
        string("created_at", description=_TIME),
        string("updated_at", description=_TIME),
        string("last_activity_at", description=f"threads only, {_TIME}"),
        int64("votes_up", path="votes.up_count"),
        int64("votes_down", path="votes.down_count"),
        int64("votes_point", path="votes.point"),
        int64("comment_count", description="a thread's comments, a response's replies"),
        bool_("endorsed", description="an endorsed answer (a thread: it has one)"),
        bool_("closed"),
        RETRIEVED_AT,
    ),
    description=(
        "one row per forum document: a thread, a response to it, or a comment on a response"
    ),
)


def _post(document: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    author = {"author_id": document.get("user_id"), "author_username": document.get("username")}
    return {**document, **author, **values}


def forum_post_rows(
    deployment: str, thread: Mapping[str, Any], retrieved_at: Any
) -> list[dict[str, Any]]:
    """`FORUM_POSTS` rows of one thread (`ForumClient.get_thread`): the thread, then each
    response followed by its comments, in the order the forum gave them."""
    given = {"deployment": deployment, "retrieved_at": format_retrieved_at(retrieved_at)}
    thread_id = thread.get("id")
    rows = [
        FORUM_POSTS.row(
            _post(
                thread,
                post_id=thread_id,
                post_type=THREAD,
                thread_id=thread_id,
                parent_id=None,
                comment_count=thread.get("comments_count"),
            ),
            **given,
        )
    ]

    def comments(document: Mapping[str, Any], parent: Any) -> None:
        rows.append(
            FORUM_POSTS.row(
                _post(
                    document,
                    post_id=document.get("id"),
                    post_type=COMMENT,
                    course_id=document.get("course_id") or thread.get("course_id"),
                    commentable_id=thread.get("commentable_id"),
                    thread_id=document.get("thread_id") or thread_id,
                    parent_id=document.get("parent_id") or parent,
                    title=None,
                    thread_type=None,
                    last_activity_at=None,
                    comment_count=document.get("child_count"),
                ),
                **given,
            )
        )
        for child in document.get("children") or ():
            if isinstance(child, Mapping):
                comments(child, document.get("id"))

    for response in thread.get("responses") or ():
        if isinstance(response, Mapping):
            comments(response, None)
    return rows


class ForumApiResource(dg.ConfigurableResource):
    """The discussion forum of one Open edX deployment.

    `base_url` comes from the code location's configuration for its environment, `secret_path`
    is the secret holding the service's `api_key`, read only when a client is built.
    """

    deployment: str
    base_url: str
    secret_path: str
    secrets: SecretsResource
    threads_per_page: int = Field(default=THREADS_PER_PAGE, description="Threads per list page")
    responses_per_page: int = Field(
        default=RESPONSES_PER_PAGE, description="Responses per page of a thread's detail"
    )
    max_retries: int = 5
    backoff_initial: float = 0.5
    timeout: float = Field(default=60.0, description="HTTP timeout per request")

    def client(self) -> ForumClient:
        return ForumClient(
            self.base_url,
            self.secrets.get_secret_value(self.secret_path, "api_key"),
            threads_per_page=self.threads_per_page,
            responses_per_page=self.responses_per_page,
            max_retries=self.max_retries,
            backoff_initial=self.backoff_initial,
            timeout=self.timeout,
        )
