"""The legacy_openedx location loads in every environment with no credentials (no database,
Vault, Studio, forum or bucket is touched at load); its graph is reviewed (one component per LMS
database: mitx, mitxonline, xpro); the daily sensor asks for the latest day until it has run."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ol_orchestrate.testing import (
    assert_matches_snapshot,
    asset_key_lines,
    environment,
    load_definitions,
    persistent_instance,
)

SNAPSHOT = Path(__file__).with_name("asset_keys.snapshot")
DEPLOYMENTS = ("mitx", "mitxonline", "xpro")


@pytest.mark.parametrize("env", ["dev", "ci", "qa", "production"])
def test_loads_in_every_environment_without_credentials(env: str) -> None:
    # An unroutable Vault address and no token: loading must not try to read a secret.
    with environment(env, {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}):
        defs = load_definitions("legacy_openedx.definitions")
        assert_matches_snapshot(asset_key_lines(defs), SNAPSHOT)
    names = {sensor.name for sensor in defs.sensors or ()}
    assert {
        "legacy_openedx_automation",
        *(f"legacy_openedx_{name}_daily_sensor" for name in DEPLOYMENTS),
    } <= names
    assert {s.name for s in defs.schedules or ()} == {
        f"legacy_openedx_{name}_daily_schedule" for name in DEPLOYMENTS
    }


def test_the_database_per_environment() -> None:
    with environment("dev", {"OL_LAKE_ROOT": "/lake"}):
        defs = load_definitions("legacy_openedx.definitions")
        database = defs.resources["legacy_openedx_mitx_database"]
        assert database.url == "sqlite:////lake/landing/legacy_openedx/mitx/edxapp.sqlite"
    with environment("production"):
        defs = load_definitions("legacy_openedx.definitions")
        database = defs.resources["legacy_openedx_mitx_database"]
        assert database.url.startswith("mysql+pymysql://")
        assert database.credentials_path == "mariadb-mitx/creds/readonly"
        assert defs.resources["legacy_openedx_mitx_results"].url.startswith("s3://")
        studio = defs.resources["legacy_openedx_xpro_studio"]
        assert studio.studio_url == "https://studio.xpro.mit.edu"
        assert studio.token_url == "https://courses.xpro.mit.edu/oauth2/access_token"
        assert studio.secret_path == "pipelines/openedx/xpro/oauth"  # pragma: allowlist secret
        forum = defs.resources["legacy_openedx_mitxonline_forum"]
        assert forum.secret_path == "pipelines/forum/mitxonline/api"  # pragma: allowlist secret
        assert (
            defs.resources["legacy_openedx_xpro_database"].credentials_path
            == "mariadb-xpro/creds/readonly"
        )
    override = "mysql+pymysql://127.0.0.1:3306/edxapp"
    with environment("dev", {"LEGACY_OPENEDX_MITX_DATABASE_BASE_URL": override}):
        defs = load_definitions("legacy_openedx.definitions")
        assert defs.resources["legacy_openedx_mitx_database"].url == override
    with environment("dev", {"OL_SANDBOX_URL": "http://127.0.0.1:9999"}):
        defs = load_definitions("legacy_openedx.definitions")
        studio = defs.resources["legacy_openedx_mitx_studio"]
        assert studio.studio_url == "http://127.0.0.1:9999/studio/mitx"
        assert studio.token_url == "http://127.0.0.1:9999/studio/mitx/oauth2/access_token"
        assert defs.resources["legacy_openedx_mitx_forum"].base_url == (
            "http://127.0.0.1:9999/forum/mitx"
        )


def test_the_sensor_requests_the_latest_day_until_it_ran() -> None:
    with environment("dev"), persistent_instance() as instance:
        defs = load_definitions("legacy_openedx.definitions")
        partitions = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")
        for name in DEPLOYMENTS:
            sensor = defs.resolve_sensor_def(f"legacy_openedx_{name}_daily_sensor")
            with dg.build_sensor_context(instance=instance, definitions=defs) as context:
                result = sensor.evaluate_tick(context)
            (request,) = result.run_requests or []
            assert request.partition_key == partitions.get_last_partition_key()
            assert request.tags["ol/heal_reason"] == "missing"
