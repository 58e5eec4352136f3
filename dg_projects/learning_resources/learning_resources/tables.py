"""The raw tables the learning_resources location lands, declared once with their row builders.

Asset key `["learning_resources", "raw", <table>]`, lake path
`raw/learning_resources/<table>/data.parquet` (one snapshot per run, replaced), except `ovs_videos`:
one `dt=<video key>/data.parquet` per OVS video (a dynamic partition). Values are kept as the
sources send them (dates as text, topics as the source separates them); staging casts and the
`integrations__learn__<source>` models map them to the catalog's LearningResource shape. The dbt
sources (`src/ol_dbt/models/staging/learning_resources/_learning_resources__sources.yml`) are
tested against these declarations. MIT's edX.org programs are not landed here: their raw table is
the edxorg location's `catalog_programs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ol_orchestrate.lib.raw_tables import RETRIEVED_AT, RawTable, bool_, float64, int64, string

Rows = list[dict[str, Any]]

MIT_CLIMATE_ARTICLES = RawTable(
    "mit_climate_articles",
    (
        string("article_uuid", path="uuid", nullable=False),
        string("article_title", path="title", description="may hold HTML entities (&amp;)"),
        string("article_path", path="url", description="the article's path on the portal"),
        string("summary"),
        string("footnotes"),
        string("byline"),
        string("image_src", description="the image's path on the portal"),
        string("image_alt"),
        string("topics", description="topic names separated by vertical bars"),
        string("created", description="US/Eastern wall-clock time without an offset, as sent"),
        string("changed", description="US/Eastern, as sent"),
        RETRIEVED_AT,
    ),
    "one row per MIT Climate Portal article (explainers and Ask MIT Climate)",
)
MITPE_RESOURCES = RawTable(
    "mitpe_resources",
    (
        string("feed", nullable=False, given=True, description="courses or programs"),
        string("resource_uuid", path="uuid", nullable=False),
        string("title"),
        string("url"),
        string("description"),
        string("image_src", path="image__src"),
        string("image_alt", path="image__alt"),
        string("topics", description="topic names separated by vertical bars"),
        string("course_dates", description="courses: the dates as the site shows them"),
        string("start_date", description="courses: YYYY-MM-DD"),
        string("end_date", description="courses: YYYY-MM-DD"),
        string("learning_format", description="Online, In Person, Live Virtual"),
        string("price"),
        string("location"),
        string("lead_instructors"),
        string(
            "program_course_uuids",
            given=True,
            description="programs: their courses' uuids, comma-separated",
        ),
        RETRIEVED_AT,
    ),
    "one row per MIT Professional Education course or program, from its two JSON feeds",
)
OLL_COURSES = RawTable(
    "oll_courses",
    (
        string("readable_id", nullable=False, description="e.g. MITx+6.100x"),
        string("title"),
        string("url"),
        string("image_url"),
        string("description"),
        string("topics", description="topic names separated by vertical bars"),
        string("year"),
        string("semester"),
        bool_("published"),
        RETRIEVED_AT,
    ),
    "one row per Open Learning Library course, from its CSV course list",
)
SLOAN_COURSES = RawTable(
    "sloan_courses",
    (
        string("course_id", path="Course_Id", nullable=False),
        string("title", path="Title"),
        string("description", path="Description"),
        string("course_url", path="URL"),
        string("certification_type", path="Certification_Type"),
        string("topics", path="Topics", description="comma-separated"),
        string("image_url", path="Image_Src"),
        string("created", path="SourceCreateDate", description="ISO-8601, as sent"),
        string("modified", path="SourceLastModifiedDate", description="ISO-8601, as sent"),
        RETRIEVED_AT,
    ),
    "one row per MIT Sloan Executive Education course",
)
SLOAN_COURSE_OFFERINGS = RawTable(
    "sloan_course_offerings",
    (
        string("offering_id", path="CO_Id", nullable=False),
        string("course_id", path="Course_Id", nullable=False),
        string("offering_title", path="CO_Title"),
        string("start_date", path="Start_Date", description="YYYY-MM-DD"),
        string("end_date", path="End_Date", description="YYYY-MM-DD"),
        string("delivery", path="Delivery", description="In Person, Online"),
        string("duration", path="Duration"),
        float64("price", path="Price", description="USD"),
        string("location", path="Location"),
        string("faculty", path="Faculty_Name"),
        RETRIEVED_AT,
    ),
    "one row per offering (a dated session) of a Sloan course",
)
OVS_VIDEO_LIST = RawTable(
    "ovs_video_list",
    (
        string("video_key", path="key", nullable=False),
        string("title"),
        string("updated_at", description="when the video last changed (a detail to fetch again)"),
        RETRIEVED_AT,
    ),
    "one row per public OVS video marked for MIT Learn: what the discovery sensor partitions",
)
OVS_VIDEOS = RawTable(
    "ovs_videos",
    (
        string("video_key", path="key", nullable=False, description="the partition"),
        string("title"),
        string("description"),
        string("collection_title"),
        string("created_at"),
        string("updated_at"),
        int64("duration_seconds", path="duration"),
        string("cover_art_url"),
        string("youtube_id"),
        bool_("include_in_learn"),
        RETRIEVED_AT,
    ),
    "one row per OVS video (its detail call), one dt=<video key> partition each",
)
TABLES: tuple[RawTable, ...] = (
    MIT_CLIMATE_ARTICLES,
    MITPE_RESOURCES,
    OLL_COURSES,
    SLOAN_COURSES,
    SLOAN_COURSE_OFFERINGS,
    OVS_VIDEO_LIST,
    OVS_VIDEOS,
)


def climate_article_rows(articles: Iterable[Mapping[str, Any]], retrieved_at: str) -> Rows:
    return MIT_CLIMATE_ARTICLES.rows(articles, retrieved_at=retrieved_at)


def mitpe_rows(
    courses: Iterable[Mapping[str, Any]], programs: Iterable[Mapping[str, Any]], retrieved_at: str
) -> Rows:
    rows = MITPE_RESOURCES.rows(
        courses, feed="courses", program_course_uuids=None, retrieved_at=retrieved_at
    )
    for program in programs:
        members = program.get("courses")
        uuids = ",".join(str(u) for u in members) if isinstance(members, list) else None
        rows.append(
            MITPE_RESOURCES.row(
                program, feed="programs", program_course_uuids=uuids, retrieved_at=retrieved_at
            )
        )
    return rows


def oll_rows(records: Iterable[Mapping[str, Any]], retrieved_at: str) -> Rows:
    # A CSV has no nulls: an empty cell is a missing value.
    cleaned = [{key: (value if value != "" else None) for key, value in r.items()} for r in records]
    return OLL_COURSES.rows(cleaned, retrieved_at=retrieved_at)


def sloan_course_rows(courses: Iterable[Mapping[str, Any]], retrieved_at: str) -> Rows:
    return SLOAN_COURSES.rows(courses, retrieved_at=retrieved_at)


def sloan_offering_rows(offerings: Iterable[Mapping[str, Any]], retrieved_at: str) -> Rows:
    return SLOAN_COURSE_OFFERINGS.rows(offerings, retrieved_at=retrieved_at)


def ovs_list_rows(videos: Iterable[Mapping[str, Any]], retrieved_at: str) -> Rows:
    return OVS_VIDEO_LIST.rows(videos, retrieved_at=retrieved_at)


def ovs_video_rows(video: Mapping[str, Any], retrieved_at: str) -> Rows:
    return [OVS_VIDEOS.row(video, retrieved_at=retrieved_at)]
