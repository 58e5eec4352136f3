"""The learning catalogs the learning_resources location reads, as deterministic records.

One record list per source, derived from the institution's seed and its `courses` knob through a
private RNG (never the wall clock), so the same institution always serves the same catalogs.
Records are the sources' own payload shapes (`payloads` only pages or serializes them), kept
mutable behind a lock so tests can change, delete and add records on a running sandbox the way
the real catalogs change: `update`, `delete`, `add_ovs_video`.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ol_sandbox.data import Institution

# The sources served, and the field that identifies a record of each.
SOURCE_ID_FIELDS: Mapping[str, str] = {
    "mit_climate": "uuid",
    "mitpe_courses": "uuid",
    "mitpe_programs": "uuid",
    "oll": "readable_id",
    "sloan_courses": "Course_Id",
    "sloan_offerings": "CO_Id",
    "ovs": "key",
}

_TOPICS = (
    "Energy",
    "Climate Science",
    "Policy",
    "Data Science",
    "Materials Science",
    "Leadership",
    "Innovation",
    "Health Care",
    "Artificial Intelligence",
    "Manufacturing",
)
_SUBJECTS = (
    "Carbon Capture",
    "Grid Storage",
    "Sea-Level Rise",
    "Machine Learning for Leaders",
    "Supply Chain Resilience",
    "Négociation Strategies",
    "Additive Manufacturing",
    "Systems Thinking",
    "Digital Health",
    "Quantum Computing",
    "Urban Heat Islands",
    "Design Thinking",
)
_FIRST = ("Ana", "Ben", "Chloé")
# A fixed "now" for the catalogs' dates: the sandbox never reads the wall clock.
_EPOCH = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)


class UnknownRecordError(KeyError):
    """No record with that id in that source (the message names both)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _hex(text: str, length: int = 32) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _uuid(text: str) -> str:
    digest = _hex(text)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def _slug(text: str) -> str:
    kept = "".join(
        ch.lower() if ch.isalnum() else "-" for ch in text.encode("ascii", "ignore").decode()
    )
    return "-".join(part for part in kept.split("-") if part)


def _topics(rng: random.Random, count: int = 2) -> list[str]:
    return rng.sample(_TOPICS, count)


def _when(rng: random.Random, days_back: int = 400) -> datetime:
    return _EPOCH - timedelta(days=rng.randrange(days_back), minutes=rng.randrange(24 * 60))


