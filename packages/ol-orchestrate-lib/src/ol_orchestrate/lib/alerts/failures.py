"""What a failed run or a failed asset check was, read from the Dagster instance.

A run failure is described once (`describe_run_failure`): its code location, job, partition,
failed step and assets, the user's error type and first line, whether it is a code error or a
worker interruption (an evicted pod, a killed run worker: infrastructure, not a bug), and where it
stands in the deployment's run retries. Everything that reports failures (the run-failure sensor,
in-process failure hooks, the platform-health asset) uses it, and they share one fingerprint
(location, step, error type) so Sentry groups one failure as one issue whichever path sent it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterRunNotFoundError
from dagster._core.events import DagsterEventType, JobFailureData, RunFailureReason
from dagster._core.execution.plan.objects import ErrorSource, StepFailureData
from dagster._core.storage.tags import (
    MAX_RETRIES_TAG,
    PARENT_RUN_ID_TAG,
    RETRY_NUMBER_TAG,
    ROOT_RUN_ID_TAG,
    RUN_FAILURE_REASON_TAG,
    WILL_RETRY_TAG,
)
from dagster._utils.error import SerializableErrorInfo
from dagster_shared.serdes.errors import DeserializationError

from ol_orchestrate.lib.alerts.scrub import scrub_secrets

# Tag naming the code location of runs launched outside a workspace (`ol-platform materialize`,
# tests); runs the daemon or the UI launch carry their location in their origin.
LOCATION_TAG = "ol-platform/location"
PARTITION_TAG = "dagster/partition"
UNKNOWN_LOCATION = "unknown"
RUN_STEP = "(run)"
MAX_MESSAGE_CHARS = 500
# Dagster's retry tags, re-exported for tests and tools that launch retries themselves.
RETRY_TAGS = (RETRY_NUMBER_TAG, PARENT_RUN_ID_TAG, ROOT_RUN_ID_TAG)


class ErrorClass(StrEnum):
    """A code error is a bug or a bad input (page someone); an interruption is the run worker
    going away mid-run (an evicted or restarted pod, a killed process): retry, do not debug."""

    CODE_ERROR = "code_error"
    INTERRUPTION = "interruption"


# error_type of interruptions (the fingerprint's third part) -> what happened, for people.
INTERRUPTIONS: Mapping[str, str] = {
    RunFailureReason.UNEXPECTED_TERMINATION.value: (
        "the run worker was terminated mid-run (SIGTERM: pod evicted, node drained or shut down)"
    ),
    RunFailureReason.RUN_WORKER_RESTART.value: (
        "the run worker was restarted by the cluster while the run was in progress"
    ),
    RunFailureReason.START_TIMEOUT.value: "the run worker never started (start timeout)",
    "RUN_WORKER_LOST": (
        "the run worker stopped without reporting (killed or crashed); the run was marked "
        "failed from outside"
    ),
}
RUN_TIMEOUT = "RunTimeout"
_INTERRUPTED_ERRORS = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})
# `module.Class: ` at the start of a formatted exception's message.
_EXCEPTION_PREFIX = re.compile(r"^(?:[\w.]+\.)?(?P<cls>\w+):\s?")


def failure_fingerprint(location: str, step_key: str | None, error_type: str) -> list[str]:
    """The grouping key of a failure, in Sentry and in the alerts' de-duplication."""
    return [location or UNKNOWN_LOCATION, step_key or RUN_STEP, error_type]


def fingerprint_key(fingerprint: Sequence[str]) -> str:
    return " | ".join(fingerprint)


