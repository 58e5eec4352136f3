"""`EdxorgDelivery`: what edX.org delivers to one org, and where, as a YAML component.

`defs/delivery/defs.yaml` names the org, the delivery bucket and its prefixes, the catalog API's
hosts per deployed environment and the secrets; the component turns it into the location's two
resources: `edxorg_delivery` (the bucket, `EdxorgDeliveryBucket`) and `edxorg_catalog` (the
Discovery API, `EdxorgCatalogResource`). dev and ci read the sandbox: its S3 endpoint
(`settings.sandbox_s3_url`) and its catalog; qa and production AWS and edX's hosts.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from edxorg.delivery import EdxorgDeliveryBucket
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.edxorg_catalog import EdxorgCatalogResource

DELIVERY_RESOURCE_KEY = "edxorg_delivery"
CATALOG_RESOURCE_KEY = "edxorg_catalog"


class EdxorgDelivery(dg.Component, dg.Model, dg.Resolvable):
    """edX.org's deliveries to one org: its bucket and its catalog API."""

    org: str = Field(
        description="The delivering org's prefix, e.g. mitx (archives mitx-<date>.tar.gz)"
    )
    catalog_org: str = Field(description="The org's key in edX's catalog, e.g. MITx")
    bucket: str = Field(description="edX's delivery bucket")
    archive_prefix: str = Field(description="Key prefix of the weekly archives")
    tracking_log_prefix: str = Field(description="Key prefix of the daily tracking logs")
    region: str = Field(default="us-east-1")
    delivery_secret_path: str = Field(
        default="edxorg/delivery",
        description=(
            "aws_access_key_id/aws_secret_access_key of the bucket (under pipelines/ in Vault)"
        ),
    )
    catalog_secret_path: str = Field(
        default="edxorg/catalog/oauth", description="client_id/client_secret of the catalog API"
    )
    catalog_hosts: dict[str, str] = Field(
        default_factory=dict, description="The catalog (Discovery) host per deployed environment"
    )
    token_urls: dict[str, str] = Field(
        default_factory=dict, description="The OAuth2 token endpoint per deployed environment"
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        settings = get_settings()
        secrets = platform_secrets(settings)
        delivery = EdxorgDeliveryBucket(
            org=self.org,
            bucket=self.bucket,
            archive_prefix=self.archive_prefix,
            tracking_log_prefix=self.tracking_log_prefix,
            region_name=self.region,
            endpoint_url=settings.sandbox_s3_url if settings.is_local else None,
            secret_path=settings.secret_path(self.delivery_secret_path),
            secrets=secrets,
        )
        catalog = EdxorgCatalogResource(
            base_url=settings.source_base_url("edxorg_catalog", self.catalog_hosts, "edxorg"),
            token_url=None
            if settings.is_local
            else self.token_urls.get(settings.environment.value),
            org=self.catalog_org,
            secret_path=settings.secret_path(self.catalog_secret_path),
            secrets=secrets,
        )
        return dg.Definitions(
            resources={DELIVERY_RESOURCE_KEY: delivery, CATALOG_RESOURCE_KEY: catalog}
        )
