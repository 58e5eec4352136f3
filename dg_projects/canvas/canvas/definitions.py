"""The canvas code location: per-course raw Canvas tables, the registry sensor, the refresh."""

import dagster as dg

from canvas.assets import CANVAS_ASSETS
from canvas.schedules import canvas_refresh_schedule
from canvas.sensors import canvas_course_registry_sensor
from ol_orchestrate.lib.definitions import build_definitions
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.canvas import CanvasApiResource
from ol_orchestrate.resources.secrets import SecretsResource


def build_canvas_definitions() -> dg.Definitions:
    settings = get_settings()
    secrets = SecretsResource.from_settings(settings)
    return build_definitions(
        assets=CANVAS_ASSETS,
        sensors=[canvas_course_registry_sensor],
        schedules=[canvas_refresh_schedule],
        resources={
            "canvas_api": CanvasApiResource(
                secrets=secrets,
                base_url=settings.canvas_base_url,
                secret_path=settings.canvas_secret_path,
            )
        },
        secrets=secrets,
        settings=settings,
    )


defs = build_canvas_definitions()