def _climate_articles(rng: random.Random, count: int) -> list[dict[str, Any]]:
    articles = []
    for index in range(count):
        subject = _SUBJECTS[index % len(_SUBJECTS)]
        kind = ("explainers", "ask-mit-climate")[index % 2]
        title = (
            f"{subject} explained" if kind == "explainers" else f"How does {subject.lower()} work?"
        )
        if index == 1:
            title = "Oceans &amp; the carbon cycle"  # the portal sends HTML entities in titles
        created = _when(rng)
        slug = f"{_slug(subject)}-{index + 1}"
        articles.append(
            {
                "uuid": _uuid(f"climate:{index}"),
                "title": title,
                "url": f"/{kind}/{slug}",
                "summary": f"What science says about {subject.lower()}, in plain language.",
                "footnotes": "Sources: MIT Climate Portal editorial team.",
                "byline": f"Reviewed by MIT faculty, {created.year}",
                # Every third article has no image: the catalog gets `image: null` for it.
                "image_src": None if index % 3 == 2 else f"/sites/default/files/{slug}.jpg",
                "image_alt": None if index % 3 == 2 else f"Illustration: {subject}",
                "topics": "|".join(_topics(rng)),
                # Portal times are US/Eastern wall-clock strings without an offset.
                "created": created.strftime("%Y-%m-%d %H:%M:%S"),
                "changed": (created + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return articles


def _mitpe(rng: random.Random, count: int, programs: int) -> tuple[list[Any], list[Any]]:
    courses = []
    for index in range(count):
        subject = _SUBJECTS[(index + 3) % len(_SUBJECTS)]
        start = _EPOCH + timedelta(days=30 + 14 * index)
        courses.append(
            {
                "uuid": _uuid(f"mitpe-course:{index}"),
                "title": f"{subject} for Professionals",
                "url": f"https://professional.mit.edu/course-catalog/{_slug(subject)}",
                "description": f"A short course on {subject.lower()} for working engineers.",
                "image__src": f"https://professional.mit.edu/sites/default/files/{index + 1}.jpg",
                "image__alt": subject,
                "topics": "|".join(_topics(rng)),
                "course_dates": f"{start:%b %d, %Y} - {start + timedelta(days=4):%b %d, %Y}",
                "start_date": f"{start:%Y-%m-%d}",
                "end_date": f"{start + timedelta(days=4):%Y-%m-%d}",
                "learning_format": ("Online", "In Person", "Live Virtual")[index % 3],
                "price": f"${2500 + 250 * index:,}",
                "location": "Cambridge, MA" if index % 3 == 1 else "Online",
                "lead_instructors": f"Prof. {('Chen', 'Okafor', 'Silva', 'Novak')[index % 4]}",
            }
        )
    program_list = []
    for index in range(programs):
        members = courses[index::programs] or courses[:1]
        program_list.append(
            {
                "uuid": _uuid(f"mitpe-program:{index}"),
                "title": f"Professional Certificate Program in {_TOPICS[index % len(_TOPICS)]}",
                "url": f"https://professional.mit.edu/programs/certificate-{index + 1}",
                "description": "A certificate earned by completing its courses.",
                "image__src": f"https://professional.mit.edu/sites/default/files/p{index + 1}.jpg",
                "image__alt": "Certificate program",
                "topics": _TOPICS[index % len(_TOPICS)],
                "courses": [course["uuid"] for course in members],
            }
        )
    return courses, program_list


def _oll(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rows = []
    for index in range(count):
        subject = _SUBJECTS[(index + 5) % len(_SUBJECTS)]
        number = f"{6 + index}.{100 + 7 * index}x"
        rows.append(
            {
                "readable_id": f"MITx+{number}",
                "title": subject,
                "url": f"https://openlearninglibrary.mit.edu/courses/course-v1:MITx+{number}+1T2020/about",
                "image_url": f"https://openlearninglibrary.mit.edu/asset-v1:MITx+{number}+1T2020+type@asset+block@course.jpg",
                "description": f"An archived MITx course on {subject.lower()}.",
                "topics": "|".join(_topics(rng)),
                "year": str(2016 + index % 6),
                "semester": ("Spring", "Fall")[index % 2],
                # One course is withdrawn: the catalog lists it unpublished.
                "published": "false" if index == count - 1 and count > 1 else "true",
            }
        )
    return rows


def _sloan(rng: random.Random, count: int) -> tuple[list[Any], list[Any]]:
    courses, offerings = [], []
    for index in range(count):
        subject = _SUBJECTS[(index + 7) % len(_SUBJECTS)]
        course_id = f"a0N{_hex(f'sloan:{index}', 12).upper()}"
        created = _when(rng, 800)
        courses.append(
            {
                "Course_Id": course_id,
                "Title": f"{subject}: An Executive Program",
                "Description": f"Sloan faculty on {subject.lower()} for senior leaders.",
                "URL": f"https://executive.mit.edu/course/{_slug(subject)}/{course_id}.html",
                "Certification_Type": "Certificate of Completion",
                "Topics": ", ".join(_topics(rng)),
                "Image_Src": f"https://executive.mit.edu/media/{course_id}.jpg",
                "SourceCreateDate": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "SourceLastModifiedDate": (created + timedelta(days=20)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z"
                ),
            }
        )
        for run in range(1 + index % 2):
            start = _EPOCH + timedelta(days=20 + 40 * run + 9 * index)
            offerings.append(
                {
                    "CO_Id": f"{course_id}-{run + 1}",
                    "CO_Title": f"{subject} ({start:%B %Y})",
                    "Course_Id": course_id,
                    "Start_Date": f"{start:%Y-%m-%d}",
                    "End_Date": f"{start + timedelta(days=2):%Y-%m-%d}",
                    "Delivery": ("In Person", "Online")[run % 2],
                    "Duration": "3 days",
                    "Price": 5600 + 400 * index,
                    "Location": "Cambridge, MA" if run % 2 == 0 else "Online",
                    "Faculty_Name": f"{_FIRST[index % 3]} {('Ruiz', 'Kim')[run % 2]}",
                }
            )
    return courses, offerings


def ovs_video(index: int, rng: random.Random | None = None) -> dict[str, Any]:
    """The OVS video number `index` (its detail payload; the list shows a subset)."""
    rng = rng or random.Random(f"ovs:{index}")
    subject = _SUBJECTS[index % len(_SUBJECTS)]
    created = _when(rng, 300)
    key = _hex(f"ovs:{index}")
    return {
        "key": key,
        "title": f"Lecture: {subject}",
        "description": f"A recorded lecture on {subject.lower()}.",
        "collection_title": ("MIT Climate Seminars", "Open Learning Talks")[index % 2],
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "updated_at": (created + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "duration": 600 + 37 * index,
        "cover_art_url": f"https://video.odl.mit.edu/static/covers/{key}.jpg",
        "youtube_id": _hex(f"yt:{index}", 11),
        "include_in_learn": True,
    }


@dataclass
class LearnSourcesData:
    """Every catalog the sandbox serves (see the module doc). Thread-safe."""

    records: dict[str, list[dict[str, Any]]]
    next_video: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_institution(cls, institution: Institution) -> LearnSourcesData:
        rng = random.Random(f"{institution.seed}:learning_resources")
        count = max(1, institution.courses)
        mitpe_courses, mitpe_programs = _mitpe(rng, count, max(1, count // 3))
        sloan_courses, sloan_offerings = _sloan(rng, count)
        videos = count + 2
        return cls(
            records={
                "mit_climate": _climate_articles(rng, 2 * count + 1),
                "mitpe_courses": mitpe_courses,
                "mitpe_programs": mitpe_programs,
                "oll": _oll(rng, count),
                "sloan_courses": sloan_courses,
                "sloan_offerings": sloan_offerings,
                "ovs": [ovs_video(index) for index in range(videos)],
            },
            next_video=videos,
        )

    def list(self, source: str) -> builtins.list[dict[str, Any]]:
        """A copy of the source's records, in order."""
        with self._lock:
            return copy.deepcopy(self._records(source))

    def get(self, source: str, record_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._find(source, record_id))

    def update(self, source: str, record_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of one record (what an editor does in the source's CMS)."""
        with self._lock:
            record = self._find(source, record_id)
            record.update(fields)
            if source == "ovs":
                record["updated_at"] = _bump(record.get("updated_at"))
            return copy.deepcopy(record)

    def delete(self, source: str, record_id: str) -> None:
        """Remove one record: the source stops listing it."""
        with self._lock:
            records = self._records(source)
            record = self._find(source, record_id)
            records.remove(record)

    def add_ovs_video(self) -> str:
        """Publish a new OVS video; returns its key."""
        with self._lock:
            video = ovs_video(self.next_video)
            self.next_video += 1
            self.records["ovs"].append(video)
            return str(video["key"])

    def _records(self, source: str) -> builtins.list[dict[str, Any]]:
        try:
            return self.records[source]
        except KeyError:
            known = ", ".join(sorted(self.records))
            raise UnknownRecordError(
                f"unknown source {source!r}; the sandbox serves {known}"
            ) from None

    def _find(self, source: str, record_id: str) -> dict[str, Any]:
        id_field = SOURCE_ID_FIELDS[source]
        for record in self._records(source):
            if str(record.get(id_field)) == record_id:
                return record
        raise UnknownRecordError(f"{source} has no record {id_field}={record_id!r}")


def _bump(timestamp: Any) -> str:
    """An OVS `updated_at` one minute later (an edited video shows a new time in the list)."""
    try:
        when = datetime.strptime(str(timestamp), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        when = _EPOCH
    return (when + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
