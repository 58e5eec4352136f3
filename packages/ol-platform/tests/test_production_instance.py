"""The qa/production Dagster instance config stores runs and events in PostgreSQL.

Runs against the PostgreSQL server on 127.0.0.1:5432 (present on every development and CI
machine); a missing server is a failure, not a skip.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from ol_orchestrate.lib.environment import find_repo_root

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@pytest.fixture
def postgres_database() -> Iterator[str]:
    name = f"dagster_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(dbname="postgres", **PG)  # type: ignore[arg-type]
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@pytest.fixture
def production_instance(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = find_repo_root() / "dg_deployments" / "production" / "dagster.yaml"
    shutil.copyfile(config, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_HOST", PG["host"])  # type: ignore[arg-type]
    monkeypatch.setenv("DAGSTER_PG_PORT", str(PG["port"]))
    monkeypatch.setenv("DAGSTER_PG_USERNAME", PG["user"])  # type: ignore[arg-type]
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "")
    monkeypatch.setenv("DAGSTER_PG_DB", postgres_database)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()


def test_production_config_uses_postgres_storage(production_instance: dg.DagsterInstance) -> None:
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    assert isinstance(production_instance.run_storage, PostgresRunStorage)
    assert isinstance(production_instance.event_log_storage, PostgresEventLogStorage)


def test_materialization_is_recorded_in_postgres(
    production_instance: dg.DagsterInstance, postgres_database: str
) -> None:
    @dg.asset(key=["platform", "raw", "heartbeat"])
    def heartbeat() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 3})

    result = dg.materialize([heartbeat], instance=production_instance)
    assert result.success

    event = production_instance.get_latest_materialization_event(
        dg.AssetKey(["platform", "raw", "heartbeat"])
    )
    assert event is not None
    assert event.run_id == result.run_id

    # Read the run back from PostgreSQL directly, not through Dagster's cache.
    connection = psycopg2.connect(dbname=postgres_database, **PG)  # type: ignore[arg-type]
    with connection, connection.cursor() as cursor:
        cursor.execute("select status from runs where run_id = %s", (result.run_id,))
        assert cursor.fetchone() == ("SUCCESS",)
    connection.close()
