"""Airbyte connections as assets, against the sandbox's Airbyte: syncs that write the lake, a
failed sync that fails with Airbyte's message, a running sync joined, a stream added to a
connection, and a location that loads from the prepared state with no network."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from lakehouse.airbyte import (
    CONNECTION_ARROW,
    AirbyteConnections,
    connection_group,
)
from ol_orchestrate.io_managers import CONTENT_HASH_METADATA_KEY
from ol_orchestrate.lib.automation import Cadence, is_raw_key
from ol_orchestrate.lib.environment import PlatformSettings, load_settings
from ol_orchestrate.testing import environment, load_definitions
from ol_sandbox.airbyte import CONNECTIONS, SELECTED_STREAMS, app_tables, table_folder
from ol_sandbox.data import Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

DEFS_YAML = Path(__file__).parents[1] / "lakehouse" / "defs" / "airbyte" / "defs.yaml"
INSTITUTION = Institution.from_size("small")
MITXONLINE = CONNECTIONS["mitxonline"]
MITXONLINE_GROUP = "mitx_online_production_app_db"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(
        INSTITUTION,
        fault_config=FaultConfig(),
        delivery_bucket=False,
        lake_root=str(tmp_path / "lake"),
    ) as running:
        running.airbyte.sync_seconds = 0.05
        yield running


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> PlatformSettings:
    return load_settings(
        {"DAGSTER_ENV": "dev", "OL_SANDBOX_URL": sandbox.url, "OL_DATA_DIR": str(tmp_path)}
    )


@pytest.fixture
def component() -> AirbyteConnections:
    """The component exactly as the location's defs.yaml configures it."""
    return AirbyteConnections(**yaml.safe_load(DEFS_YAML.read_text())["attributes"])


def connection_assets(defs: dg.Definitions, group: str) -> dg.AssetsDefinition:
    """The multi-asset syncing the connection of `group` (as built, resources unbound)."""
    return next(
        assets
        for assets in defs.assets or ()
        if isinstance(assets, dg.AssetsDefinition)
        and set(assets.group_names_by_key.values()) == {group}
    )


def sync(defs: dg.Definitions, group: str = MITXONLINE_GROUP) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [connection_assets(defs, group)],
        resources={"airbyte": dict(defs.resources or {})["airbyte"]},
        raise_on_error=False,
    )


def test_connection_names_give_the_groups() -> None:
    assert (
        connection_group(f"MITx Online Production App DB {CONNECTION_ARROW} S3 Data Lake")
        == "mitx_online_production_app_db"
    )
    assert (
        connection_group(f"xPro Production App-DB {CONNECTION_ARROW} S3")
        == "xpro_production_app_db"
    )
    assert connection_group("no arrow here") == "no_arrow_here"


def test_every_selected_stream_is_a_raw_asset(
    component: AirbyteConnections, settings: PlatformSettings
) -> None:
    defs = component.defs_from_state(component.fetch_state(settings), settings)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    expected = {
        dg.AssetKey(["ol_warehouse_raw_data", connection.table_name(stream)])
        for connection in CONNECTIONS.values()
        for stream in SELECTED_STREAMS
    }
    assert keys == expected
    for key in keys:
        node = graph.get(key)
        assert is_raw_key(key)
        assert node.group_name in {"mitx_online_production_app_db", "xpro_production_app_db"}
        assert Cadence.from_metadata(node.metadata) == Cadence("0 */6 * * *", timedelta(hours=3))
        assert "airbyte" in node.kinds
        assert node.description
    assert sorted(job.name for job in defs.jobs or ()) == [
        "sync_and_stage_mitx_online_production_app_db",
        "sync_and_stage_xpro_production_app_db",
    ]
    schedules = {s.name: s for s in defs.schedules or ()}
    schedule = schedules["sync_and_stage_xpro_production_app_db_schedule"]
    assert isinstance(schedule, dg.ScheduleDefinition)
    assert schedule.cron_schedule == "0 */6 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_a_sync_writes_the_tables_and_reports_their_rows(
    component: AirbyteConnections, settings: PlatformSettings, sandbox: SandboxServer
) -> None:
    defs = component.defs_from_state(component.fetch_state(settings), settings)
    result = sync(defs)
    assert result.success
    tables = app_tables(INSTITUTION, "mitxonline")
    materialized = {
        m.asset_key.path[-1]: m.metadata["dagster/row_count"].value
        for m in result.asset_materializations_for_node(
            connection_assets(defs, MITXONLINE_GROUP).node_def.name
        )
    }
    assert materialized == {
        MITXONLINE.table_name(stream): tables.count(stream) for stream in SELECTED_STREAMS
    }
    lake = sandbox.airbyte.lake_root
    assert lake is not None
    for stream in SELECTED_STREAMS:
        assert list(
            table_folder(lake, "ol_warehouse_raw_data", MITXONLINE.table_name(stream)).glob(
                "*.parquet"
            )
        )
    assert sandbox.airbyte.requests_started == [1]


