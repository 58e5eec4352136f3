"""The data_platform location loads in every environment with no credentials; its graph, sensors
and per-environment alert destinations are the reviewed ones."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
import yaml

from ol_orchestrate.lib.automation import is_policy_sensor
from ol_orchestrate.resources.alerts import AlertNotifier
from ol_orchestrate.testing import (
    assert_matches_snapshot,
    asset_key_lines,
    environment,
    load_definitions,
)
from ol_platform.sensors import tickable_sensors

SNAPSHOT = Path(__file__).with_name("asset_keys.snapshot")
DEFS_YAML = Path(__file__).parents[1] / "data_platform" / "defs" / "alerts" / "defs.yaml"
ALERT_SENSORS = ["platform_run_failure_alerts", "platform_check_failure_alerts"]
NO_VAULT = {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}


@pytest.mark.parametrize("env", ["dev", "ci", "qa", "production"])
def test_loads_in_every_environment_without_credentials(env: str) -> None:
    # An unroutable Vault address and no token: loading must not try to read a secret.
    with environment(env, NO_VAULT):
        defs = load_definitions("data_platform.definitions")
    assert_matches_snapshot(asset_key_lines(defs), SNAPSHOT)
    assert [s.name for s in defs.sensors or ()] == [
        *ALERT_SENSORS,
        "data_platform_automation",
        "data_platform_freshness_checks",
    ]
    expected = (
        dg.DefaultSensorStatus.STOPPED if env in ("dev", "ci") else dg.DefaultSensorStatus.RUNNING
    )
    for sensor in defs.sensors or ():
        assert sensor.default_status == expected, sensor.name


def test_alert_sensors_are_left_to_the_daemon() -> None:
    """`ol-platform materialize` ticks plain sensors itself; the alert sensors watch the whole
    deployment's runs, so only the daemon runs them."""
    with environment("dev"):
        defs = load_definitions("data_platform.definitions")
    sensors = {sensor.name: sensor for sensor in defs.sensors or ()}
    assert all(is_policy_sensor(sensors[name]) for name in ALERT_SENSORS)
    assert not {sensor.name for sensor in tickable_sensors(defs)} & set(ALERT_SENSORS)


@pytest.mark.parametrize(
    ("env", "channel", "base_url", "slack_api", "secret_prefix", "sentry_ingest"),
    [
        ("dev", "#data-platform-alerts-dev", "http://127.0.0.1:3000", "sandbox", "", "sandbox"),
        ("ci", "#data-platform-alerts-ci", "http://127.0.0.1:3000", "sandbox", "", "sandbox"),
        (
            "qa",
            "#data-platform-alerts-qa",
            "https://pipelines-qa.odl.mit.edu",
            "https://slack.com/api",
            "pipelines/",
            None,
        ),
        (
            "production",
            "#data-platform-alerts",
            "https://pipelines.odl.mit.edu",
            "https://slack.com/api",
            "pipelines/",
            None,
        ),
    ],
)
def test_alert_destination_per_environment(
    env: str,
    channel: str,
    base_url: str,
    slack_api: str,
    secret_prefix: str,
    sentry_ingest: str | None,
) -> None:
    sandbox = "http://127.0.0.1:9999"
    with environment(env, {**NO_VAULT, "OL_SANDBOX_URL": sandbox}):
        notifier = load_definitions("data_platform.definitions").resources["alert_notifier"]
    assert isinstance(notifier, AlertNotifier)
    assert notifier.environment == env
    assert notifier.slack_channel == channel
    assert notifier.dagster_base_url == base_url
    assert notifier.slack_api_url == (
        f"{sandbox}/slack/api" if slack_api == "sandbox" else slack_api
    )
    assert notifier.slack_secret_path == f"{secret_prefix}slack/alerts"
    assert notifier.sentry_secret_path == f"{secret_prefix}sentry/alerts"
    assert notifier.sentry_ingest_url == (f"{sandbox}/sentry" if sentry_ingest else None)


def test_base_url_overrides_point_slack_and_sentry_elsewhere() -> None:
    overrides = {
        **NO_VAULT,
        "SLACK_BASE_URL": "https://slack.example.edu/api",
        "SENTRY_BASE_URL": "https://sentry.example.edu/",
    }
    with environment("production", overrides):
        notifier = load_definitions("data_platform.definitions").resources["alert_notifier"]
    assert notifier.slack_api_url == "https://slack.example.edu/api"
    assert notifier.sentry_ingest_url == "https://sentry.example.edu"


def test_every_environment_must_be_configured() -> None:
    from data_platform.components import PlatformAlerts

    attributes = yaml.safe_load(DEFS_YAML.read_text())["attributes"]
    del attributes["environments"]["qa"]
    component = PlatformAlerts(**attributes)
    context = SimpleNamespace(path=DEFS_YAML.parent)  # what build_defs reads of its context
    with environment("dev"), pytest.raises(ValueError, match="missing: qa"):
        component.build_defs(context)  # type: ignore[arg-type]
    attributes["environments"]["qa"] = {
        "slack_channel": "#x",
        "dagster_base_url": "https://x",
        "max_messages_per_tick": 1,
    }
    with environment("dev"), pytest.raises(ValueError, match="max_messages_per_tick"):
        PlatformAlerts(**attributes).build_defs(context)  # type: ignore[arg-type]
