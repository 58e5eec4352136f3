"""Every code location follows the platform's automation policy, in every environment.

One automation sensor per location; sensors and schedules RUNNING in qa/production and STOPPED in
dev/ci (a laptop stays quiet until the user turns them on); a freshness check on every raw asset.
"""

from __future__ import annotations

import dagster as dg
import pytest

from ol_orchestrate.lib.automation import is_raw_key
from ol_orchestrate.lib.environment import find_repo_root
from ol_orchestrate.testing import environment, load_definitions
from ol_platform.locations import discover_locations

LOCATIONS = discover_locations(find_repo_root())


@pytest.mark.parametrize("location", LOCATIONS, ids=lambda location: location.name)
@pytest.mark.parametrize(
    ("env", "sensor_status", "schedule_status"),
    [
        ("dev", dg.DefaultSensorStatus.STOPPED, dg.DefaultScheduleStatus.STOPPED),
        ("production", dg.DefaultSensorStatus.RUNNING, dg.DefaultScheduleStatus.RUNNING),
    ],
)
def test_location_follows_the_policy(
    location: object,
    env: str,
    sensor_status: dg.DefaultSensorStatus,
    schedule_status: dg.DefaultScheduleStatus,
) -> None:
    name = location.name  # type: ignore[attr-defined]
    with environment(env, {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}):
        defs = load_definitions(location.module)  # type: ignore[attr-defined]
    sensors = list(defs.sensors or ())
    automation = [s for s in sensors if isinstance(s, dg.AutomationConditionSensorDefinition)]
    assert [s.name for s in automation] == [f"{name}_automation"]
    for sensor in sensors:
        assert sensor.default_status == sensor_status, sensor.name
    for schedule in defs.schedules or ():
        assert isinstance(schedule, dg.ScheduleDefinition)
        assert schedule.default_status == schedule_status, schedule.name

    graph = defs.resolve_asset_graph()
    checked = {
        check_key.asset_key
        for checks in defs.asset_checks or ()
        if isinstance(checks, dg.AssetChecksDefinition)
        for check_key in checks.check_keys
        if check_key.name == "freshness_check"
    }
    raw = {
        key
        for key in graph.get_all_asset_keys()
        if is_raw_key(key) and graph.get(key).is_materializable
    }
    assert raw <= checked, sorted(k.to_user_string() for k in raw - checked)
