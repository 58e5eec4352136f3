"""The sandbox's discussion forum (cs_comments_service) of each legacy LMS deployment.

Served under `/forum/<deployment>/` for `ol_sandbox.edxapp.LEGACY_DEPLOYMENTS`: `.data` (threads,
responses and nested comments of each course, deterministic, awkward values included),
`.routes` (`ForumApi`: the service's `/api/v1/threads` endpoints behind its API key).
"""

from ol_sandbox.forum.data import ForumComment, ForumThread, forum_threads, object_id
from ol_sandbox.forum.routes import FORUM_PREFIX, ForumApi, api_key_for

__all__ = [
    "FORUM_PREFIX",
    "ForumApi",
    "ForumComment",
    "ForumThread",
    "api_key_for",
    "forum_threads",
    "object_id",
]
