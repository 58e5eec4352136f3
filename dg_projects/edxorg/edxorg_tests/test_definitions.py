"""The edxorg location loads in every environment with no credentials; its graph is reviewed."""

from pathlib import Path

import pytest

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
        defs = load_definitions("edxorg.definitions")
        assert_matches_snapshot(asset_key_lines(defs), SNAPSHOT)
    sensors = {sensor.name for sensor in defs.sensors or ()}
    assert {
        "edxorg_automation",
        "edxorg_archive_sensor",
        "edxorg_edxorg_tracking_logs_sensor",
    } <= sensors


def test_deployed_environments_read_aws_and_edx_hosts() -> None:
    with environment("production", {"VAULT_ADDR": "http://127.0.0.1:1"}):
        defs = load_definitions("edxorg.definitions")
    resources = defs.resources or {}
    delivery = resources["edxorg_delivery"]
    assert delivery.endpoint_url is None  # the real AWS
    assert delivery.bucket == "edx-course-data"
    assert delivery.secret_path == "pipelines/edxorg/delivery"
    catalog = resources["edxorg_catalog"]
    assert catalog.base_url == "https://discovery.edx.org"
    assert catalog.token_url == "https://api.edx.org/oauth2/v1/access_token"
