"""The asset-check-failure sensor against real check evaluations and the sandbox's Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from data_platform.alerts.check_failures import CheckFailureCursor, evaluate_check_failures
from data_platform.components import PlatformAlerts
from ol_orchestrate.lib.alerts import LOCATION_TAG, latest_check_evaluation_id
from ol_orchestrate.resources.alerts import AlertNotifier
from ol_sandbox.server import SandboxServer

UI = "http://127.0.0.1:3000"
DEFS_YAML = Path(__file__).parents[1] / "data_platform" / "defs" / "alerts" / "defs.yaml"


def ci_policy() -> Any:
    attributes = yaml.safe_load(DEFS_YAML.read_text())["attributes"]
    return PlatformAlerts(**attributes).policy("ci")


def checked_asset(
    key: list[str], results: dict[str, bool], metadata: dict[str, dict[str, Any]] | None = None
) -> dg.AssetsDefinition:
    """An asset with one check per entry of `results` (name -> passed), all evaluated by its run."""

    @dg.asset(key=key, check_specs=[dg.AssetCheckSpec(name, asset=key) for name in results])
    def _asset() -> Any:
        yield dg.Output(None)
        for name, passed in results.items():
            yield dg.AssetCheckResult(
                check_name=name,
                passed=passed,
                metadata=(metadata or {}).get(name, {}),
                description=None if passed else f"{name} found bad rows",
            )

    return _asset


def run(
    instance: dg.DagsterInstance, asset: dg.AssetsDefinition, location: str = "lakehouse"
) -> None:
    result = dg.materialize(
        [asset], instance=instance, tags={LOCATION_TAG: location}, raise_on_error=False
    )
    assert result.success  # checks fail, the run does not (none is blocking)


def test_120_failing_checks_arrive_in_three_ticks_of_at_most_49_then_nothing(
    sandbox: SandboxServer, instance: dg.DagsterInstance, driver: Callable[..., Any]
) -> None:
    sensor = driver(instance, "platform_check_failure_alerts")
    # 120 failing checks, with passing ones in between (read, never reported), in one run
    results = {f"rows_valid_{n:03d}": n % 4 == 3 for n in range(160)}
    assert sum(not passed for passed in results.values()) == 120
    run(instance, checked_asset(["canvas", "raw", "submissions"], results), location="canvas")

    for expected in (49, 49, 22, None, None):
        before = len(sandbox.slack.messages)
        sensor.tick()
        if expected is None:
            assert len(sandbox.slack.messages) == before, "nothing more once drained"
            continue
        assert len(sandbox.slack.messages) == before + 1, "one message per tick"
        message = sandbox.slack.messages[-1]
        assert message.blocks[0]["type"] == "header"
        assert len(message.blocks) == expected + 1 <= 50
    reported = [
        block["text"]["text"] for message in sandbox.slack.messages for block in message.blocks[1:]
    ]
    names = {text.split("check `")[1].split("`")[0] for text in reported}
    assert names == {name for name, passed in results.items() if not passed}
    assert "more to follow" in sandbox.slack.messages[0].blocks[0]["text"]["text"]
    assert "more to follow" not in sandbox.slack.messages[2].blocks[0]["text"]["text"]
    assert f"<{UI}/assets/canvas/raw/submissions|canvas/raw/submissions>" in reported[0]
    assert json.loads(sensor.cursor)["after"] == latest_check_evaluation_id(instance)


@pytest.mark.parametrize("instance_fixture", ["instance", "production_instance"])
def test_a_dbt_test_failure_names_the_test_and_links_to_its_model(
    instance_fixture: str,
    request: pytest.FixtureRequest,
    sandbox: SandboxServer,
    driver: Callable[..., Any],
) -> None:
    # Local SQLite (one database per run) and the deployed PostgreSQL storage alike.
    instance: dg.DagsterInstance = request.getfixturevalue(instance_fixture)
    sensor = driver(instance, "platform_check_failure_alerts")
    # The metadata dagster-dbt puts on a dbt test's check evaluation.
    dbt = {
        "unique_id": "test.ol_dbt.not_null_fct_canvas__enrollment_user_id_hash.5b2c1a",
        "invocation_id": "0d3f0e1c-7d52-4d8f-9b3e-0b1e2c3d4e5f",
        "status": "fail",
        "dagster_dbt/failed_row_count": 3,
    }
    model = checked_asset(
        ["canvas", "marts", "fct_canvas__enrollment"],
        {"not_null_fct_canvas__enrollment_user_id_hash": False, "unique_enrollment_id": True},
        {"not_null_fct_canvas__enrollment_user_id_hash": dbt},
    )
    run(instance, model)
    sensor.tick()
    [message] = sandbox.slack.messages
    header, block = message.blocks
    assert "1 asset check(s) failed (1 dbt test(s))" in header["text"]["text"]
    text = block["text"]["text"]
    assert f"dbt test `{dbt['unique_id']}` on model" in text
    assert f"<{UI}/assets/canvas/marts/fct_canvas__enrollment|fct_canvas__enrollment>" in text
    assert "3 failing row(s)" in text
    assert f"<{UI}/assets/canvas/marts/fct_canvas__enrollment?view=checks|checks>" in text


def test_a_check_failing_again_inside_the_window_is_counted_then_summarised(
    sandbox: SandboxServer, instance: dg.DagsterInstance, notifier: AlertNotifier
) -> None:
    policy = ci_policy()
    tick = evaluate_check_failures(instance, notifier, None, policy)
    asset = checked_asset(["openedx", "raw", "xpro_tracking_logs"], {"lines_accounted_for": False})
    run(instance, asset, "openedx")
    now = time.time()
    tick = evaluate_check_failures(instance, notifier, tick.cursor, policy, now=now)
    assert len(tick.reported) == 1
    run(instance, asset, "openedx")
    run(instance, asset, "openedx")
    tick = evaluate_check_failures(instance, notifier, tick.cursor, policy, now=now + 1)
    assert (len(tick.reported), tick.repeats_counted, tick.message) == (0, 2, None)
    assert len(sandbox.slack.messages) == 1

    later = now + policy.window_seconds
    tick = evaluate_check_failures(instance, notifier, tick.cursor, policy, now=later)
    assert tick.still_failing == 1
    text = json.dumps(sandbox.slack.messages[-1].blocks, ensure_ascii=False)
    assert "check `lines_accounted_for` still failing: 2 more time(s)" in text
    state = CheckFailureCursor.from_json(tick.cursor)
    assert state.after == latest_check_evaluation_id(instance)
