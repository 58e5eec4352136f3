"""The run-failure sensor against real failing runs and the sandbox's Slack and Sentry.

Each test runs real runs in a real instance (local SQLite; with the deployment's run retries;
or the qa/production config on PostgreSQL), ticks the sensor as the daemon would, and reads
what the sandbox's Slack channel and Sentry project received.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._core.events import DagsterEventType

from data_platform.alerts.policy import AlertPolicy
from data_platform.alerts.run_failures import RunFailureCursor, evaluate_run_failures
from data_platform.components import PlatformAlerts
from ol_orchestrate.lib.alerts import LOCATION_TAG, latest_run_failure_id
from ol_orchestrate.lib.environment import find_repo_root
from ol_orchestrate.resources.alerts import (
    AlertDeliveryError,
    AlertNotifier,
    build_sentry_failure_hook,
)
from ol_sandbox.server import SandboxServer

CI_CHANNEL = "#data-platform-alerts-ci"
UI = "http://127.0.0.1:3000"
DEFS_YAML = Path(__file__).parents[1] / "data_platform" / "defs" / "alerts" / "defs.yaml"
SECRETS_FILE = find_repo_root() / "dg_deployments" / "local" / "secrets.yaml"
COURSES = dg.StaticPartitionsDefinition(["10001", "10002"])


def ci_policy(**overrides: Any) -> AlertPolicy:
    attributes = yaml.safe_load(DEFS_YAML.read_text())["attributes"]
    policy = PlatformAlerts(**attributes).policy("ci")
    return AlertPolicy(**{**policy.__dict__, **overrides})


def blocks_text(message: Any) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def test_a_failing_asset_is_one_message_carrying_its_sentry_event(
    sandbox: SandboxServer, instance: dg.DagsterInstance, driver: Callable[..., Any]
) -> None:
    sensor = driver(instance)

    @dg.asset(key=["canvas", "raw", "assignments"], partitions_def=COURSES)
    def assignments() -> None:
        raise ValueError(
            "GET https://canvas.mit.edu/api/v1/courses/10002/assignments returned HTTP 404: "
            "The specified resource does not exist.\nsecond line"
        )

    result = dg.materialize(
        [assignments],
        instance=instance,
        partition_key="10002",
        raise_on_error=False,
        tags={LOCATION_TAG: "canvas"},
    )
    assert not result.success
    sensor.tick()

    [event] = sandbox.sentry.events
    assert event.fingerprint == ["canvas", "canvas__raw__assignments", "ValueError"]
    assert event.payload["level"] == "error"
    assert event.payload["environment"] == "ci"
    assert event.tags["partition"] == "10002"
    assert event.tags["error_class"] == "code_error"
    [message] = sandbox.slack.messages
    assert message.channel == CI_CHANNEL
    text = blocks_text(message)
    for expected in (
        "[ci] Run failed: canvas / canvas__raw__assignments",
        "`canvas`",  # location
        "|__ephemeral_asset_job__>",  # the job, linked to the run
        f"<{UI}/runs/{result.run_id}|",
        "`10002`",  # partition
        "`canvas__raw__assignments`",  # step
        "`ValueError` (code error)",
        "returned HTTP 404: The specified resource does not exist.",
        "no automatic retries",
        f"<{UI}/assets/canvas/raw/assignments|canvas/raw/assignments>",
        f"`{event.event_id}`",  # the Sentry event id
    ):
        assert expected in text, expected
    assert "second line" not in text
    assert event.event_id in message.text
    assert len(message.blocks) <= 50

    sensor.tick()
    assert len(sandbox.slack.messages) == 1, "a failure is reported once"


def test_the_first_tick_does_not_replay_history(
    sandbox: SandboxServer, instance: dg.DagsterInstance, driver: Callable[..., Any], helpers: Any
) -> None:
    helpers.run_failing(instance, helpers.failing_asset("canvas/raw/users", "old failure"))
    sensor = driver(instance)  # started after that failure
    sensor.tick()
    assert sandbox.slack.messages == []
    assert json.loads(sensor.cursor)["after"] == latest_run_failure_id(instance)


@pytest.mark.parametrize("instance_fixture", ["retrying_instance", "production_instance"])
def test_a_failure_retried_three_times_is_reported_once_after_its_last_attempt(
    instance_fixture: str,
    request: pytest.FixtureRequest,
    sandbox: SandboxServer,
    driver: Callable[..., Any],
    helpers: Any,
) -> None:
    instance: dg.DagsterInstance = request.getfixturevalue(instance_fixture)
    assert instance.run_retries_enabled
    assert instance.run_retries_max_retries == 3
    sensor = driver(instance)
    flaky = helpers.failing_asset(
        "openedx/raw/xpro_enrollments",
        "GET https://xpro.mit.edu/api/enrollment/v1/enrollments failed after 6 attempts",
    )
    seen: list[int] = []

    def tick(attempt: int) -> None:
        sensor.tick()
        seen.append(len(sandbox.slack.messages))

    runs = helpers.run_with_retries(instance, flaky, 4, location="openedx", between=tick)

    assert [run.tags.get("dagster/will_retry") for run in runs] == ["true", "true", "true", "false"]
    assert seen == [0, 0, 0, 1], "nothing while Dagster retries; one message after the last attempt"
    [message] = sandbox.slack.messages
    text = blocks_text(message)
    assert "retry 3 of 3 (last attempt)" in text
    assert f"{UI}/runs/{runs[-1].run_id}" in text
    assert f"first attempt <{UI}/runs/{runs[0].run_id}|" in text
    [event] = sandbox.sentry.events
    assert event.tags["retry_number"] == "3"
    assert event.event_id in text
    assert json.loads(sensor.cursor)["pending"] == {}, "every promised retry started"
    sensor.tick()
    assert len(sandbox.slack.messages) == 1


def test_a_failure_whose_retry_succeeds_is_never_reported(
    sandbox: SandboxServer,
    retrying_instance: dg.DagsterInstance,
    driver: Callable[..., Any],
    helpers: Any,
) -> None:
    sensor = driver(retrying_instance)
    attempts: list[int] = []

    @dg.asset(key=["canvas", "raw", "submissions"])
    def submissions() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionResetError("connection reset by peer")

    with pytest.raises(AssertionError):  # the helper expects failures; the retry succeeds
        helpers.run_with_retries(retrying_instance, submissions, 2, between=lambda n: sensor.tick())
    sensor.tick()
    assert sandbox.slack.messages == []
    assert sandbox.sentry.events == []
    assert json.loads(sensor.cursor)["pending"] == {}


def test_a_promised_retry_that_never_starts_is_reported_after_the_grace_period(
    sandbox: SandboxServer,
    retrying_instance: dg.DagsterInstance,
    notifier: AlertNotifier,
    helpers: Any,
) -> None:
    policy = ci_policy()
    start = evaluate_run_failures(retrying_instance, notifier, None, policy)
    run_id = helpers.run_failing(
        retrying_instance, helpers.failing_asset("canvas/raw/pages", "HTTP 500")
    )
    waiting = evaluate_run_failures(retrying_instance, notifier, start.cursor, policy)
    assert waiting.awaiting_retry == [run_id]
    assert sandbox.slack.messages == []
    # The daemon that would launch the retry is down: after the grace period it is reported.
    later = time.time() + policy.retry_grace.total_seconds() + 1
    tick = evaluate_run_failures(retrying_instance, notifier, waiting.cursor, policy, now=later)
    assert [failure.run_id for failure in tick.reported] == [run_id]
    [message] = sandbox.slack.messages
    assert "attempt 1 of 4; not retried" in blocks_text(message)
    assert RunFailureCursor.from_json(tick.cursor).pending == {}


CHILD = """
import sys, time
import dagster as dg

