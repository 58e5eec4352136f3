"""The Canvas API client factory of this environment: the sandbox locally, MIT's Canvas deployed."""

import dagster as dg

from canvas.factory import RESOURCE_KEY
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.canvas import CanvasApiClientFactory

# The Canvas host per deployed environment (CANVAS_BASE_URL overrides it).
CANVAS_HOSTS = {"qa": "https://canvas.mit.edu", "production": "https://canvas.mit.edu"}


@dg.definitions
def resources() -> dg.Definitions:
    settings = get_settings()
    api = CanvasApiClientFactory(
        secrets=platform_secrets(settings),
        base_url=settings.source_base_url("canvas", CANVAS_HOSTS, "canvas"),
        secret_path=settings.secret_path("canvas/api"),
    )
    return dg.Definitions(resources={RESOURCE_KEY: api})
