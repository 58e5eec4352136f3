"""`PlatformAlerts`: the platform's failure alerts as a YAML component.

`defs/alerts/defs.yaml` says, per environment, which Slack channel the alerts go to and which
Dagster UI they link to, and the de-dup window and rate limits (defaults for every environment,
overridable per environment). The component builds the `alert_notifier` resource (Slack and
Sentry credentials read from the secrets resource when a sensor ticks) and the two sensors. Every
environment section is validated at load, so a typo fails `dg check defs`, not the first alert.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
from pydantic import BaseModel, Field

from data_platform.alerts.check_failures import build_check_failure_sensor
from data_platform.alerts.policy import AlertPolicy
from data_platform.alerts.run_failures import RESOURCE_KEY, build_run_failure_sensor
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import Environment, PlatformSettings, get_settings
from ol_orchestrate.resources.alerts import SLACK_API_URL, AlertNotifier

SLACK_SANDBOX_PATH = "slack/api"
SENTRY_SANDBOX_PATH = "sentry"


class EnvironmentAlerts(BaseModel, extra="forbid"):
    """One environment's alert destination, and any limits that differ from the defaults."""

    slack_channel: str = Field(description="channel the bot token posts to, e.g. #data-alerts")
    dagster_base_url: str = Field(description="the Dagster UI the messages link to")
    dedup_window_minutes: float | None = None
    max_messages_per_tick: int | None = None
    retry_grace_minutes: float | None = None


class PlatformAlerts(dg.Component, dg.Model, dg.Resolvable):
    """Run-failure and check-failure alerts to Slack and Sentry, configured per environment."""

    slack_secret_path: str = Field(
        default="slack/alerts",
        description="secret with `token` (bot token) or `webhook_url`; under pipelines/ in Vault",
    )
    sentry_secret_path: str = Field(
        default="sentry/alerts", description="secret with `dsn`; under pipelines/ in Vault"
    )
    dedup_window_minutes: float = Field(
        default=60, description="a failure fingerprint is reported at most once per window"
    )
    max_messages_per_tick: int = Field(default=5, description="run-failure messages per tick")
    max_failures_per_tick: int = Field(default=200, description="failure events read per tick")
    retry_grace_minutes: float = Field(
        default=15, description="how long a promised retry may take to start"
    )
    max_check_blocks: int = Field(default=49, description="failed checks per message (<= 49)")
    max_check_events_per_tick: int = Field(default=1000, description="evaluations read per tick")
    interval_seconds: int = Field(default=60, description="minimum seconds between ticks")
    environments: dict[str, EnvironmentAlerts] = Field(
        description="dev, ci, qa, production: channel and Dagster URL (and overrides)"
    )

    def policy(self, environment: str) -> AlertPolicy:
        section = self.environments[environment]
        return AlertPolicy(
            environment=environment,
            dedup_window=timedelta(
                minutes=_pick(section.dedup_window_minutes, self.dedup_window_minutes)
            ),
            max_failures_per_tick=self.max_failures_per_tick,
            max_messages_per_tick=int(
                _pick(section.max_messages_per_tick, self.max_messages_per_tick)
            ),
            retry_grace=timedelta(
                minutes=_pick(section.retry_grace_minutes, self.retry_grace_minutes)
            ),
            max_check_events_per_tick=self.max_check_events_per_tick,
            max_check_blocks=self.max_check_blocks,
            interval_seconds=self.interval_seconds,
        )

    def notifier(self, settings: PlatformSettings) -> AlertNotifier:
        section = self.environments[settings.environment.value]
        return AlertNotifier(
            secrets=platform_secrets(settings),
            environment=settings.environment.value,
            slack_channel=section.slack_channel,
            slack_secret_path=settings.secret_path(self.slack_secret_path),
            slack_api_url=settings.source_base_url(
                "slack", {"qa": SLACK_API_URL, "production": SLACK_API_URL}, SLACK_SANDBOX_PATH
            ),
            sentry_secret_path=settings.secret_path(self.sentry_secret_path),
            sentry_ingest_url=sentry_ingest_url(settings),
            dagster_base_url=section.dagster_base_url,
        )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        missing = sorted({env.value for env in Environment} - set(self.environments))
        unknown = sorted(set(self.environments) - {env.value for env in Environment})
        if missing or unknown:
            msg = (
                f"{context.path}: alerts need a section per environment; missing: "
                f"{', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}"
            )
            raise ValueError(msg)
        for name in self.environments:
            self.policy(name)  # validates every environment's limits now
        settings = get_settings()
        policy = self.policy(settings.environment.value)
        return dg.Definitions(
            sensors=[
                build_run_failure_sensor(policy, settings),
                build_check_failure_sensor(policy, settings),
            ],
            resources={RESOURCE_KEY: self.notifier(settings)},
        )


def _pick(override: float | None, default: float) -> float:
    return default if override is None else override


def sentry_ingest_url(settings: PlatformSettings) -> str | None:
    """Where Sentry events go instead of the DSN's host: the sandbox in dev/ci (whatever port it
    runs on), `SENTRY_BASE_URL` when set; None (the DSN's own host) when deployed."""
    override = settings.base_url_overrides.get("sentry")
    if override:
        return override.rstrip("/")
    if settings.is_local and settings.sandbox_url:
        return f"{settings.sandbox_url}/{SENTRY_SANDBOX_PATH}"
    return None
