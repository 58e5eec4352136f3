"""Open edX assets, built once per deployment by one factory."""

from __future__ import annotations

import dagster as dg

from openedx.assets.course_blocks import build_course_blocks_asset
from openedx.assets.course_runs import build_course_runs_asset
from openedx.assets.enrollments import build_enrollments_asset


def deployment_assets(deployment: str) -> list[dg.AssetsDefinition]:
    """The raw assets of one Open edX deployment."""
    return [
        build_course_runs_asset(deployment),
        build_course_blocks_asset(deployment),
        build_enrollments_asset(deployment),
    ]
