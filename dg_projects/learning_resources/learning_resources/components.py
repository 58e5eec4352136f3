"""The learning_resources location as configuration: MIT Learn's catalog and one file per source.

- `LearnCatalog` (`defs/catalog/defs.yaml`): where MIT Learn's webhooks go per deployed
  environment and the secret that signs them; it gives the `learn_webhook` resource (dev and ci:
  the sandbox's receiver; `MIT_LEARN_BASE_URL` points any environment at another catalog).
- `LearnSource` (`defs/sources/<name>/defs.yaml`): one learning catalog (a name of
  `learning_resources.sources.SOURCES`): its host per deployed environment, its daily refresh
  cron (staggered across sources), its secret if it has one, and its delivery's batch size. It
  gives the source's raw assets (and sensors), its API resource `learn_source_<name>`, and its
  delivery asset from the one factory (`learning_resources.delivery`).

Every section is validated when the location loads; nothing reads a secret or the network then.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from learning_resources.clients import LearnSourceResource
from learning_resources.delivery import LEARN_WEBHOOK_KEY, build_delivery_asset
from learning_resources.sources import SOURCES, SourceBuild, group_name, resource_key
from ol_orchestrate.lib.automation import DAILY_API, Cadence
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import Environment, get_settings
from ol_orchestrate.lib.learn_delivery import DEFAULT_BATCH_SIZE, DEFAULT_MAX_DELETE_SHARE
from ol_orchestrate.resources.learn import WEBHOOK_PATH, LearnWebhookResource

CATALOG_SOURCE_NAME = "mit_learn"
DEPLOYED = (Environment.QA.value, Environment.PRODUCTION.value)


def _check_environments(what: str, mapping: dict[str, str]) -> None:
    unknown = set(mapping) - set(DEPLOYED)
    if unknown:
        msg = (
            f"{what}: unknown environment(s) {sorted(unknown)} under hosts/token_urls; expected "
            f"{', '.join(DEPLOYED)} (dev and ci use the sandbox)"
        )
        raise ValueError(msg)


class LearnCatalog(dg.Component, dg.Model, dg.Resolvable):
    """MIT Learn's catalog: where the webhooks go and what signs them."""

    hosts: dict[str, str] = Field(
        default_factory=dict,
        description="The catalog's API host per deployed environment (qa, production)",
    )
    secret_path: str = Field(
        default="learn/webhook",
        description="Secret with the shared HMAC secret (key `secret`; under pipelines/ in Vault)",
    )
    webhook_path: str = Field(default=WEBHOOK_PATH, description="The webhook's path on the host")
    max_retries: int = Field(default=5, description="Retries of a 429/5xx webhook answer")
    timeout_seconds: float = Field(default=60.0)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        _check_environments("MIT Learn catalog", self.hosts)
        settings = get_settings()
        webhook = LearnWebhookResource(
            base_url=settings.source_base_url(CATALOG_SOURCE_NAME, self.hosts, "mit_learn"),
            secret_path=settings.secret_path(self.secret_path),
            secrets=platform_secrets(settings),
            webhook_path=self.webhook_path,
            max_retries=self.max_retries,
            timeout=self.timeout_seconds,
        )
        return dg.Definitions(resources={LEARN_WEBHOOK_KEY: webhook})


class LearnSource(dg.Component, dg.Model, dg.Resolvable):
    """One learning catalog fed to MIT Learn: raw assets, API resource and delivery."""

    source: str = Field(description=f"Which source: one of {', '.join(SOURCES)}")
    hosts: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "The source's API base URL per deployed environment (qa, production); dev and ci "
            "use the sandbox. <SOURCE>_BASE_URL overrides it."
        ),
    )
    refresh_cron: str = Field(
        default=DAILY_API.cron or "", description="When the raw assets refresh (UTC cron)"
    )
    secret_path: str = Field(
        default="", description="OAuth2 client_id/client_secret, if the API needs them"
    )
    token_urls: dict[str, str] = Field(
        default_factory=dict,
        description="The OAuth2 token endpoint per deployed environment (<host>/oauth/token)",
    )
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, description="Resources per webhook")
    max_delete_share: float = Field(
        default=DEFAULT_MAX_DELETE_SHARE,
        ge=0,
        le=1,
        description="Refuse a delivery deleting more than this share of what was delivered",
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        spec = SOURCES.get(self.source)
        if spec is None:
            msg = (
                f"learning source {self.source!r} is unknown; expected one of {', '.join(SOURCES)}"
            )
            raise ValueError(msg)
        _check_environments(f"learning source {self.source!r}", {**self.hosts, **self.token_urls})
        settings = get_settings()
        group = group_name(spec.name)
        delivery = build_delivery_asset(
            spec.etl_source,
            spec.model,
            group_name=group,
            description=spec.description,
            batch_size=self.batch_size,
            max_delete_share=self.max_delete_share,
        )
        defs = dg.Definitions(assets=[delivery])
        if spec.build is None or spec.sandbox_path is None:
            return defs
        cadence = Cadence(cron=self.refresh_cron or None, max_lag=DAILY_API.max_lag)
        api = LearnSourceResource(
            base_url=settings.source_base_url(spec.name, self.hosts, spec.sandbox_path),
            secrets=platform_secrets(settings),
            secret_path=settings.secret_path(self.secret_path) if self.secret_path else "",
            token_url=""
            if settings.is_local
            else self.token_urls.get(settings.environment.value, ""),
        )
        raw = spec.build(SourceBuild(spec.name, cadence))
        return dg.Definitions.merge(
            defs, raw, dg.Definitions(resources={resource_key(spec.name): api})
        )
