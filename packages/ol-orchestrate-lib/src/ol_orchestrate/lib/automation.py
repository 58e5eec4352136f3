"""The platform's automation policy, decided once: what runs by itself, when, and how stale is late.

- Raw assets declare a `Cadence` (`raw_asset_automation`): a cron for API assets (an `on_cron`
  automation condition) or none for file-fed assets driven by their sensor, and how long after
  its expected update an asset counts as overdue. The definitions bootstrap turns every raw
  asset's cadence into a freshness check, so no location writes its own.
- Downstream assets (dbt models, Superset datasets) follow their upstream: `follows_upstream()`.
- Sensors, schedules and each location's automation sensor start RUNNING in qa/production and
  STOPPED in dev/ci, so a laptop stays quiet until the user turns them on in the UI
  (`ol-platform materialize` drives everything itself).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dagster as dg

from ol_orchestrate.lib.environment import PlatformSettings, get_settings

RAW_LAYER = "raw"
# The key prefix (and warehouse schema) of the raw tables Airbyte connections land (lakehouse).
AIRBYTE_RAW_PREFIX = "ol_warehouse_raw_data"
# Asset metadata carrying a raw asset's cadence (read back by `freshness_checks`).
CADENCE_CRON_KEY = "ol/cadence_cron"
CADENCE_MAX_LAG_KEY = "ol/cadence_max_lag_minutes"
# Names of the two sensors every location gets from the bootstrap (`automation_sensors`).
AUTOMATION_SENSOR_SUFFIX = "_automation"
FRESHNESS_SENSOR_SUFFIX = "_freshness_checks"
AUTOMATION_SENSOR_INTERVAL_SECONDS = 60
# Tag of sensors only the daemon runs (the platform's failure alerts, which watch every location's
# runs): a local driver that ticks sensors itself skips them like the policy sensors.
DAEMON_ONLY_TAG = "ol/daemon_only"
# Tag of assets that snapshot the Dagster instance itself (the platform's health): a driver that
# runs locations one after another runs theirs after every location that does not read them, so
# the snapshot shows that run's own ingestion.
OBSERVES_INSTANCE_TAG = "ol/observes_instance"
FRESHNESS_SENSOR_INTERVAL_SECONDS = 600


@dataclass(frozen=True)
class Cadence:
    """How often a raw asset is refreshed and how late it may be before its check fails.

    `cron` (UTC) schedules API assets through an `on_cron` automation condition; `None` means
    something else requests the asset (a sensor watching a landing area or a registry).
    `max_lag` is measured from the cron's latest tick, or from now when there is no cron.
    """

    cron: str | None
    max_lag: timedelta

    def automation_condition(self) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.on_cron(self.cron) if self.cron else None

    def metadata(self) -> dict[str, Any]:
        minutes = int(self.max_lag.total_seconds() // 60)
        return {CADENCE_CRON_KEY: self.cron or "", CADENCE_MAX_LAG_KEY: minutes}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> Cadence | None:
        if CADENCE_MAX_LAG_KEY not in metadata:
            return None
        cron = _metadata_value(metadata.get(CADENCE_CRON_KEY)) or None
        minutes = int(_metadata_value(metadata[CADENCE_MAX_LAG_KEY]))
        return cls(cron=str(cron) if cron else None, max_lag=timedelta(minutes=minutes))


# API assets: refreshed every morning (UTC), overdue when a refresh is more than two hours late.
DAILY_API = Cadence(cron="0 5 * * *", max_lag=timedelta(hours=2))
# File-fed daily assets (tracking logs): a new day's files are expected within about a day.
DAILY_FILES = Cadence(cron=None, max_lag=timedelta(hours=30))


def raw_asset_automation(cadence: Cadence) -> dict[str, Any]:
    """Keyword arguments for a raw asset (`@dg.asset(**raw_asset_automation(DAILY_API), ...)`):
    its automation condition and the cadence metadata its freshness check is built from."""
    return {"automation_condition": cadence.automation_condition(), "metadata": cadence.metadata()}


def follows_upstream() -> dg.AutomationCondition:
    """Materialize when any upstream asset has been updated (and none is missing or running)."""
    return dg.AutomationCondition.eager()


def default_sensor_status(settings: PlatformSettings | None = None) -> dg.DefaultSensorStatus:
    settings = settings or get_settings()
    return dg.DefaultSensorStatus.STOPPED if settings.is_local else dg.DefaultSensorStatus.RUNNING


def default_schedule_status(settings: PlatformSettings | None = None) -> dg.DefaultScheduleStatus:
    settings = settings or get_settings()
    if settings.is_local:
        return dg.DefaultScheduleStatus.STOPPED
    return dg.DefaultScheduleStatus.RUNNING


def is_raw_key(key: dg.AssetKey) -> bool:
    """`[source_system, "raw", name]`: the platform's raw layer; also the tables Airbyte lands,
    keyed `[ol_warehouse_raw_data, <table>]` like the warehouse schema the dbt sources read."""
    if len(key.path) == 2 and key.path[0] == AIRBYTE_RAW_PREFIX:
        return True
    return len(key.path) >= 3 and key.path[1] == RAW_LAYER


def freshness_checks(
    specs: Iterable[dg.AssetSpec],
) -> tuple[list[dg.AssetChecksDefinition], list[dg.AssetKey]]:
    """One freshness check per raw asset, from its cadence; and the raw keys without a cadence.

    Assets sharing a cadence share one checks definition (Dagster's multi-asset check).
    """
    by_cadence: dict[Cadence, list[dg.AssetKey]] = {}
    missing: list[dg.AssetKey] = []
    for spec in specs:
        if not is_raw_key(spec.key):
            continue
        cadence = Cadence.from_metadata(spec.metadata or {})
        if cadence is None:
            missing.append(spec.key)
            continue
        by_cadence.setdefault(cadence, []).append(spec.key)
    checks: list[dg.AssetChecksDefinition] = []
    with _freshness_checks_api():
        for cadence, keys in sorted(by_cadence.items(), key=lambda item: str(item[0])):
            ordered: list[dg.AssetKey] = sorted(keys, key=lambda key: key.to_user_string())
            checks.extend(
                dg.build_last_update_freshness_checks(
                    assets=ordered,
                    lower_bound_delta=cadence.max_lag,
                    deadline_cron=cadence.cron,
                    timezone="UTC",
                )
            )
    return checks, missing


def automation_sensors(
    location: str,
    checks: Sequence[dg.AssetChecksDefinition],
    settings: PlatformSettings | None = None,
) -> list[dg.SensorDefinition]:
    """The location's automation-condition sensor and the sensor evaluating its freshness checks."""
    sensors: list[dg.SensorDefinition] = [
        dg.AutomationConditionSensorDefinition(
            f"{location}{AUTOMATION_SENSOR_SUFFIX}",
            target=dg.AssetSelection.all(),
            default_status=default_sensor_status(settings),
            minimum_interval_seconds=AUTOMATION_SENSOR_INTERVAL_SECONDS,
            description=(
                f"Evaluates the automation conditions of every {location} asset: cron-refreshed "
                "API assets, and downstream assets that follow their upstream updates."
            ),
        )
    ]
    if checks:
        with _freshness_checks_api():
            sensors.append(
                dg.build_sensor_for_freshness_checks(
                    freshness_checks=checks,
                    name=f"{location}{FRESHNESS_SENSOR_SUFFIX}",
                    minimum_interval_seconds=FRESHNESS_SENSOR_INTERVAL_SECONDS,
                    default_status=default_sensor_status(settings),
                )
            )
    return sensors


@contextmanager
def _freshness_checks_api() -> Iterator[None]:
    """Silence Dagster's "superseded" warning for freshness *checks*.

    Dagster now also offers `FreshnessPolicy` (a freshness state without a check). The platform
    keeps asset checks on purpose: a stale raw asset is then a failed check like any other, which
    the check-failure alerts and the UI's check history already report.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.SupersessionWarning)
        yield


def daemon_only_tags() -> dict[str, str]:
    """Tags marking a sensor that only the daemon runs (see `is_policy_sensor`)."""
    return {DAEMON_ONLY_TAG: "true"}


def observes_instance_tags() -> dict[str, str]:
    """Tags marking an asset that reads the Dagster instance's runs and checks (see
    `OBSERVES_INSTANCE_TAG`)."""
    return {OBSERVES_INSTANCE_TAG: "true"}


def is_policy_sensor(sensor: dg.SensorDefinition) -> bool:
    """True for the automation and freshness sensors the bootstrap adds to every location, and
    for sensors tagged `daemon_only_tags()` (the daemon drives them; a local driver that ticks
    sensors itself skips them)."""
    return (
        isinstance(sensor, dg.AutomationConditionSensorDefinition)
        or sensor.name.endswith(FRESHNESS_SENSOR_SUFFIX)
        or (sensor.tags or {}).get(DAEMON_ONLY_TAG) == "true"
    )


def _metadata_value(value: Any) -> Any:
    """A raw metadata value, whether Dagster has wrapped it in a MetadataValue or not."""
    return getattr(value, "value", value)