def _content_hashes(defs: dg.Definitions, result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {
        m.asset_key.path[-1]: m.metadata[CONTENT_HASH_METADATA_KEY].value
        for m in result.asset_materializations_for_node(
            connection_assets(defs, MITXONLINE_GROUP).node_def.name
        )
    }


def test_a_sync_of_unchanged_data_digests_the_same(
    component: AirbyteConnections, settings: PlatformSettings, sandbox: SandboxServer
) -> None:
    """Every sync writes new `_airbyte_*` stamps; the tables' digests (what the lakehouse's
    dbt build compares, lakehouse.dbt_inputs) change only with the app's data."""
    defs = component.defs_from_state(component.fetch_state(settings), settings)
    first = sync(defs)
    second = sync(defs)
    assert first.success
    assert second.success
    assert _content_hashes(defs, second) == _content_hashes(defs, first)
    assert len(set(_content_hashes(defs, first).values())) == len(SELECTED_STREAMS)

    sandbox.airbyte.institution = Institution.from_size("small", seed=7)  # the app's data moved
    third = sync(defs)
    assert third.success
    changed = {
        table
        for table, digest in _content_hashes(defs, third).items()
        if _content_hashes(defs, first)[table] != digest
    }
    assert MITXONLINE.table_name("users_user") in changed


def test_a_failed_sync_fails_the_assets_with_airbytes_message(
    component: AirbyteConnections, settings: PlatformSettings, sandbox: SandboxServer
) -> None:
    defs = component.defs_from_state(component.fetch_state(settings), settings)
    sandbox.airbyte.fail_next_sync(
        "mitxonline", "Could not connect with provided configuration. Error: password expired"
    )
    result = sync(defs)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    user_failure = failure.step_failure_data.user_failure_data
    assert user_failure is not None
    assert user_failure.description == (
        f"Airbyte sync of {MITXONLINE.name} failed (job 1): Could not connect with provided "
        "configuration. Error: password expired (origin: source)"
    )
    assert user_failure.metadata["airbyte_job_id"].value == 1
    assert not result.asset_materializations_for_node(
        connection_assets(defs, MITXONLINE_GROUP).node_def.name
    )


def test_a_cancelled_sync_fails_the_assets(
    component: AirbyteConnections, settings: PlatformSettings, sandbox: SandboxServer
) -> None:
    defs = component.defs_from_state(component.fetch_state(settings), settings)
    held = sandbox.airbyte.start_sync("mitxonline", hold=True)
    outcome: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: outcome.update(result=sync(defs)))
    runner.start()
    _wait_for_poll(sandbox, held.id)
    sandbox.airbyte.cancel(held.id)
    runner.join(30)
    result = outcome["result"]
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "was cancelled" in str(failure.step_failure_data.user_failure_data.description)  # type: ignore[union-attr]


def _wait_for_poll(sandbox: SandboxServer, job_id: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r.path.endswith(f"/api/public/v1/jobs/{job_id}") for r in sandbox.requests):
            return
        time.sleep(0.02)
    raise AssertionError(f"nobody polled job {job_id}")


def test_a_running_sync_is_joined_not_duplicated(
    component: AirbyteConnections, settings: PlatformSettings, sandbox: SandboxServer
) -> None:
    defs = component.defs_from_state(component.fetch_state(settings), settings)
    # Airbyte's own schedule started a sync; Dagster's schedule fires while it runs.
    held = sandbox.airbyte.start_sync("mitxonline", hold=True)
    outcome: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: outcome.update(result=sync(defs)))
    runner.start()
    _wait_for_poll(sandbox, held.id)
    assert runner.is_alive()  # waiting for the running sync, not failed
    sandbox.airbyte.release(held.id)
    runner.join(30)
    assert outcome["result"].success
    assert [job.id for job in sandbox.airbyte.jobs("mitxonline")] == [held.id]
    assert sandbox.airbyte.requests_started == []  # no second sync was asked for
    assert not [r for r in sandbox.requests if r.method == "DELETE"]  # nor was it cancelled


def test_a_stream_added_to_a_connection_needs_a_state_refresh(
    component: AirbyteConnections, settings: PlatformSettings, sandbox: SandboxServer
) -> None:
    before = component.defs_from_state(component.fetch_state(settings), settings)
    sandbox.airbyte.select_stream("mitxonline", "flexiblepricing_flexibleprice")
    new_key = dg.AssetKey(
        ["ol_warehouse_raw_data", MITXONLINE.table_name("flexiblepricing_flexibleprice")]
    )
    # Before the refresh: the sync writes the new table, nothing breaks, no asset appears.
    result = sync(before)
    assert result.success
    assert new_key not in before.resolve_asset_graph().get_all_asset_keys()
    lake = sandbox.airbyte.lake_root
    assert lake is not None
    assert list(table_folder(lake, "ol_warehouse_raw_data", new_key.path[-1]).glob("*.parquet"))
    # After it: the new table is an asset of the connection.
    after = component.defs_from_state(component.fetch_state(settings), settings)
    assert new_key in after.resolve_asset_graph().get_all_asset_keys()
    assert new_key in connection_assets(after, MITXONLINE_GROUP).keys
    assert sync(after).success


def test_state_is_written_only_when_it_changed(
    component: AirbyteConnections,
    sandbox: SandboxServer,
    tmp_path: Path,
    settings: PlatformSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("lakehouse.airbyte.get_settings", lambda: settings)
    state = tmp_path / "state" / "state"
    component.write_state_to_path(state)
    first = state.stat().st_mtime_ns
    time.sleep(0.01)
    component.write_state_to_path(state)
    assert state.stat().st_mtime_ns == first
    sandbox.airbyte.select_stream("xpro", "flexiblepricing_flexibleprice")
    component.write_state_to_path(state)
    assert "flexiblepricing_flexibleprice" in state.read_text()


def test_the_location_loads_from_the_prepared_state_with_no_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The conftest prepared the local state (as `ol-platform prepare` does); no socket may be
    opened while the location loads."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a connection was opened while loading: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    with environment("dev", {"OL_SANDBOX_URL": "http://127.0.0.1:9"}):
        defs = load_definitions("lakehouse.definitions")
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert dg.AssetKey(["ol_warehouse_raw_data", MITXONLINE.table_name("users_user")]) in keys
    assert "airbyte" in dict(defs.resources or {})
