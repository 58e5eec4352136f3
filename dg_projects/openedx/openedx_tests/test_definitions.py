"""The openedx location loads in every environment with no credentials; its graph is reviewed."""

from __future__ import annotations

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
    # An unroutable Vault address: loading must not try to reach it.
    with environment(env, {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}):
        defs = load_definitions("openedx.definitions")
        assert_matches_snapshot(asset_key_lines(defs), SNAPSHOT)


def test_one_set_of_assets_per_deployment() -> None:
    with environment("dev"):
        lines = asset_key_lines(load_definitions("openedx.definitions"))
    for deployment in ("mitxonline", "xpro"):
        for table in ("course_runs", "course_blocks", "enrollments"):
            assert any(line.startswith(f"openedx/raw/{deployment}_{table} ") for line in lines)
