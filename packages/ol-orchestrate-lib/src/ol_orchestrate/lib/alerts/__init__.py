"""Failure alerts any code location can use: describing failures, de-duplicating, messages.

- `failures`: a failed run or check evaluation, read from the Dagster instance (location, step,
  error type and first line, code error or worker interruption, retry state; dbt tests);
- `events`: run failures and check evaluations after a storage id (the sensors' cursors);
- `dedup`: at most one alert per fingerprint per window, repeats counted;
- `messages`: Slack Block Kit messages within Slack's limits, and Sentry events;
- `scrub`: secrets redacted from every text that leaves the platform.

The notifier resource that sends them is `ol_orchestrate.resources.alerts.AlertNotifier`.
"""

from ol_orchestrate.lib.alerts.dedup import Deduplicator, Occurrences
from ol_orchestrate.lib.alerts.events import (
    NO_EVENTS,
    fetch_check_evaluations,
    fetch_run_failures,
    latest_check_evaluation_id,
    latest_run_failure_id,
)
from ol_orchestrate.lib.alerts.failures import (
    INTERRUPTIONS,
    LOCATION_TAG,
    RETRY_TAGS,
    CheckEvaluation,
    ErrorClass,
    RetryState,
    RunFailure,
    describe_check_evaluation,
    describe_run_failure,
    failure_fingerprint,
    fingerprint_key,
    first_line,
    has_retry_run,
    retry_state,
    run_location,
    step_asset_keys,
)
from ol_orchestrate.lib.alerts.messages import (
    MAX_CHECK_BLOCKS,
    SLACK_MAX_BLOCKS,
    DagsterLinks,
    SlackMessage,
    check_failures_message,
    failure_title,
    repeat_summary_message,
    run_failure_message,
    run_failures_digest,
    sentry_event,
)
from ol_orchestrate.lib.alerts.scrub import REDACTED, scrub_secrets

__all__ = [
    "INTERRUPTIONS",
    "LOCATION_TAG",
    "MAX_CHECK_BLOCKS",
    "NO_EVENTS",
    "REDACTED",
    "RETRY_TAGS",
    "SLACK_MAX_BLOCKS",
    "CheckEvaluation",
    "DagsterLinks",
    "Deduplicator",
    "ErrorClass",
    "Occurrences",
    "RetryState",
    "RunFailure",
    "SlackMessage",
    "check_failures_message",
    "describe_check_evaluation",
    "describe_run_failure",
    "failure_fingerprint",
    "failure_title",
    "fetch_check_evaluations",
    "fetch_run_failures",
    "fingerprint_key",
    "first_line",
    "has_retry_run",
    "latest_check_evaluation_id",
    "latest_run_failure_id",
    "repeat_summary_message",
    "retry_state",
    "run_failure_message",
    "run_failures_digest",
    "run_location",
    "scrub_secrets",
    "sentry_event",
    "step_asset_keys",
]
