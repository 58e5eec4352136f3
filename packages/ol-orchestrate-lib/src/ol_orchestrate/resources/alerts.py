"""`AlertNotifier`: where the platform's alerts go — a Slack channel and Sentry.

Slack goes through `slack_sdk` (a bot token posting with `chat.postMessage` to the configured
channel, or an incoming webhook; 429s, 5xx and dropped connections retried by the SDK's
handlers), Sentry through `sentry-sdk` (a client of its own, not the process-wide `init`, so a
code location's logging and exception hooks are left alone). Both are configured from the secrets
resource — `slack_secret_path` holding `token` or `webhook_url`, `sentry_secret_path` holding
`dsn` — read when a session opens, never at load time; a secret that is not there means that
channel is not configured, and it is skipped (and said so) rather than failing.

`build_sentry_failure_hook` reports a failure from inside the run, with the same fingerprint as
the run-failure sensor's events, so Sentry groups both as one issue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import sentry_sdk
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from ol_orchestrate.lib.alerts import (
    DagsterLinks,
    ErrorClass,
    RunFailure,
    SlackMessage,
    first_line,
    retry_state,
    run_location,
    scrub_secrets,
    sentry_event,
    step_asset_keys,
)
from ol_orchestrate.resources.secrets import SecretNotFoundError, SecretsResource

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
SLACK_TOKEN_KEY = "token"  # noqa: S105 - the name of a secret's key, not a secret
SLACK_WEBHOOK_KEY = "webhook_url"
SENTRY_DSN_KEY = "dsn"


class AlertDeliveryError(RuntimeError):
    """Slack refused or could not take a message; the message names the channel and Slack's
    error code, never a token or webhook URL."""


def rebase_dsn(dsn: str, ingest_url: str) -> str:
    """`dsn` with its scheme, host and path prefix replaced by `ingest_url`'s (key and project
    kept): the sandbox's Sentry locally, whatever port it was given."""
    parts, target = urlsplit(dsn), urlsplit(ingest_url.rstrip("/"))
    project = parts.path.rstrip("/").rsplit("/", 1)[-1]
    key = parts.username or ""
    prefix = target.path.rstrip("/")
    return f"{target.scheme}://{key}@{target.netloc}{prefix}/{project}"


class _SlackSender:
    """One configured Slack destination."""

    destination: str

    def post(self, message: SlackMessage) -> str | None:
        raise NotImplementedError