@dg.asset(key=["openedx", "raw", "xpro_course_blocks"])
def xpro_course_blocks():
    time.sleep(120)

instance = dg.DagsterInstance.local_temp(tempdir=sys.argv[1])
dg.materialize([xpro_course_blocks], instance=instance, raise_on_error=False,
               tags={"ol-platform/location": "openedx"})
"""


def _run_killed_mid_step(instance: dg.DagsterInstance, tmp_path: Path, how: signal.Signals) -> str:
    """A real run in a child process, sent `how` once its step has started; its run id."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    home = instance.root_directory
    child = subprocess.Popen(
        [sys.executable, str(script), home],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DAGSTER_HOME": home},
    )
    try:
        deadline = time.monotonic() + 60
        run_id = None
        while time.monotonic() < deadline and run_id is None:
            for run in instance.get_runs():
                if instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START):
                    run_id = run.run_id
            time.sleep(0.1)
        assert run_id, "the child's run never started its step"
        child.send_signal(how)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return run_id


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_run_killed_mid_step_is_labelled_an_interruption(
    how: signal.Signals,
    sandbox: SandboxServer,
    instance: dg.DagsterInstance,
    driver: Callable[..., Any],
    tmp_path: Path,
) -> None:
    sensor = driver(instance)
    run_id = _run_killed_mid_step(instance, tmp_path, how)
    run = instance.get_run_by_id(run_id)
    assert run is not None
    if how == signal.SIGKILL:
        # Nothing ran to record the failure: Dagster's run monitoring finds the worker gone and
        # marks the run failed, with this message.
        assert run.status == dg.DagsterRunStatus.STARTED
        instance.report_run_failed(
            run, f"Detected run worker status WorkerStatus.FAILED. Marking run {run_id} as failed."
        )
        error_type = "RUN_WORKER_LOST"
    else:
        assert run.status == dg.DagsterRunStatus.FAILURE
        error_type = "UNEXPECTED_TERMINATION"
    sensor.tick()

    [event] = sandbox.sentry.events
    assert event.fingerprint == ["openedx", "openedx__raw__xpro_course_blocks", error_type]
    assert event.payload["level"] == "warning", "an interruption is not paged as a bug"
    assert event.tags["error_class"] == "interruption"
    [message] = sandbox.slack.messages
    text = blocks_text(message)
    assert "Run interrupted (worker): openedx / openedx__raw__xpro_course_blocks" in text
    assert "worker interruption (infrastructure, not a code error)" in text
    assert f"`{error_type}`" in text
    assert "(code error)" not in text


