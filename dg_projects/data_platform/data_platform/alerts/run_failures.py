"""The run-failure sensor: every failed run of every code location, to Sentry then to Slack.

One sensor reads the deployment's run failure events (its cursor: the last event's storage id)
rather than Dagster's per-run `run_failure_sensor`, because the decisions span a tick: repeats of
a fingerprint inside the de-dup window are counted, not sent; a tick sends at most
`max_messages_per_tick` messages, the rest of its failures in one digest; and a backlog drains
over later ticks without losing an event.

Retries: a failure Dagster will retry (`dagster/will_retry`) is not reported yet; its run is
remembered and dropped once its retry starts, whose own outcome is then reported — so a failure
retried three times is reported once, after the last attempt. A retry promised but not started
within `retry_grace` is reported anyway. Interruptions are reported as such (a warning in
Sentry, labelled in Slack), not as code errors.
"""

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEventType

from data_platform.alerts.policy import AlertPolicy
from ol_orchestrate.lib.alerts import (
    Deduplicator,
    RetryState,
    RunFailure,
    SlackMessage,
    describe_run_failure,
    failure_title,
    fetch_run_failures,
    has_retry_run,
    latest_run_failure_id,
    repeat_summary_message,
    run_failure_message,
    run_failures_digest,
)
from ol_orchestrate.lib.automation import daemon_only_tags, default_sensor_status
from ol_orchestrate.lib.environment import PlatformSettings
from ol_orchestrate.resources.alerts import AlertNotifier

SENSOR_NAME = "platform_run_failure_alerts"
RESOURCE_KEY = "alert_notifier"
# Runs awaiting a promised retry, remembered at most (the oldest are reported first anyway).
MAX_PENDING = 5000


@dataclass
class RunFailureCursor:
    """The sensor's state: the last failure event read, runs awaiting a retry, de-dup state."""

    after: int
    pending: dict[str, float] = field(default_factory=dict)  # run id -> when it failed
    dedup: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"after": self.after, "pending": self.pending, "dedup": self.dedup}, sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str) -> "RunFailureCursor":
        data = json.loads(text)
        return cls(
            int(data["after"]), dict(data.get("pending") or {}), dict(data.get("dedup") or {})
        )


@dataclass
class RunFailureTick:
    """What one evaluation did (the sensor's cursor and what it sent)."""

    cursor: str
    messages: list[SlackMessage] = field(default_factory=list)
    reported: list[RunFailure] = field(default_factory=list)
    sentry_event_ids: dict[str, str] = field(default_factory=dict)  # run id -> event id
    repeats_counted: int = 0
    still_failing: int = 0
    awaiting_retry: list[str] = field(default_factory=list)
    events_read: int = 0
    note: str = ""

    def summary(self) -> str:
        if self.note:
            return self.note
        return (
            f"{self.events_read} failure event(s) read: {len(self.reported)} reported in "
            f"{len(self.messages)} message(s), {self.repeats_counted} repeat(s) counted, "
            f"{self.still_failing} still failing, {len(self.awaiting_retry)} awaiting a retry"
        )


def _failure_entry(instance: dg.DagsterInstance, run_id: str) -> dg.EventLogEntry | None:
    entries = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)
    return entries[-1] if entries else None


