"""Enrollments in every course run of a deployment (`/api/enrollment/v1/enrollments/`)."""

import dagster as dg

from ol_orchestrate.lib.automation import Cadence
from ol_orchestrate.resources.openedx import ENROLLMENTS_SCHEMA, enrollment_rows
from openedx.defs.per_course import build_per_course_asset


def build_enrollments_asset(deployment: str, cadence: Cadence) -> dg.AssetsDefinition:
    return build_per_course_asset(
        deployment,
        "enrollments",
        description=(
            f"Every enrollment (learner, mode, active flag, created time) in every {deployment} "
            "course run. Usernames are personal data: staging hashes them."
        ),
        fetch_rows=lambda client, name, course_id, retrieved_at: enrollment_rows(
            name, client.iter_enrollments(course_id), retrieved_at
        ),
        schema=ENROLLMENTS_SCHEMA,
        cadence=cadence,
        required=["course_id", "username"],
    )
