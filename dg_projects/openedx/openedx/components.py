"""`OpenEdxDeployment`: one Open edX installation as a YAML component.

Each deployment is one `defs/deployments/<name>/defs.yaml` naming the deployment, its host per
deployed environment and its refresh cron; this component turns it into the deployment's raw API
assets (course runs, course blocks, enrollments), its daily tracking-log asset with checks and
sensor, and the `openedx_<name>` API client factory. Adding a deployment is one such file.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from ol_orchestrate.lib.automation import DAILY_API, Cadence
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.openedx import OpenEdxApiClientFactory, openedx_resource_key
from openedx.defs.course_blocks import build_course_blocks_asset
from openedx.defs.course_runs import build_course_runs_asset
from openedx.defs.enrollments import build_enrollments_asset
from openedx.defs.tracking_logs import build_tracking_logs


def api_assets(deployment: str, cadence: Cadence = DAILY_API) -> list[dg.AssetsDefinition]:
    """The raw API assets of one deployment: course runs, then blocks and enrollments per run."""
    return [
        build_course_runs_asset(deployment, cadence),
        build_course_blocks_asset(deployment, cadence),
        build_enrollments_asset(deployment, cadence),
    ]


class OpenEdxDeployment(dg.Component, dg.Model, dg.Resolvable):
    """The raw assets, tracking logs and API client factory of one Open edX deployment."""

    deployment: str = Field(description="Short name: asset keys read openedx/raw/<name>_<table>")
    hosts: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "The LMS host per deployed environment (qa, production); dev and ci use the sandbox. "
            "OPENEDX_<NAME>_BASE_URL overrides it."
        ),
    )
    secret_path: str = Field(
        default="",
        description=(
            "Secret holding client_id/client_secret (default openedx/<name>/oauth; under "
            "pipelines/ in Vault)"
        ),
    )
    refresh_cron: str = Field(
        default=DAILY_API.cron or "", description="When the API assets refresh (UTC cron)"
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        settings = get_settings()
        name = self.deployment
        cadence = Cadence(cron=self.refresh_cron, max_lag=DAILY_API.max_lag)
        tracking_logs = build_tracking_logs(name, settings)
        api = OpenEdxApiClientFactory(
            deployment=name,
            base_url=settings.source_base_url(f"openedx_{name}", self.hosts, f"openedx/{name}"),
            secret_path=settings.secret_path(self.secret_path or f"openedx/{name}/oauth"),
            secrets=platform_secrets(settings),
        )
        return dg.Definitions(
            assets=[*api_assets(name, cadence), tracking_logs.asset],
            sensors=[tracking_logs.sensor],
            resources={openedx_resource_key(name): api},
        )
