"""The discussion forum of each legacy LMS deployment: threads, responses and nested comments.

Deterministic from the institution: learners of a course start threads (every third enrollment)
and answer each other; ids are 24-hex ObjectIds; authors are the LMS database's users (ids
`1000 + index`, as in `ol_sandbox.edxapp`; staff endorse answers as user 7). Awkward on purpose:
non-ASCII titles, markdown bodies with newlines and tabs, anonymous posts, a question thread whose
responses are endorsed (cs_comments_service answers those in `endorsed_responses` /
`non_endorsed_responses`, not `children`), nested comments, closed and pinned threads, threads
with no response.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from ol_sandbox.data import Institution
from ol_sandbox.edxapp import FIRST_LEARNER_ID, edxapp_deployment

STAFF_USER = (7, "edx_staff")
_TITLES = (
    "Question about problem set 2",
    "Résumé des notes de la semaine",
    "证明 question: why does the proof hold?",
    "Office hours moved to Thursday?",
    'Typo in "Unit 3" video transcript',
)
_BODIES = (
    "I tried this:\n\n    x = 1\t# why?\n\nThanks!",
    "Is the *due date* for the lab\nstill Friday? 😅",
    "Ça ne marche pas — see `V = I·R`.",
    "Nothing to add, but:\n- point one\n- point two",
)


def object_id(text: str) -> str:
    """A stable 24-hex-digit ObjectId for `text`."""
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ForumComment:
    """A response to a thread (`parent_id` None, depth 0) or a comment on a response (depth 1)."""

    id: str
    thread_id: str
    course_id: str
    parent_id: str | None
    author_id: int
    author_username: str
    body: str
    created_at: str
    anonymous: bool
    endorsed: bool
    endorsed_by: int | None
    votes_up: int
    children: tuple[ForumComment, ...] = ()


@dataclass(frozen=True)
class ForumThread:
    id: str
    course_id: str
    commentable_id: str
    author_id: int
    author_username: str
    title: str
    body: str
    thread_type: str  # discussion | question
    anonymous: bool
    anonymous_to_peers: bool
    closed: bool
    pinned: bool
    created_at: str
    last_activity_at: str
    votes_up: int
    votes_down: int
    responses: tuple[ForumComment, ...]

    @property
    def comments_count(self) -> int:
        return sum(1 + len(response.children) for response in self.responses)


def forum_threads(institution: Institution, deployment: str) -> dict[str, tuple[ForumThread, ...]]:
    """Every course's threads (course id → threads, oldest first) of `deployment`."""
    return _threads(
        institution.seed, institution.courses, institution.learners, institution.days,
        institution.anchor, deployment,
    )  # fmt: skip


@cache
def _threads(
    seed: int, courses: int, learners: int, days: int, anchor: date, deployment: str
) -> dict[str, tuple[ForumThread, ...]]:
    institution = Institution.generate(seed, courses, learners, days, deployments=(), anchor=anchor)
    data = edxapp_deployment(institution, deployment)
    user_ids = {name: FIRST_LEARNER_ID + index for index, name in enumerate(data.usernames)}
    found: dict[str, tuple[ForumThread, ...]] = {}
    for course in data.course_runs:
        enrollments = list(data.enrollments.get(course.course_id, ()))
        threads: list[ForumThread] = []
        for position, enrollment in enumerate(enrollments[::3]):
            rng = random.Random(f"{seed}:forum:{deployment}:{course.course_id}:{position}")
            author = enrollment.username
            thread_id = object_id(f"thread:{deployment}:{course.course_id}:{position}")
            created = datetime.fromisoformat(enrollment.created.replace("Z", "+00:00"))
            created += timedelta(hours=rng.randint(1, 48), seconds=rng.randint(0, 3599))
            question = position % 2 == 1
            responses: list[ForumComment] = []
            at = created
            for reply in range(rng.choice((0, 1, 2, 3, 3))):
                at += timedelta(minutes=rng.randint(5, 600))
                responder = enrollments[(position * 3 + reply + 1) % len(enrollments)].username
                response_id = object_id(f"response:{thread_id}:{reply}")
                children: tuple[ForumComment, ...] = ()
                if reply == 0 and rng.random() < 0.6:
                    # A comment on the first response (a nested comment, depth 1).
                    child_at = at + timedelta(minutes=30)
                    children = (
                        ForumComment(
                            object_id(f"comment:{response_id}"), thread_id, course.course_id,
                            response_id, user_ids[author], author, "Thanks — that fixed it.",
                            _time(child_at), False, False, None, 0,
                        ),
                    )  # fmt: skip
                endorsed = question and reply == 0
                responses.append(
                    ForumComment(
                        response_id, thread_id, course.course_id, None, user_ids[responder],
                        responder, f"Reply {reply + 1}: try the hint in §{reply + 2}.",
                        _time(at), reply == 2 and position % 4 == 0, endorsed,
                        STAFF_USER[0] if endorsed else None, rng.randint(0, 4), children,
                    )
                )  # fmt: skip
            last = max(
                [at, *(datetime.fromisoformat(c.created_at[:-1] + "+00:00")
                       for r in responses for c in r.children)]
            )  # fmt: skip
            threads.append(
                ForumThread(
                    id=thread_id,
                    course_id=course.course_id,
                    commentable_id=(
                        "course" if position % 3 == 0 else object_id(f"topic:{course.course_id}")
                    ),
                    author_id=user_ids[author],
                    author_username=author,
                    title=_TITLES[position % len(_TITLES)],
                    body=_BODIES[position % len(_BODIES)],
                    thread_type="question" if question else "discussion",
                    anonymous=position % 5 == 4,
                    anonymous_to_peers=position % 7 == 3,
                    closed=position % 6 == 5,
                    pinned=position == 0,
                    created_at=_time(created),
                    last_activity_at=_time(last),
                    votes_up=rng.randint(0, 6),
                    votes_down=rng.randint(0, 1),
                    responses=tuple(responses),
                )
            )
        found[course.course_id] = tuple(sorted(threads, key=lambda t: (t.created_at, t.id)))
    return found


__all__ = ["STAFF_USER", "ForumComment", "ForumThread", "forum_threads", "object_id"]