def evaluate_run_failures(
    instance: dg.DagsterInstance,
    notifier: AlertNotifier,
    cursor: str | None,
    policy: AlertPolicy,
    *,
    now: float | None = None,
    log: Any = None,
) -> RunFailureTick:
    """One tick: read the failures after the cursor, decide, capture to Sentry, post to Slack.

    The first tick (no cursor) starts after the newest failure: enabling the sensor does not
    replay history. A Slack error raises (the tick fails and its cursor is not stored, so the
    same failures are tried again next tick).
    """
    now = time.time() if now is None else now
    if cursor is None:
        start = latest_run_failure_id(instance)
        note = f"started: run failures after event {start} will be reported"
        return RunFailureTick(RunFailureCursor(after=start).to_json(), note=note)

    state = RunFailureCursor.from_json(cursor)
    dedup = Deduplicator.from_json(policy.window_seconds, state.dedup)
    records = fetch_run_failures(instance, state.after, policy.max_failures_per_tick)
    run_ids = sorted({record.event_log_entry.run_id for record in records})
    runs = {
        record.dagster_run.run_id: record.dagster_run
        for record in (
            instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids)) if run_ids else ()
        )
    }
    tick = RunFailureTick(cursor="", events_read=len(records))

    with notifier.session(log) as session:
        due: list[RunFailure] = []
        for record in records:
            run = runs.get(record.event_log_entry.run_id)
            if run is None:  # deleted since it failed
                continue
            failure = describe_run_failure(
                instance, run, record.event_log_entry, known_secrets=session.known_secrets
            )
            if failure.retry.will_retry:
                state.pending[run.run_id] = record.event_log_entry.timestamp
            else:
                due.append(failure)

        for run_id, failed_at in sorted(state.pending.items(), key=lambda item: item[1]):
            if has_retry_run(instance, run_id):
                del state.pending[run_id]
            elif now - failed_at >= policy.retry_grace.total_seconds():
                del state.pending[run_id]
                run = instance.get_run_by_id(run_id)
                if run is not None:
                    failure = describe_run_failure(
                        instance,
                        run,
                        _failure_entry(instance, run_id),
                        known_secrets=session.known_secrets,
                    )
                    # Dagster said it would retry; it did not: this attempt is the last.
                    retry = RetryState(failure.retry.retry_number, failure.retry.max_retries, False)
                    due.append(replace(failure, retry=retry))
        while len(state.pending) > MAX_PENDING:
            state.pending.pop(min(state.pending, key=state.pending.__getitem__))
        tick.awaiting_retry = sorted(state.pending)

        new: list[tuple[RunFailure, int]] = []
        for failure in due:
            repeats = dedup.observe(
                failure.fingerprint_key, now, label=failure_title(failure), ref=failure.run_id
            )
            if repeats is None:
                tick.repeats_counted += 1
            else:
                new.append((failure, repeats))

        # Sentry first, so each Slack message carries its event id.
        for failure, _ in new:
            event_id = session.capture(failure, source="run_failure_sensor")
            if event_id:
                tick.sentry_event_ids[failure.run_id] = event_id
        # Within the budget, one message each; past it, the first (budget - 1) new failures
        # alone and everything else (new failures, repeat summaries) in one digest.
        budget = policy.max_messages_per_tick
        summaries = dedup.due(now)
        overflow = len(new) + len(summaries) > budget
        individual = new[: budget - 1] if overflow else new
        links, env = notifier.links, notifier.environment
        messages = [
            run_failure_message(
                failure,
                environment=env,
                links=links,
                sentry_event_id=tick.sentry_event_ids.get(failure.run_id),
                repeats=repeats,
            )
            for failure, repeats in individual
        ]
        if overflow:
            rest = [(f, tick.sentry_event_ids.get(f.run_id)) for f, _ in new[len(individual) :]]
            messages.append(
                run_failures_digest(
                    rest,
                    environment=env,
                    links=links,
                    still_failing=[occurrences for _, occurrences in summaries],
                )
            )
        else:
            messages += [
                repeat_summary_message(
                    occurrences, environment=env, links=links, window_minutes=policy.window_minutes
                )
                for _, occurrences in summaries
            ]
        for message in messages:
            session.post(message)
        for key, _ in summaries:
            dedup.mark_reported(key, now)
        tick.still_failing = len(summaries)
        if not session.slack_configured and messages:
            tick.note = (
                f"Slack is not configured: {len(messages)} alert message(s) not sent "
                f"({len(new)} failure(s); Sentry {'on' if session.sentry_configured else 'off'})"
            )
        tick.messages = messages
        tick.reported = [failure for failure, _ in new]

    dedup.prune(now)
    state.dedup = dedup.to_json()
    if records:
        state.after = records[-1].storage_id
    tick.cursor = state.to_json()
    return tick


def build_run_failure_sensor(
    policy: AlertPolicy, settings: PlatformSettings
) -> dg.SensorDefinition:
    """The sensor; RUNNING by default in qa/production, STOPPED in dev/ci; daemon only."""

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=policy.interval_seconds,
        default_status=default_sensor_status(settings),
        required_resource_keys={RESOURCE_KEY},
        tags=daemon_only_tags(),
        description=(
            "Reports every failed run of every code location of the deployment to Sentry and "
            "Slack: the last attempt of a retried run once, worker interruptions labelled as "
            f"such, each fingerprint at most once per {policy.window_minutes:g} min (repeats "
            f"counted), at most {policy.max_messages_per_tick} messages per tick."
        ),
    )
    def _run_failure_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        notifier: AlertNotifier = getattr(context.resources, RESOURCE_KEY)
        tick = evaluate_run_failures(
            context.instance, notifier, context.cursor, policy, log=context.log
        )
        context.update_cursor(tick.cursor)
        return dg.SkipReason(tick.summary())

    return _run_failure_alerts