def first_line(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> str:
    """The first non-blank line of `text`, cut to `limit` characters."""
    for line in (text or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def run_location(run: dg.DagsterRun) -> str:
    """The code location a run belongs to: its origin's, else its `ol-platform/location` tag."""
    origin = run.remote_job_origin
    if origin is not None:
        return origin.repository_origin.code_location_origin.location_name
    return run.tags.get(LOCATION_TAG) or UNKNOWN_LOCATION


@dataclass(frozen=True)
class RetryState:
    """Where a failed run stands in the deployment's automatic retries."""

    retry_number: int
    max_retries: int
    will_retry: bool

    @property
    def attempt(self) -> int:
        return self.retry_number + 1

    def describe(self) -> str:
        if self.max_retries <= 0:
            return "no automatic retries"
        if self.will_retry:
            return f"attempt {self.attempt} of {self.max_retries + 1}; Dagster will retry"
        if self.retry_number >= self.max_retries:
            return f"retry {self.retry_number} of {self.max_retries} (last attempt)"
        return f"attempt {self.attempt} of {self.max_retries + 1}; not retried"


def retry_state(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RetryState:
    """The run's retry number, the retries allowed, and whether Dagster will retry it.

    Dagster tags a failed run `dagster/will_retry` as it stores the failure (when run retries are
    enabled), deciding from the retries left and `retry_on_asset_or_op_failure`; when the tag is
    not there yet, the same decision is computed here, never assumed.
    """
    retry_number = _int(run.tags.get(RETRY_NUMBER_TAG), 0)
    enabled = instance.run_retries_enabled
    max_retries = _int(run.tags.get(MAX_RETRIES_TAG), instance.run_retries_max_retries)
    if not enabled:
        return RetryState(retry_number, 0, False)
    tag = run.tags.get(WILL_RETRY_TAG)
    if tag is not None:
        return RetryState(retry_number, max_retries, tag.strip().lower() == "true")
    from dagster._core.execution.retries import auto_reexecution_should_retry_run

    reason = _failure_reason(run.tags.get(RUN_FAILURE_REASON_TAG))
    try:
        will_retry = bool(auto_reexecution_should_retry_run(instance, run, reason))
    except DagsterRunNotFoundError:
        will_retry = False
    return RetryState(retry_number, max_retries, will_retry)


def _int(value: str | None, default: int) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        return default


def _failure_reason(value: str | None) -> RunFailureReason | None:
    try:
        return RunFailureReason(value) if value else None
    except ValueError:
        return RunFailureReason.UNKNOWN


@dataclass(frozen=True)
class RunFailure:
    """One failed run, as the alerts and the health tables describe it (text already scrubbed)."""

    run_id: str
    location: str
    job_name: str
    partition_key: str | None
    step_key: str | None
    asset_keys: tuple[str, ...]
    error_type: str
    error_message: str
    error_class: ErrorClass
    retry: RetryState
    root_run_id: str
    failed_at: float | None = None
    stack: tuple[str, ...] = field(default=(), compare=False)

    @property
    def fingerprint(self) -> list[str]:
        return failure_fingerprint(self.location, self.step_key, self.error_type)

    @property
    def fingerprint_key(self) -> str:
        return fingerprint_key(self.fingerprint)

    @property
    def is_interruption(self) -> bool:
        return self.error_class is ErrorClass.INTERRUPTION


def _user_error(error: SerializableErrorInfo | None) -> SerializableErrorInfo | None:
    """The error the user's code raised: the first in the chain that is not one of Dagster's
    wrappers (`DagsterExecutionStepExecutionError` around the asset's exception)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause
    for candidate in chain:
        wrapper = (candidate.cls_name or "").startswith("Dagster") and (
            candidate.message or ""
        ).startswith("dagster.")
        if not wrapper:
            return candidate
    return chain[-1] if chain else None


def error_text(error: SerializableErrorInfo) -> str:
    """An error's message without the `module.Class: ` prefix Dagster stores it with."""
    message = error.message or ""
    match = _EXCEPTION_PREFIX.match(message)
    if match and match.group("cls") == error.cls_name:
        message = message[match.end() :]
    return message


def _step_events(
    instance: dg.DagsterInstance, run_id: str
) -> tuple[list[dg.EventLogEntry], list[str]]:
    """The run's step failures (in order) and the steps that started but never finished."""
    entries = instance.all_logs(
        run_id,
        of_type={
            DagsterEventType.STEP_START,
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.STEP_SKIPPED,
        },
    )
    started: dict[str, None] = {}
    finished: set[str] = set()
    failures = []
    for entry in entries:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            started[event.step_key] = None
        else:
            finished.add(event.step_key)
        if event.event_type == DagsterEventType.STEP_FAILURE:
            failures.append(entry)
    return failures, [key for key in started if key not in finished]


def step_asset_keys(
    instance: dg.DagsterInstance, run: dg.DagsterRun, step_key: str | None
) -> list[str]:
    """The assets a step of the run materializes (all of the run's when the step is unknown)."""
    keys: list[dg.AssetKey] = []
    snapshot_id = run.execution_plan_snapshot_id
    if snapshot_id:
        try:
            snapshot = instance.get_execution_plan_snapshot(snapshot_id)
        except (DeserializationError, KeyError, ValueError):  # an old or foreign snapshot
            snapshot = None
        for step in snapshot.steps if snapshot else ():
            if step_key is not None and step.key != step_key:
                continue
            keys.extend(
                output.properties.asset_key
                for output in step.outputs
                if output.properties is not None and output.properties.asset_key is not None
            )
    if not keys and run.asset_selection:
        keys = list(run.asset_selection)
    return sorted({key.to_user_string() for key in keys})


def describe_run_failure(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    failure_entry: dg.EventLogEntry | None = None,
    *,
    known_secrets: Iterable[str] = (),
) -> RunFailure:
    """A failed run's location, step, error and retry state, read from the instance.

    `failure_entry` is the run's failure event when the caller has it (a sensor reading the event
    log); its message is what a run marked failed from outside (run monitoring) says.
    """
    failures, unfinished = _step_events(instance, run.run_id)
    failure_event = failure_entry.dagster_event if failure_entry else None
    failure_data = failure_event.event_specific_data if failure_event else None
    job_failure = failure_data if isinstance(failure_data, JobFailureData) else None
    reason = run.tags.get(RUN_FAILURE_REASON_TAG) or (
        job_failure.failure_reason.value if job_failure and job_failure.failure_reason else None
    )

    step_failure: StepFailureData | None = None
    step_key: str | None = None
    if failures:
        event = failures[0].dagster_event
        step_key = event.step_key if event else None
        data = event.event_specific_data if event else None
        step_failure = data if isinstance(data, StepFailureData) else None
    elif unfinished:
        step_key = unfinished[0]

    error = _user_error(
        step_failure.error if step_failure else (job_failure.error if job_failure else None)
    )
    interrupted_step = bool(
        step_failure
        and (
            step_failure.error_source == ErrorSource.INTERRUPT
            or (error is not None and error.cls_name in _INTERRUPTED_ERRORS)
        )
    )
    outside = first_line(failure_entry.message if failure_entry else "")
    marked_from_outside = not failures and error is None and reason in (None, "UNKNOWN")
    # Run monitoring also fails runs that exceed their maximum runtime: a hang, not a lost worker.
    timed_out = marked_from_outside and "maximum runtime" in outside
    error_type: str
    if timed_out:
        error_class, error_type, message = ErrorClass.CODE_ERROR, RUN_TIMEOUT, outside
    elif (reason and reason in INTERRUPTIONS) or interrupted_step or marked_from_outside:
        error_class = ErrorClass.INTERRUPTION
        error_type = reason if reason and reason in INTERRUPTIONS else "RUN_WORKER_LOST"
        message = INTERRUPTIONS[error_type] + (f": {outside}" if marked_from_outside else "")
    else:
        error_class = ErrorClass.CODE_ERROR
        error_type = (error.cls_name if error else None) or reason or "RunFailure"
        if (
            step_failure
            and step_failure.user_failure_data
            and step_failure.user_failure_data.description
        ):
            message = step_failure.user_failure_data.description
        elif error is not None:
            message = error_text(error)
        else:
            message = failure_entry.message if failure_entry else ""

    known = tuple(known_secrets)
    return RunFailure(
        run_id=run.run_id,
        location=run_location(run),
        job_name=run.job_name,
        partition_key=run.tags.get(PARTITION_TAG),
        step_key=step_key,
        asset_keys=tuple(step_asset_keys(instance, run, step_key)),
        error_type=error_type,
        error_message=scrub_secrets(first_line(message), known),
        error_class=error_class,
        retry=retry_state(instance, run),
        root_run_id=run.root_run_id or run.run_id,
        failed_at=failure_entry.timestamp if failure_entry else None,
        stack=tuple(scrub_secrets(line, known) for line in (error.stack if error else ())),
    )


def has_retry_run(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether a retry of the run (a run whose parent it is) has been launched."""
    children = instance.get_runs(filters=dg.RunsFilter(tags={PARENT_RUN_ID_TAG: run_id}), limit=1)
    return bool(children)


# -- asset checks --------------------------------------------------------------------------------

DBT_FAILED_ROWS_KEY = "dagster_dbt/failed_row_count"
# Metadata of Dagster's last-update freshness checks.
FRESHNESS_OVERDUE_KEY = "dagster/overdue_seconds"


@dataclass(frozen=True)
class CheckEvaluation:
    """One asset check evaluation from the event log."""

    storage_id: int
    asset_key: tuple[str, ...]
    check_name: str
    passed: bool
    severity: str
    run_id: str
    partition_key: str | None
    evaluated_at: float
    description: str
    dbt_test: str | None  # the dbt test's unique id, for checks dagster-dbt reported
    failed_row_count: int | None
    overdue_seconds: float | None

    @property
    def asset_key_string(self) -> str:
        return "/".join(self.asset_key)

    @property
    def check_key(self) -> str:
        return f"{self.asset_key_string}:{self.check_name}"

    @property
    def is_dbt_test(self) -> bool:
        return self.dbt_test is not None


def _metadata_value(metadata: Mapping[str, Any], key: str) -> Any:
    value = metadata.get(key)
    return getattr(value, "value", value)


def describe_check_evaluation(
    storage_id: int, entry: dg.EventLogEntry, *, known_secrets: Iterable[str] = ()
) -> CheckEvaluation | None:
    """The check evaluation an event log entry holds (None for any other event).

    dbt tests are recognised by the metadata dagster-dbt puts on their evaluations: a `unique_id`
    of a dbt test node (`test.<project>.<name>...`) and the dbt `invocation_id`.
    """
    event = entry.dagster_event
    data = event.event_specific_data if event else None
    if not isinstance(data, dg.AssetCheckEvaluation):
        return None
    metadata = dict(data.metadata or {})
    unique_id = _metadata_value(metadata, "unique_id")
    is_dbt = (
        isinstance(unique_id, str)
        and unique_id.startswith("test.")
        and _metadata_value(metadata, "invocation_id") is not None
    )
    failed_rows = _metadata_value(metadata, DBT_FAILED_ROWS_KEY)
    overdue = _metadata_value(metadata, FRESHNESS_OVERDUE_KEY)
    return CheckEvaluation(
        storage_id=storage_id,
        asset_key=tuple(data.asset_key.path),
        check_name=data.check_name,
        passed=bool(data.passed),
        severity=data.severity.value if data.severity else "ERROR",
        run_id=entry.run_id,
        partition_key=getattr(data, "partition", None),
        evaluated_at=entry.timestamp,
        description=scrub_secrets(first_line(data.description), tuple(known_secrets)),
        dbt_test=unique_id if is_dbt else None,
        failed_row_count=int(failed_rows) if isinstance(failed_rows, int | float) else None,
        overdue_seconds=float(overdue) if isinstance(overdue, int | float) else None,
    )
