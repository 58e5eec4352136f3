"""The Dagster resource that hands an Open edX deployment's API client to the assets.

Credentials come from the secrets resource when an asset runs, never at load time.
"""

from __future__ import annotations

import dagster as dg

from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.openedx import OpenEdxClient
from ol_orchestrate.resources.secrets import SecretsResource


class OpenEdxApiResource(dg.ConfigurableResource):
    """API access to one Open edX deployment named in the platform settings."""

    deployment: str
    secrets: dg.ResourceDependency[SecretsResource]

    def client(self) -> OpenEdxClient:
        deployment = get_settings().openedx_deployment(self.deployment)
        credentials = self.secrets.get_secret(deployment.secret_path)
        return OpenEdxClient(
            deployment.base_url,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
        )


def resource_key(deployment: str) -> str:
    return f"openedx_{deployment}"
