"""The asset-check-failure sensor: failed check evaluations of the deployment, one Slack message
per tick.

It reads check evaluations from the event log after its cursor (a storage id), at most
`max_check_events_per_tick` per tick, and stops at `max_check_blocks` failed checks: the message
is a header block plus one block per failed check, under Slack's 50 blocks, and the rest waits
for the next tick (the cursor stops before the first check left out). dbt test failures are
recognised by dagster-dbt's metadata and link to their model; freshness checks say how late the
asset is. A check failing again inside the de-dup window is counted, and mentioned when reported
next (or as "still failing" once the window has passed).
"""

import json
import time
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from data_platform.alerts.policy import AlertPolicy
from ol_orchestrate.lib.alerts import (
    CheckEvaluation,
    Deduplicator,
    SlackMessage,
    check_failures_message,
    describe_check_evaluation,
    fetch_check_evaluations,
    latest_check_evaluation_id,
)
from ol_orchestrate.lib.automation import daemon_only_tags, default_sensor_status
from ol_orchestrate.lib.environment import PlatformSettings
from ol_orchestrate.resources.alerts import AlertNotifier

SENSOR_NAME = "platform_check_failure_alerts"
RESOURCE_KEY = "alert_notifier"
PAGE_SIZE = 200


@dataclass
class CheckFailureCursor:
    after: int
    dedup: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"after": self.after, "dedup": self.dedup}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CheckFailureCursor":
        data = json.loads(text)
        return cls(int(data["after"]), dict(data.get("dedup") or {}))


@dataclass
class CheckFailureTick:
    cursor: str
    message: SlackMessage | None = None
    reported: list[CheckEvaluation] = field(default_factory=list)
    still_failing: int = 0
    repeats_counted: int = 0
    events_read: int = 0
    more_pending: bool = False
    note: str = ""

    def summary(self) -> str:
        if self.note:
            return self.note
        return (
            f"{self.events_read} check evaluation(s) read: {len(self.reported)} failed check(s) "
            f"reported, {self.still_failing} still failing, {self.repeats_counted} repeat(s) "
            f"counted" + ("; more next tick" if self.more_pending else "")
        )


def evaluate_check_failures(
    instance: dg.DagsterInstance,
    notifier: AlertNotifier,
    cursor: str | None,
    policy: AlertPolicy,
    *,
    now: float | None = None,
    log: Any = None,
) -> CheckFailureTick:
    """One tick: at most one Slack message with at most `max_check_blocks` failed checks."""
    now = time.time() if now is None else now
    if cursor is None:
        start = latest_check_evaluation_id(instance)
        note = f"started: check evaluations after event {start} will be reported"
        return CheckFailureTick(CheckFailureCursor(after=start).to_json(), note=note)

    state = CheckFailureCursor.from_json(cursor)
    dedup = Deduplicator.from_json(policy.window_seconds, state.dedup)
    tick = CheckFailureTick(cursor="")
    with notifier.session(log) as session:
        due = dedup.due(now)
        room = policy.max_check_blocks
        still_failing = due[: max(0, room - 1)] if due else []
        room -= len(still_failing)
        failed: list[tuple[CheckEvaluation, int]] = []
        after = state.after
        while tick.events_read < policy.max_check_events_per_tick and not tick.more_pending:
            limit = min(PAGE_SIZE, policy.max_check_events_per_tick - tick.events_read)
            page = fetch_check_evaluations(instance, after_storage_id=after, limit=limit)
            for record in page:
                check = describe_check_evaluation(
                    record.storage_id, record.event_log_entry, known_secrets=session.known_secrets
                )
                if check is not None and not check.passed:
                    repeat = dedup.is_repeat(check.check_key, now)
                    if not repeat and len(failed) >= room:
                        tick.more_pending = True
                        break
                    repeats = dedup.observe(
                        check.check_key, now, label=check.check_key, ref=check.run_id
                    )
                    if repeats is None:
                        tick.repeats_counted += 1
                    else:
                        failed.append((check, repeats))
                after = record.storage_id
                tick.events_read += 1
            if len(page) < limit:
                break
        if not tick.more_pending and tick.events_read >= policy.max_check_events_per_tick:
            tick.more_pending = bool(
                fetch_check_evaluations(instance, after_storage_id=after, limit=1)
            )
        if failed or still_failing:
            tick.message = check_failures_message(
                failed,
                environment=notifier.environment,
                links=notifier.links,
                still_failing=[occurrences for _, occurrences in still_failing],
                more_pending=tick.more_pending,
            )
            session.post(tick.message)
            if not session.slack_configured:
                tick.note = f"Slack is not configured: {len(failed)} failed check(s) read, not sent"
        for key, _ in still_failing:
            dedup.mark_reported(key, now)
    tick.reported = [check for check, _ in failed]
    tick.still_failing = len(still_failing)
    dedup.prune(now)
    state.after, state.dedup = after, dedup.to_json()
    tick.cursor = state.to_json()
    return tick


def build_check_failure_sensor(
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
            "Reports failed asset checks of every code location (dbt tests, freshness, "
            "tracking-log checks) to Slack: one message per tick, at most "
            f"{policy.max_check_blocks} checks each, each check at most once per "
            f"{policy.window_minutes:g} min (repeats counted)."
        ),
    )
    def _check_failure_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        notifier: AlertNotifier = getattr(context.resources, RESOURCE_KEY)
        tick = evaluate_check_failures(
            context.instance, notifier, context.cursor, policy, log=context.log
        )
        context.update_cursor(tick.cursor)
        return dg.SkipReason(tick.summary())

    return _check_failure_alerts