class _SlackWebApi(_SlackSender):
    def __init__(self, token: str, channel: str, base_url: str, timeout: float, retries: int):
        self.destination = channel
        self._channel = channel
        self._client = WebClient(
            token=token,
            base_url=base_url.rstrip("/") + "/",
            timeout=int(timeout),
            retry_handlers=_retry_handlers(retries),
        )

    def post(self, message: SlackMessage) -> str | None:
        try:
            response = self._client.chat_postMessage(
                channel=self._channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else "unknown"
            details = error.response.get("errors") if error.response is not None else None
            msg = f"Slack refused the alert for {self._channel}: {code}" + (
                f" ({'; '.join(map(str, details))})" if details else ""
            )
            raise AlertDeliveryError(msg) from None
        except (SlackClientError, OSError) as error:
            msg = (
                f"could not post the alert to Slack channel {self._channel}: {type(error).__name__}"
            )
            raise AlertDeliveryError(msg) from None
        return str(response.get("ts") or "") or None


class _SlackWebhook(_SlackSender):
    def __init__(self, url: str, timeout: float, retries: int):
        self.destination = "the incoming webhook"
        self._client = WebhookClient(
            url, timeout=int(timeout), retry_handlers=_retry_handlers(retries)
        )

    def post(self, message: SlackMessage) -> str | None:
        try:
            response = self._client.send(text=message.text, blocks=message.blocks)
        except (SlackClientError, OSError) as error:
            msg = f"could not post the alert to the Slack webhook: {type(error).__name__}"
            raise AlertDeliveryError(msg) from None
        if response.status_code != 200:
            msg = (
                f"the Slack webhook refused the alert: HTTP {response.status_code} {response.body}"
            )
            raise AlertDeliveryError(msg)
        return None


def _retry_handlers(retries: int) -> list[Any]:
    return [
        RateLimitErrorRetryHandler(max_retry_count=retries),
        ServerErrorRetryHandler(max_retry_count=retries),
        ConnectionErrorRetryHandler(max_retry_count=retries),
    ]


@dataclass
class AlertSession:
    """The channels of one sensor tick (or hook call): Slack and Sentry when configured."""

    environment: str
    links: DagsterLinks
    slack: _SlackSender | None = None
    sentry: sentry_sdk.Client | None = None
    known_secrets: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def slack_configured(self) -> bool:
        return self.slack is not None

    @property
    def sentry_configured(self) -> bool:
        return self.sentry is not None

    def scrub(self, text: str) -> str:
        return scrub_secrets(text, self.known_secrets)

    def capture(self, failure: RunFailure, *, source: str) -> str | None:
        """Send a failure to Sentry; its event id (None when Sentry is not configured)."""
        if self.sentry is None:
            return None
        event = sentry_event(failure, environment=self.environment, links=self.links, source=source)
        return self.sentry.capture_event(event)  # type: ignore[arg-type]  # a plain dict event

    def post(self, message: SlackMessage) -> str | None:
        """Post a message to Slack; its `ts` (None for a webhook, or when Slack is not
        configured). Raises `AlertDeliveryError` when Slack does not take it."""
        if self.slack is None:
            return None
        return self.slack.post(
            SlackMessage(self.scrub(message.text), _scrub_blocks(message.blocks, self.scrub))
        )


def _scrub_blocks(value: Any, scrub: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_blocks(item, scrub) for item in value]
    if isinstance(value, dict):
        return {key: _scrub_blocks(item, scrub) for key, item in value.items()}
    return value


class AlertNotifier(dg.ConfigurableResource):
    """The Slack channel and Sentry project of this environment's alerts.

    Nothing is read at load time: `session()` reads the secrets when a tick starts. A missing
    secret (or an empty path) leaves that channel out of the session, logged once.
    """

    secrets: SecretsResource
    environment: str = Field(description="dev | ci | qa | production: shown on every alert")
    slack_channel: str = Field(default="", description="channel a bot token posts to")
    slack_secret_path: str = Field(
        default="", description="secret holding `token` (a bot token) or `webhook_url`"
    )
    slack_api_url: str = Field(default=SLACK_API_URL, description="Slack Web API base URL")
    sentry_secret_path: str = Field(default="", description="secret holding `dsn`")
    sentry_ingest_url: str | None = Field(
        default=None,
        description="send Sentry events here instead of the DSN's host (the sandbox locally)",
    )
    dagster_base_url: str = Field(default="", description="the Dagster UI the alerts link to")
    timeout_seconds: float = 10.0
    slack_retries: int = 3

    @property
    def links(self) -> DagsterLinks:
        return DagsterLinks(self.dagster_base_url)

    def _secret(self, path: str, what: str, log: Any) -> dict[str, str] | None:
        if not path:
            log.info(f"{what}: no secret path configured; skipped")
            return None
        try:
            return self.secrets.get_secret(path)
        except SecretNotFoundError:
            log.info(f"{what}: secret {path!r} not found; skipped")
            return None

    @contextmanager
    def session(self, log: Any = None) -> Iterator[AlertSession]:
        """The configured channels; Sentry's queue is flushed when the block ends."""
        log = log or logger
        session = AlertSession(self.environment, self.links)
        known: list[str] = []
        slack = self._secret(self.slack_secret_path, "Slack alerts", log)
        if slack and slack.get(SLACK_TOKEN_KEY):
            if not self.slack_channel:
                log.warning("Slack alerts: a token but no channel configured; skipped")
            else:
                known.append(slack[SLACK_TOKEN_KEY])
                session.slack = _SlackWebApi(
                    slack[SLACK_TOKEN_KEY],
                    self.slack_channel,
                    self.slack_api_url,
                    self.timeout_seconds,
                    self.slack_retries,
                )
        elif slack and slack.get(SLACK_WEBHOOK_KEY):
            known.append(slack[SLACK_WEBHOOK_KEY])
            session.slack = _SlackWebhook(
                slack[SLACK_WEBHOOK_KEY], self.timeout_seconds, self.slack_retries
            )
        elif slack is not None:
            log.warning(
                f"Slack alerts: secret {self.slack_secret_path!r} has neither "
                f"{SLACK_TOKEN_KEY!r} nor {SLACK_WEBHOOK_KEY!r}; skipped"
            )
        sentry = self._secret(self.sentry_secret_path, "Sentry", log)
        if sentry and sentry.get(SENTRY_DSN_KEY):
            dsn = sentry[SENTRY_DSN_KEY]
            known.extend(v for v in (dsn, urlsplit(dsn).username) if v)
            if self.sentry_ingest_url:
                dsn = rebase_dsn(dsn, self.sentry_ingest_url)
            session.sentry = sentry_sdk.Client(
                dsn=dsn,
                environment=self.environment,
                default_integrations=False,
                auto_enabling_integrations=False,
                integrations=[],
                send_default_pii=False,
                max_breadcrumbs=0,
                shutdown_timeout=self.timeout_seconds,
            )
        session.known_secrets = tuple(known)
        try:
            yield session
        finally:
            if session.sentry is not None:
                session.sentry.flush(timeout=self.timeout_seconds)
                session.sentry.close(timeout=self.timeout_seconds)


def build_sentry_failure_hook(
    resource_key: str = "alert_notifier", *, name: str = "sentry_on_failure"
) -> dg.HookDefinition:
    """A failure hook sending the failed step to Sentry from inside the run.

    Same fingerprint (location, step, error type) as the run-failure sensor, so a failure both
    report is one Sentry issue. Attach it to a job (`hooks={...}`) with an `AlertNotifier` under
    `resource_key`.
    """

    @dg.failure_hook(name=name, required_resource_keys={resource_key})
    def _sentry_on_failure(context: dg.HookContext) -> None:
        notifier: AlertNotifier = getattr(context.resources, resource_key)
        run = context.instance.get_run_by_id(context.run_id)
        if run is None:
            return
        error = context.op_exception
        with notifier.session(context.log) as session:
            failure = RunFailure(
                run_id=run.run_id,
                location=run_location(run),
                job_name=run.job_name,
                partition_key=run.tags.get("dagster/partition"),
                step_key=context.step_key,
                asset_keys=tuple(step_asset_keys(context.instance, run, context.step_key)),
                error_type=type(error).__name__ if error else "Failure",
                error_message=session.scrub(first_line(str(error) if error else "")),
                error_class=ErrorClass.CODE_ERROR,
                retry=retry_state(context.instance, run),
                root_run_id=run.root_run_id or run.run_id,
            )
            event_id = session.capture(failure, source="failure_hook")
            if event_id:
                context.log.info(f"failure sent to Sentry: event {event_id}")

    return _sentry_on_failure