_SECRET_KEYS = ("secret", "token", "password", "dsn", "webhook")


def _secret_values() -> list[str]:
    """Every credential of the local secrets file (not the ids and user names beside them)."""
    values: list[str] = []

    def walk(node: Any) -> None:
        for key, value in (node or {}).items():
            if isinstance(value, dict):
                walk(value)
            elif value and any(word in str(key).lower() for word in _SECRET_KEYS):
                values.append(str(value))

    walk(yaml.safe_load(SECRETS_FILE.read_text()))
    return values


def test_no_secret_ever_appears_in_a_message(
    sandbox: SandboxServer, instance: dg.DagsterInstance, driver: Callable[..., Any], helpers: Any
) -> None:
    secrets = yaml.safe_load(SECRETS_FILE.read_text())
    canvas = secrets["canvas"]["api"]["token"]
    client_secret = secrets["openedx"]["xpro"]["oauth"]["client_secret"]
    slack = secrets["slack"]["alerts"]["token"]
    dsn = secrets["sentry"]["alerts"]["dsn"]

    def leaky() -> str:
        # Secrets as failing code leaks them: in URLs, headers, forms, repr()s, and a retry
        # message from a client that logged its own configuration.
        return (
            f"GET https://canvas.mit.edu/api/v1/courses?access_token={canvas}&per_page=100 "
            f"(Authorization: Bearer {canvas}) with {{'client_secret': '{client_secret}'}}; "
            f"posting with {slack} to https://hooks.slack.com/services/T0/B0/{client_secret}; "
            f"sentry {dsn}; db postgresql://dagster:{client_secret}@db:5432/dagster"
        )

    sensor = driver(instance)
    helpers.run_failing(instance, helpers.failing_asset("canvas/raw/courses", leaky))
    sensor.tick()

    assert len(sandbox.slack.messages) == 1
    assert len(sandbox.sentry.events) == 1
    sent = [*helpers.message_json(sandbox), *(json.dumps(e.payload) for e in sandbox.sentry.events)]
    for value in [*_secret_values(), "sandbox-sentry-key"]:
        for text in sent:
            assert value not in text, f"a secret reached a message: {value[:6]}…"
    assert "[redacted]" in sent[0]


