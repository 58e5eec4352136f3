"""Open edX API payloads: the JSON the LMS REST API answers with, built from a `DeploymentData`.

`base` is one deployment's root URL (`<origin>/openedx/<deployment>`); `origin` the LMS site root.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ol_sandbox.data import CourseRun, Enrollment

BLOCK_BASE_FIELDS = ("id", "block_id", "type", "display_name", "lms_web_url", "student_view_url")
BLOCK_OPTIONAL_FIELDS = ("children", "graded", "format", "due")
_MONTHS = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
           "Nov.", "Dec.")  # fmt: skip


def start_display(iso: str) -> str:
    year, month, day = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
    return f"{_MONTHS[month - 1]} {day}, {year}"


def course_payload(course: CourseRun, base: str) -> dict[str, Any]:
    image = f"/asset-v1:{course.course_id[len('course-v1:') :]}+type@asset+block@course_image.png"
    return {
        "blocks_url": f"{base}/api/courses/v2/blocks/?course_id={quote(course.course_id)}",
        "effort": None,
        "end": course.end,
        "enrollment_start": course.enrollment_start,
        "enrollment_end": course.enrollment_end,
        "id": course.course_id,
        "course_id": course.course_id,
        "media": {"course_image": {"uri": image}, "course_video": {"uri": None}},
        "name": course.name,
        "number": course.number,
        "org": course.org,
        "short_description": course.short_description,
        "start": course.start,
        "start_display": start_display(course.start),
        "start_type": "timestamp",
        "pacing": course.pacing,
        "mobile_available": course.mobile_available,
        "hidden": course.hidden,
        "invitation_only": course.invitation_only,
    }


def blocks_payload(
    course: CourseRun, base: str, origin: str, requested: set[str], max_depth: int | None
) -> dict[str, Any]:
    by_key = {block.usage_key: block for block in course.blocks}
    depth = {course.root_key: 0}
    for block in course.blocks:  # blocks are stored depth-first, so parents come first
        for child in block.children:
            depth[child] = depth[block.usage_key] + 1
    included = {k for k, d in depth.items() if max_depth is None or d <= max_depth}
    lms_root = origin  # the LMS serves courseware at the site root
    payload: dict[str, dict[str, Any]] = {}
    for key in (k for k in by_key if k in included):
        block = by_key[key]
        entry: dict[str, Any] = {
            "id": key,
            "block_id": block.block_id,
            "type": block.block_type,
            "display_name": block.display_name,
            "lms_web_url": f"{lms_root}/courses/{course.course_id}/jump_to/{key}",
            "student_view_url": f"{base}/xblock/{key}",
        }
        children = [c for c in block.children if c in included]
        if "children" in requested and children:  # like the real API: leaves have no key
            entry["children"] = children
        if "graded" in requested:
            entry["graded"] = block.graded
        if "format" in requested:
            entry["format"] = block.format
        if "due" in requested:
            entry["due"] = block.due
        payload[key] = entry
    return {"root": course.root_key, "blocks": payload}


def enrollment_payload(row: Enrollment) -> dict[str, Any]:
    return {
        "created": row.created,
        "mode": row.mode,
        "is_active": row.is_active,
        "user": row.username,
        "course_id": row.course_id,
    }
