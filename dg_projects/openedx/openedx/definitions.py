"""The openedx code location: one set of raw assets per configured Open edX deployment."""

from __future__ import annotations

import dagster as dg

from ol_orchestrate.lib.definitions import build_definitions
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.openedx import OpenEdxApiResource, openedx_resource_key
from ol_orchestrate.resources.secrets import SecretsResource
from openedx.assets import deployment_assets
from openedx.assets.tracking_logs import build_tracking_logs


def build_openedx_definitions() -> dg.Definitions:
    settings = get_settings()
    secrets = SecretsResource.from_settings(settings)
    names = [deployment.name for deployment in settings.openedx_deployments]
    tracking_logs = [build_tracking_logs(name, settings) for name in names]
    return build_definitions(
        assets=[asset for name in names for asset in deployment_assets(name)]
        + [logs.asset for logs in tracking_logs],
        sensors=[logs.sensor for logs in tracking_logs],
        resources={
            openedx_resource_key(name): OpenEdxApiResource(deployment=name, secrets=secrets)
            for name in names
        },
        secrets=secrets,
        settings=settings,
    )


defs = build_openedx_definitions()