def test_the_same_failure_is_reported_once_per_window_with_its_repeats_counted(
    sandbox: SandboxServer,
    instance: dg.DagsterInstance,
    notifier: AlertNotifier,
    helpers: Any,
) -> None:
    policy = ci_policy()
    down = helpers.failing_asset("openedx/raw/mitxonline_course_runs", "HTTP 503 from the LMS")
    tick = evaluate_run_failures(instance, notifier, None, policy)
    for _ in range(3):
        helpers.run_failing(instance, down, location="openedx")
    now = time.time()
    tick = evaluate_run_failures(instance, notifier, tick.cursor, policy, now=now)
    assert (len(tick.reported), tick.repeats_counted, len(sandbox.slack.messages)) == (1, 2, 1)

    helpers.run_failing(instance, down, location="openedx")
    tick = evaluate_run_failures(instance, notifier, tick.cursor, policy, now=now + 60)
    assert (tick.repeats_counted, len(sandbox.slack.messages)) == (1, 1), "inside the window"

    # After the window, the next failure is reported, with the repeats since the first report.
    later = now + policy.window_seconds + 1
    last = helpers.run_failing(instance, down, location="openedx")
    tick = evaluate_run_failures(instance, notifier, tick.cursor, policy, now=later)
    assert [failure.run_id for failure in tick.reported] == [last]
    assert len(sandbox.slack.messages) == 2
    text = blocks_text(sandbox.slack.messages[-1])
    assert "also happened 3 more time(s) since it was last reported" in text
    assert len(sandbox.sentry.events) == 2, "Sentry gets the reported failures, not the repeats"


def test_repeats_without_a_new_failure_are_summarised_when_the_window_passes(
    sandbox: SandboxServer,
    instance: dg.DagsterInstance,
    notifier: AlertNotifier,
    helpers: Any,
) -> None:
    policy = ci_policy()
    down = helpers.failing_asset("canvas/raw/files", "HTTP 500")
    tick = evaluate_run_failures(instance, notifier, None, policy)
    for _ in range(3):
        helpers.run_failing(instance, down)
    now = time.time()
    tick = evaluate_run_failures(instance, notifier, tick.cursor, policy, now=now)
    tick = evaluate_run_failures(
        instance, notifier, tick.cursor, policy, now=now + policy.window_seconds
    )
    assert tick.still_failing == 1
    summary = sandbox.slack.messages[-1]
    assert "Still failing: Run failed: canvas / canvas__raw__files" in summary.text
    assert "Failed *2* more time(s)" in blocks_text(summary)
    tick = evaluate_run_failures(
        instance, notifier, tick.cursor, policy, now=now + 3 * policy.window_seconds
    )
    assert len(sandbox.slack.messages) == 2, "the repeats are summarised once"


