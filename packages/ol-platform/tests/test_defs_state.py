"""`ol-platform prepare` / `materialize` refresh the state-backed components of every location
(the lakehouse's Airbyte workspace) against the sandbox, and say which one failed and why."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ol_orchestrate.lib.environment import environ_overrides, load_settings, reset_settings_cache
from ol_platform.defs_state import (
    DefsStateRefreshError,
    refresh_defs_state,
    state_backed_components,
)
from ol_platform.locations import discover_locations
from ol_sandbox.data import Institution
from ol_sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[3]


def _lakehouse() -> list:
    return [loc for loc in discover_locations(ROOT) if loc.name == "lakehouse"]


def test_only_the_lakehouse_has_state_backed_components() -> None:
    found = {
        location.name: [type(c).__name__ for c in state_backed_components(location)]
        for location in discover_locations(ROOT)
    }
    assert found.pop("lakehouse") == ["AirbyteConnections"]
    assert not any(found.values())


def test_refresh_writes_the_airbyte_state() -> None:
    with (
        SandboxServer(Institution.from_size("small"), delivery_bucket=False) as sandbox,
        environ_overrides({"DAGSTER_ENV": "dev", "OL_SANDBOX_URL": sandbox.url}),
    ):
        reset_settings_cache()
        try:
            (refreshed,) = refresh_defs_state(_lakehouse())
            (component,) = state_backed_components(_lakehouse()[0])
            key = component.defs_state_config.key
        finally:
            reset_settings_cache()
    assert refreshed.location == "lakehouse"
    assert refreshed.key == key == "airbyte_connections.local"
    state = ROOT / "dg_projects/lakehouse/lakehouse/defs/.local_defs_state" / key / "state"
    assert "raw__mitxonline__app__postgres__" in state.read_text()
    assert dg.deserialize_value(state.read_text())  # dagster-airbyte's AirbyteWorkspaceData


def test_an_unreachable_airbyte_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"DAGSTER_ENV": "dev"})
    assert settings.is_local
    with environ_overrides({"DAGSTER_ENV": "dev", "OL_SANDBOX_URL": "http://127.0.0.1:9"}):
        reset_settings_cache()
        try:
            # no retries: the port refuses at once
            monkeypatch.setattr("time.sleep", lambda _seconds: None)
            with pytest.raises(DefsStateRefreshError, match=r"lakehouse.*airbyte_connections"):
                refresh_defs_state(_lakehouse())
        finally:
            reset_settings_cache()
