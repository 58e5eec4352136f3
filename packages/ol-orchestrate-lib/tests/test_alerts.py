"""The alert library: secrets scrubbed, failures described and classified, repeats de-duplicated,
messages within Slack's limits, and the notifier's Slack and Sentry against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from ol_orchestrate.lib.alerts import (
    MAX_CHECK_BLOCKS,
    CheckEvaluation,
    DagsterLinks,
    Deduplicator,
    ErrorClass,
    RetryState,
    RunFailure,
    check_failures_message,
    describe_run_failure,
    fetch_run_failures,
    run_failure_message,
    run_failures_digest,
    scrub_secrets,
    sentry_event,
)
from ol_orchestrate.resources.alerts import AlertNotifier, rebase_dsn
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.testing import persistent_instance
from ol_sandbox.server import SandboxServer
from ol_sandbox.slack import block_problems

LINKS = DagsterLinks("https://dagster.example.edu/")


def failure(**changes: object) -> RunFailure:
    values: dict[str, object] = {
        "run_id": "0f8c2d4e-1111-2222-3333-444455556666",
        "location": "canvas",
        "job_name": "__ASSET_JOB",
        "partition_key": "10001",
        "step_key": "canvas__raw__courses",
        "asset_keys": ("canvas/raw/courses",),
        "error_type": "ApiError",
        "error_message": "GET https://canvas.mit.edu/api/v1/courses/10001 returned HTTP 500",
        "error_class": ErrorClass.CODE_ERROR,
        "retry": RetryState(3, 3, False),
        "root_run_id": "0f8c2d4e-0000-2222-3333-444455556666",
    }
    return RunFailure(**{**values, **changes})  # type: ignore[arg-type]


# -- scrubbing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET https://x.edu/api?access_token=s3cr3t-value&page=2", "s3cr3t-value"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("JWT abcdef123456 expired", "abcdef123456"),
        ("{'client_secret': 'hunter22', 'client_id': 'x'}", "hunter22"),
        ('{"password": "correct horse"}', "correct"),
        ("postgresql://dagster:pgpass99@db:5432/dagster", "pgpass99"),
        ("dsn=https://abc123@o1.ingest.sentry.io/42", "abc123"),
        ("posting with xoxb-1234-5678-abcdef", "xoxb-1234-5678-abcdef"),
        ("hook https://hooks.slack.com/services/T00/B00/XXXXsecret", "XXXXsecret"),
        ("key AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE"),
        ("signature%3Dabcdef012345", "abcdef012345"),
    ],
)
def test_credentials_are_redacted(text: str, secret: str) -> None:
    scrubbed = scrub_secrets(text)
    assert secret not in scrubbed
    assert "[redacted]" in scrubbed
    assert scrub_secrets(scrubbed) == scrubbed, "scrubbing twice changes nothing"


def test_known_values_are_redacted_wherever_they_appear() -> None:
    text = "the value sandbox-canvas-token appeared bare; 'abc' is too short to count"
    scrubbed = scrub_secrets(text, known=["sandbox-canvas-token", "abc", ""])
    assert scrubbed == "the value [redacted] appeared bare; 'abc' is too short to count"


def test_ordinary_text_is_left_alone() -> None:
    text = "KeyError: 'enrollment_state' in course-v1:MITx+6.00x+1T2026 (3 rows)"
    assert scrub_secrets(text) == text


# -- de-duplication --------------------------------------------------------------------------------


def test_one_report_per_window_and_the_repeats_carried_into_the_next() -> None:
    dedup = Deduplicator(window_seconds=600)
    assert dedup.observe("k", 0.0, label="x") == 0
    assert dedup.observe("k", 10.0, ref="r1") is None
    assert dedup.observe("k", 20.0, ref="r2") is None
    assert dedup.is_repeat("k", 599.0)
    assert not dedup.is_repeat("k", 600.0)
    assert dedup.due(300.0) == []
    restored = Deduplicator.from_json(600, json.loads(json.dumps(dedup.to_json())))
    assert restored.observe("k", 700.0) == 2, "the next report carries the two repeats"
    assert restored.observe("other", 700.0) == 0


def test_repeats_are_due_once_the_window_passes() -> None:
    dedup = Deduplicator(window_seconds=60)
    dedup.observe("k", 0.0, label="canvas / step")
    dedup.observe("k", 5.0, ref="run-2")
    [(key, seen)] = dedup.due(60.0)
    assert (key, seen.repeats, seen.last_ref, seen.label) == ("k", 1, "run-2", "canvas / step")
    dedup.mark_reported("k", 60.0)
    assert dedup.due(200.0) == []
    dedup.prune(200.0)
    assert dedup.state == {}


def test_a_zero_window_reports_everything() -> None:
    dedup = Deduplicator(window_seconds=0)
    assert [dedup.observe("k", 1.0), dedup.observe("k", 1.0)] == [0, 0]


# -- messages --------------------------------------------------------------------------------------


def test_run_failure_message_carries_everything_within_slacks_limits() -> None:
    long = failure(error_message="x" * 10_000, asset_keys=tuple(f"a/b/c{n}" for n in range(30)))
    message = run_failure_message(
        long, environment="qa", links=LINKS, sentry_event_id="e" * 32, repeats=4
    )
    assert block_problems(message.blocks) == []
    text = json.dumps(message.blocks)
    assert "retry 3 of 3 (last attempt)" in text
    assert "https://dagster.example.edu/runs/0f8c2d4e-1111-2222-3333-444455556666" in text
    assert "https://dagster.example.edu/assets/a/b/c0" in text
    assert "(+25 more)" in text
    assert "4 more time(s)" in text
    assert len(message.text) <= 3000


def test_links_are_left_out_without_a_base_url() -> None:
    message = run_failure_message(
        failure(), environment="dev", links=DagsterLinks(""), sentry_event_id=None
    )
    assert "<http" not in json.dumps(message.blocks)
    assert "not sent" in json.dumps(message.blocks)


def test_slack_control_characters_are_escaped() -> None:
    message = run_failure_message(
        failure(error_message="<!channel> a & b > c"),
        environment="qa",
        links=LINKS,
        sentry_event_id=None,
    )
    assert "&lt;!channel&gt; a &amp; b &gt; c" in json.dumps(message.blocks)


def test_a_digest_of_many_failures_stays_one_valid_message() -> None:
    failures = [
        (failure(run_id=f"run-{n}", step_key=f"step_{n % 150}", error_message="e" * 300), None)
        for n in range(400)
    ]
    message = run_failures_digest(failures, environment="qa", links=LINKS)
    assert block_problems(message.blocks) == []
    assert "400 more run failure(s)" in message.text


def test_check_messages_hold_at_most_49_checks() -> None:
    check = CheckEvaluation(
        storage_id=1,
        asset_key=("canvas", "raw", "courses"),
        check_name="freshness_check",
        passed=False,
        severity="WARN",
        run_id="r" * 36,
        partition_key=None,
        evaluated_at=0.0,
        description="d" * 5000,
        dbt_test=None,
        failed_row_count=None,
        overdue_seconds=7200.0,
    )
    message = check_failures_message([(check, 0)] * MAX_CHECK_BLOCKS, environment="qa", links=LINKS)
    assert len(message.blocks) == 50
    assert block_problems(message.blocks) == []
    assert "overdue by 2.0 h" in json.dumps(message.blocks)
    with pytest.raises(ValueError, match="at most 49"):
        check_failures_message([(check, 0)] * 50, environment="qa", links=LINKS)


def test_sentry_events_group_by_fingerprint_and_interruptions_are_warnings() -> None:
    event = sentry_event(failure(), environment="qa", links=LINKS, source="test")
    assert event["fingerprint"] == ["canvas", "canvas__raw__courses", "ApiError"]
    assert event["level"] == "error"
    assert event["tags"]["retry_number"] == "3"
    interrupted = failure(error_class=ErrorClass.INTERRUPTION, error_type="RUN_WORKER_RESTART")
    assert (
        sentry_event(interrupted, environment="qa", links=LINKS, source="t")["level"] == "warning"
    )


def test_rebase_dsn_keeps_key_and_project() -> None:
    dsn = "https://abc123@o4501.ingest.sentry.io/4506"
    assert rebase_dsn(dsn, "http://127.0.0.1:8765/sentry/") == (
        "http://abc123@127.0.0.1:8765/sentry/4506"
    )


# -- describing failures ---------------------------------------------------------------------------


def test_a_failure_and_a_run_marked_failed_from_outside() -> None:
    @dg.asset(key=["openedx", "raw", "xpro_course_runs"])
    def no_data() -> None:
        raise dg.Failure(description="no tracking logs for 2026-01-05\nsecond", allow_retries=False)

    with persistent_instance() as instance:
        result = dg.materialize([no_data], instance=instance, raise_on_error=False)
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        [record] = fetch_run_failures(instance, -1, 10)
        described = describe_run_failure(instance, run, record.event_log_entry)
        assert described.location == "unknown"  # no origin, no ol-platform/location tag
        assert (described.error_type, described.error_message) == (
            "Failure",
            "no tracking logs for 2026-01-05",
        )
        assert described.error_class is ErrorClass.CODE_ERROR
        assert described.asset_keys == ("openedx/raw/xpro_course_runs",)
        assert described.retry == RetryState(0, 0, False)

        job = dg.Definitions(assets=[no_data]).resolve_implicit_global_asset_job_def()
        lost = instance.create_run_for_job(job_def=job, tags={"ol-platform/location": "openedx"})
        instance.report_run_failed(lost, "Detected run worker status WorkerStatus.NOT_FOUND.")
        record = fetch_run_failures(instance, record.storage_id, 10)[0]
        gone = describe_run_failure(instance, lost, record.event_log_entry)
        assert (gone.location, gone.error_class, gone.error_type) == (
            "openedx",
            ErrorClass.INTERRUPTION,
            "RUN_WORKER_LOST",
        )
        assert gone.error_message.endswith("Detected run worker status WorkerStatus.NOT_FOUND.")

        hung = instance.create_run_for_job(job_def=job, tags={"ol-platform/location": "openedx"})
        instance.report_run_failed(hung, "Exceeded maximum runtime of 3600 seconds.")
        record = fetch_run_failures(instance, record.storage_id, 10)[0]
        timeout = describe_run_failure(instance, hung, record.event_log_entry)
        assert (timeout.error_class, timeout.error_type) == (ErrorClass.CODE_ERROR, "RunTimeout")


# -- the notifier against the sandbox --------------------------------------------------------------


def _notifier(sandbox: SandboxServer, secrets: Path, **changes: object) -> AlertNotifier:
    values: dict[str, object] = {
        "secrets": SecretsResource(backend="local", local_secrets_file=str(secrets)),
        "environment": "ci",
        "slack_channel": "#alerts",
        "slack_secret_path": "slack/alerts",
        "slack_api_url": sandbox.slack_api_url,
        "sentry_secret_path": "sentry/alerts",
        "sentry_ingest_url": f"{sandbox.url}/sentry",
        "dagster_base_url": "http://127.0.0.1:3000",
        "timeout_seconds": 5,
    }
    return AlertNotifier(**{**values, **changes})  # type: ignore[arg-type]


def test_the_notifier_posts_to_slack_and_sentry(sandbox: SandboxServer, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(
        "slack: {alerts: {token: xoxb-sandbox-token}}\n"
        "sentry: {alerts: {dsn: 'https://sandbox-sentry-key@o1.ingest.sentry.io/1'}}\n"
    )
    # Slack throttles the first attempt: the SDK's handler waits and retries.
    sandbox.faults.inject("chat.postMessage", "rate_limit", count=1, retry_after=0)
    with _notifier(sandbox, secrets).session() as session:
        assert session.known_secrets[0] == "xoxb-sandbox-token"
        event_id = session.capture(failure(), source="test")
        message = run_failure_message(
            failure(), environment="ci", links=session.links, sentry_event_id=event_id
        )
        assert session.post(message)
    [posted] = sandbox.slack.messages
    assert posted.channel == "#alerts"
    [event] = sandbox.sentry.events
    assert event.event_id == event_id
    assert any(r.status == 429 for r in sandbox.requests)


def test_a_webhook_instead_of_a_token(sandbox: SandboxServer, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"slack: {{alerts: {{webhook_url: '{sandbox.slack_webhook_url}'}}}}\n")
    with _notifier(sandbox, secrets, slack_channel="").session() as session:
        assert session.slack_configured
        assert not session.sentry_configured
        session.post(
            run_failure_message(failure(), environment="ci", links=LINKS, sentry_event_id=None)
        )
    [posted] = sandbox.slack.messages
    assert posted.via == "webhook"


def test_missing_secrets_skip_the_channels(sandbox: SandboxServer, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("{}\n")
    with _notifier(sandbox, secrets).session() as session:
        assert not session.slack_configured
        assert not session.sentry_configured
        assert session.capture(failure(), source="test") is None
        assert (
            session.post(
                run_failure_message(failure(), environment="ci", links=LINKS, sentry_event_id=None)
            )
            is None
        )
    assert sandbox.slack.messages == []
    assert sandbox.sentry.events == []