def test_a_storm_of_500_failures_sends_a_bounded_number_of_messages_and_loses_none(
    sandbox: SandboxServer,
    storm_instance: dg.DagsterInstance,
    notifier: AlertNotifier,
    helpers: Any,
) -> None:
    """A node loss and a source outage at once: 475 runs of 10 locations marked failed by run
    monitoring (worker lost) and 25 real runs failing with 8 different code errors."""
    instance = storm_instance
    policy = ci_policy()
    tick = evaluate_run_failures(instance, notifier, None, policy)

    @dg.asset(key=["canvas", "raw", "heartbeat"])
    def heartbeat() -> None:
        pass

    job = dg.Definitions(assets=[heartbeat]).resolve_implicit_global_asset_job_def()
    broken = [
        helpers.failing_asset(f"canvas/raw/table_{n}", f"HTTP 500 from table {n}") for n in range(8)
    ]
    for n in range(500):
        if n % 20 == 0:
            helpers.run_failing(instance, broken[(n // 20) % 8])
        else:
            run = instance.create_run_for_job(
                job_def=job, tags={LOCATION_TAG: f"location_{n % 10}"}
            )
            instance.report_run_failed(
                run,
                "Detected run worker status WorkerStatus.FAILED. Marking run as failed.",
            )
    assert (
        len(instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))) == 500
    )

    now = time.time()
    ticks = []
    while True:
        tick = evaluate_run_failures(instance, notifier, tick.cursor, policy, now=now)
        ticks.append(tick)
        if tick.events_read == 0:
            break
        assert len(tick.messages) <= policy.max_messages_per_tick
    assert [t.events_read for t in ticks] == [200, 200, 100, 0], "a backlog drains tick by tick"
    reported = [failure for t in ticks for failure in t.reported]
    assert len({f.fingerprint_key for f in reported}) == len(reported) == 18
    assert len(reported) + sum(t.repeats_counted for t in ticks) == 500, "none lost"
    assert len(sandbox.slack.messages) <= 3 * policy.max_messages_per_tick
    assert len(sandbox.sentry.events) == 18
    everything = "\n".join(helpers.message_json(sandbox))
    for failure in reported:
        assert failure.location in everything
        assert (failure.step_key or "(run)") in everything
    assert RunFailureCursor.from_json(ticks[-1].cursor).after == latest_run_failure_id(instance)

    # When the window passes, the repeats are summed up in one digest, not one message each.
    before = len(sandbox.slack.messages)
    later = evaluate_run_failures(
        instance, notifier, ticks[-1].cursor, policy, now=now + policy.window_seconds
    )
    assert later.still_failing == 18
    assert len(sandbox.slack.messages) - before == 1
    digest = sandbox.slack.messages[-1].to_json()
    assert len(digest["blocks"]) <= 50
    repeats = re.findall(r"— (\d+) more time\(s\)", json.dumps(digest, ensure_ascii=False))
    assert len(repeats) == 18
    assert sum(int(n) for n in repeats) == 500 - 18


def test_unconfigured_slack_and_sentry_are_skipped_cleanly(
    sandbox: SandboxServer,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    helpers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ol_orchestrate.lib.environment import reset_settings_cache
    from ol_orchestrate.testing import load_definitions

    empty = tmp_path / "secrets.yaml"
    empty.write_text("{}\n")
    monkeypatch.setenv("OL_SECRETS_FILE", str(empty))
    reset_settings_cache()
    defs = load_definitions("data_platform.definitions")
    notifier = defs.resources["alert_notifier"]
    policy = ci_policy()
    tick = evaluate_run_failures(instance, notifier, None, policy)
    helpers.run_failing(instance, helpers.failing_asset("canvas/raw/modules", "boom"))
    tick = evaluate_run_failures(instance, notifier, tick.cursor, policy)
    assert "Slack is not configured: 1 alert message(s) not sent" in tick.summary()
    assert RunFailureCursor.from_json(tick.cursor).after == latest_run_failure_id(instance)
    assert sandbox.slack.messages == []
    assert sandbox.sentry.events == []


def test_a_slack_outage_fails_the_tick_and_keeps_the_failures_for_the_next(
    sandbox: SandboxServer, instance: dg.DagsterInstance, driver: Callable[..., Any], helpers: Any
) -> None:
    sensor = driver(instance)
    cursor = sensor.cursor
    helpers.run_failing(instance, helpers.failing_asset("canvas/raw/folders", "boom"))
    sandbox.faults.inject("/slack/api/chat.postMessage", "server_error", count=10, status=503)
    with pytest.raises(Exception, match=r"could not post|refused") as raised:
        sensor.tick()
    chain = [raised.value]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)  # type: ignore[arg-type]
    assert any(isinstance(error, AlertDeliveryError) for error in chain)
    assert sensor.cursor == cursor, "the failed tick's cursor is not kept"
    sandbox.faults.clear()
    sensor.tick()
    [message] = sandbox.slack.messages
    assert "canvas__raw__folders" in message.text


def test_the_failure_hook_and_the_sensor_report_one_sentry_issue(
    sandbox: SandboxServer,
    instance: dg.DagsterInstance,
    notifier: AlertNotifier,
    driver: Callable[..., Any],
) -> None:
    sensor = driver(instance)

    @dg.asset(key=["canvas", "raw", "enrollments"])
    def enrollments() -> None:
        raise KeyError("enrollment_state")

    hooked = dg.define_asset_job(
        "enrollments_job", selection=[enrollments], hooks={build_sentry_failure_hook()}
    )
    defs = dg.Definitions(
        assets=[enrollments],
        jobs=[hooked],
        resources={"alert_notifier": notifier},
        executor=dg.in_process_executor,
    )
    result = defs.resolve_job_def("enrollments_job").execute_in_process(
        instance=instance, raise_on_error=False, tags={LOCATION_TAG: "canvas"}
    )
    assert not result.success
    sensor.tick()
    hook_event, sensor_event = sandbox.sentry.events
    assert hook_event.tags["reported_by"] == "failure_hook"
    assert sensor_event.tags["reported_by"] == "run_failure_sensor"
    assert (
        hook_event.fingerprint
        == sensor_event.fingerprint
        == [
            "canvas",
            "canvas__raw__enrollments",
            "KeyError",
        ]
    )
