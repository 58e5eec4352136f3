"""Fixtures for the data_platform tests: the sandbox's Slack and Sentry, the location's own
definitions pointed at them, Dagster instances (with the deployment's run retries), and helpers
that run real failing runs and tick the alert sensors the way the daemon does."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import pytest
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import execute_run
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, RETRY_NUMBER_TAG, ROOT_RUN_ID_TAG

from ol_orchestrate.lib.alerts import LOCATION_TAG
from ol_orchestrate.lib.environment import find_repo_root
from ol_orchestrate.resources.alerts import AlertNotifier
from ol_orchestrate.testing import environment, load_definitions, persistent_instance
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

INSTITUTION = Institution.generate(seed=42, **SIZES["small"])
# As dg_deployments/production/dagster.yaml: failed runs are retried up to three times.
DEPLOYED_RETRIES = {"run_retries": {"enabled": True, "max_retries": 3}}
CI_CHANNEL = "#data-platform-alerts-ci"
RUN_SENSOR = "platform_run_failure_alerts"
CHECK_SENSOR = "platform_check_failure_alerts"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as server:
        yield server


@pytest.fixture
def ci(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Path]:
    """`DAGSTER_ENV=ci` against this sandbox (the repo's local secrets file: its sandbox-only
    Slack token and Sentry DSN), with the lake in a temporary folder."""
    lake = tmp_path / "lake"
    with environment("ci", {"OL_SANDBOX_URL": sandbox.url, "OL_LAKE_ROOT": str(lake)}):
        yield lake


@pytest.fixture
def defs(ci: Path) -> dg.Definitions:
    return load_definitions("data_platform.definitions")


@pytest.fixture
def notifier(defs: dg.Definitions) -> AlertNotifier:
    resource = defs.resources["alert_notifier"]
    assert isinstance(resource, AlertNotifier)
    return resource


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A local instance as dev has it (no automatic run retries)."""
    with persistent_instance() as created:
        yield created


@pytest.fixture
def storm_instance() -> Iterator[dg.DagsterInstance]:
    """A local instance on a RAM file system, for hundreds of runs."""
    with persistent_instance(in_memory=True) as created:
        yield created


@pytest.fixture
def retrying_instance() -> Iterator[dg.DagsterInstance]:
    """An instance with the deployment's run retries (max 3)."""
    with persistent_instance(DEPLOYED_RETRIES) as created:
        yield created


@pytest.fixture
def production_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """The qa/production instance config (dg_deployments/production/dagster.yaml: PostgreSQL,
    run retries) on the PostgreSQL server on 127.0.0.1:5432, in a database of its own."""
    name = f"dagster_alerts_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(dbname="postgres", **PG)  # type: ignore[arg-type]
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = find_repo_root() / "dg_deployments" / "production" / "dagster.yaml"
    shutil.copyfile(config, home / "dagster.yaml")
    for variable, value in {
        "DAGSTER_PG_HOST": PG["host"],
        "DAGSTER_PG_PORT": str(PG["port"]),
        "DAGSTER_PG_USERNAME": PG["user"],
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": name,
    }.items():
        monkeypatch.setenv(variable, str(value))
    created = dg.DagsterInstance.from_config(str(home))
    try:
        yield created
    finally:
        created.dispose()
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@dataclass
class SensorDriver:
    """Ticks one of the location's sensors as the daemon does, keeping its cursor."""

    defs: dg.Definitions
    instance: dg.DagsterInstance
    name: str
    cursor: str | None = None
    skips: list[str] = field(default_factory=list)

    def tick(self) -> str:
        sensor = self.defs.resolve_sensor_def(self.name)
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=self.defs,
            sensor_name=self.name,
            resources=self.defs.resources,
        ) as context:
            data = sensor.evaluate_tick(context)
        assert not data.run_requests, "the alert sensors never launch runs"
        self.cursor = data.cursor if data.cursor is not None else self.cursor
        self.skips.append(data.skip_message or "")
        return data.skip_message or ""


@pytest.fixture
def driver(defs: dg.Definitions) -> Callable[..., SensorDriver]:
    """`driver(instance, sensor_name)`: a sensor ticked once already (its cursor started)."""

    def build(instance: dg.DagsterInstance, name: str = RUN_SENSOR) -> SensorDriver:
        sensor = SensorDriver(defs, instance, name)
        assert sensor.tick().startswith("started"), sensor.skips
        return sensor

    return build


def _failing_asset(key: str, message: str | Callable[[], str]) -> dg.AssetsDefinition:
    """An asset raising `ValueError(message)` (a callable: built when the run executes)."""

    @dg.asset(key=dg.AssetKey.from_user_string(key))
    def _fails() -> None:
        raise ValueError(message() if callable(message) else message)

    return _fails


def _run_failing(
    instance: dg.DagsterInstance,
    asset: dg.AssetsDefinition,
    *,
    location: str = "canvas",
    tags: Mapping[str, str] | None = None,
) -> str:
    """A real run of `asset` in `instance`, which fails; its run id."""
    result = dg.materialize(
        [asset],
        instance=instance,
        raise_on_error=False,
        tags={LOCATION_TAG: location, **(tags or {})},
        run_config=QUIET,
    )
    assert not result.success
    return result.run_id


def _run_with_retries(
    instance: dg.DagsterInstance,
    asset: dg.AssetsDefinition,
    attempts: int,
    *,
    location: str = "canvas",
    between: Callable[[int], Any] | None = None,
) -> list[dg.DagsterRun]:
    """The first attempt and `attempts - 1` retries of a run, each really executed, the retries
    created the way Dagster's retry daemon creates them (parent and root run ids, and the
    `dagster/retry_number`, `dagster/parent_run_id`, `dagster/root_run_id` tags).
    `between(n)` is called after attempt n (0-based)."""
    job = dg.Definitions(
        assets=[asset], executor=dg.in_process_executor
    ).resolve_implicit_global_asset_job_def()
    runs: list[dg.DagsterRun] = []
    for number in range(attempts):
        tags = {LOCATION_TAG: location}
        root = runs[0].run_id if runs else None
        parent = runs[-1].run_id if runs else None
        if runs:
            tags |= {
                RETRY_NUMBER_TAG: str(number),
                PARENT_RUN_ID_TAG: str(parent),
                ROOT_RUN_ID_TAG: str(root),
            }
        run = instance.create_run_for_job(
            job_def=job,
            run_config=QUIET,
            tags=tags,
            root_run_id=root,
            parent_run_id=parent,
            asset_selection=frozenset(asset.keys),
        )
        execute_run(InMemoryJob(job), run, instance)
        finished = instance.get_run_by_id(run.run_id)
        assert finished is not None
        assert finished.status == dg.DagsterRunStatus.FAILURE
        runs.append(finished)
        if between is not None:
            between(number)
    return runs


def _message_json(sandbox: SandboxServer) -> list[str]:
    """Every message the sandbox's Slack received, as the JSON text a reader could search."""
    return [json.dumps(message.to_json(), ensure_ascii=False) for message in sandbox.slack.messages]


@dataclass(frozen=True)
class Helpers:
    """The helpers above, for the test modules (pytest's importlib mode puts no test folder on
    sys.path, so they come as a fixture)."""

    failing_asset: Callable[..., dg.AssetsDefinition] = _failing_asset
    run_failing: Callable[..., str] = _run_failing
    run_with_retries: Callable[..., list[dg.DagsterRun]] = _run_with_retries
    message_json: Callable[[SandboxServer], list[str]] = _message_json


@pytest.fixture
def helpers() -> Helpers:
    return Helpers()
