"""The learning_resources location loads in every environment with no credentials; its graph is
reviewed (asset_keys.snapshot)."""

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from learning_resources.components import LearnCatalog, LearnSource
from learning_resources.sources import SOURCES
from ol_orchestrate.testing import (
    assert_matches_snapshot,
    asset_key_lines,
    environment,
    load_definitions,
)

SNAPSHOT = Path(__file__).with_name("asset_keys.snapshot")


@pytest.mark.parametrize("env", ["dev", "ci", "qa", "production"])
def test_loads_in_every_environment_without_credentials(env: str) -> None:
    # An unroutable Vault address and no token: loading must not try to read a secret.
    with environment(env, {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}):
        defs = load_definitions("learning_resources.definitions")
        assert_matches_snapshot(asset_key_lines(defs), SNAPSHOT)
    assert [sensor.name for sensor in defs.sensors or ()] == [
        "ovs_videos_discovery_sensor",
        "ovs_videos_cleanup_sensor",
        "learning_resources_automation",
        "learning_resources_freshness_checks",
    ]


def test_one_delivery_per_source_downstream_of_its_dbt_model() -> None:
    with environment("dev"):
        defs = load_definitions("learning_resources.definitions")
    graph = defs.resolve_asset_graph()
    for spec in SOURCES.values():
        node = graph.get(dg.AssetKey(["learning_resources", "delivery", spec.etl_source]))
        assert node.parent_keys == {
            dg.AssetKey(["learning_resources", "marts", f"integrations__learn__{spec.etl_source}"])
        }
        assert node.automation_condition is not None


def test_raw_refreshes_are_daily_and_staggered() -> None:
    with environment("dev"):
        defs = load_definitions("learning_resources.definitions")
    graph = defs.resolve_asset_graph()
    crons = {
        key.path[-1]: (graph.get(key).metadata or {}).get("ol/cadence_cron")
        for key in graph.get_all_asset_keys()
        if key.path[1] == "raw" and graph.get(key).is_materializable
    }
    scheduled = {name: cron for name, cron in crons.items() if cron}
    assert crons.pop("ovs_videos") == ""  # the discovery sensor requests the details
    assert scheduled["sloan_courses"] == scheduled["sloan_course_offerings"]  # one API call
    assert len(set(scheduled.values())) == 5  # one time per source
    assert all(cron.endswith(" * * *") for cron in scheduled.values())


def test_the_configuration_is_checked_when_the_location_loads() -> None:
    context: Any = None  # the components need nothing from it
    with environment("dev"), pytest.raises(ValueError, match="'nope' is unknown"):
        LearnSource(source="nope").build_defs(context)
    with environment("dev"), pytest.raises(ValueError, match="unknown environment"):
        LearnSource(source="oll", hosts={"staging": "https://x"}).build_defs(context)
    with environment("dev"), pytest.raises(ValueError, match="unknown environment"):
        LearnCatalog(hosts={"prod": "https://x"}).build_defs(context)


def test_a_deployed_source_without_a_host_names_the_variable() -> None:
    context: Any = None  # the components need nothing from it
    with environment("production"), pytest.raises(KeyError, match="MIT_CLIMATE_BASE_URL"):
        LearnSource(source="mit_climate").build_defs(context)
