"""The qa/production Dagster instance: PostgreSQL storage, each run a Kubernetes job of its own.

The instance config is validated the way Dagster loads it (the instance schema, then each
configurable class's own `config_type()`), with no cluster. The storage tests and the launch test
run against the PostgreSQL server on 127.0.0.1:5432 (present on every development and CI machine;
a missing server is a failure, not a skip); the launch test stubs only the two calls that would
reach a cluster (loading the in-cluster credentials, creating the job) and checks the job spec.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import kubernetes
import psycopg2
import pytest
import yaml
from dagster._config import process_config, resolve_to_config_type
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher import LaunchRunContext
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.storage.dagster_run import DagsterRun
from dagster._serdes.config_class import ConfigurableClassData
from dagster_k8s import K8sRunLauncher

from ol_orchestrate.lib.environment import find_repo_root

ROOT = find_repo_root()
PRODUCTION = ROOT / "dg_deployments" / "production" / "dagster.yaml"
DOCKER = ROOT / "dg_deployments" / "docker" / "dagster.yaml"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
# What the deployment sets on the webserver and daemon (names from dagster.yaml).
K8S_ENV = {
    "DAGSTER_K8S_JOB_NAMESPACE": "dagster-runs",
    "DAGSTER_K8S_SERVICE_ACCOUNT": "dagster-run",
    "DAGSTER_K8S_INSTANCE_CONFIG_MAP": "dagster-instance",
    "DAGSTER_K8S_PG_PASSWORD_SECRET": "dagster-postgresql",  # pragma: allowlist secret
}
PG_ENV = {
    "DAGSTER_PG_HOST": "127.0.0.1",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USERNAME": "postgres",
    "DAGSTER_PG_PASSWORD": "",
    "DAGSTER_PG_DB": "dagster",
}


# -- validation, as Dagster loads the instance ---------------------------------------------------


def instance_config_errors(config_file: Path, home: Path) -> list[str]:
    """Every error Dagster would raise loading `config_file` as an instance, [] if none.

    The instance schema first (top-level keys, the storage block), then each configurable class
    (storage, run launcher, run coordinator, ...) imported and its config processed against its
    own `config_type()`, environment variables resolved, without instantiating anything.
    """
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config_file, home / "dagster.yaml")
    try:
        dagster_instance_config(str(home))
        ref = InstanceRef.from_dir(str(home))
    except DagsterInvalidConfigError as error:
        return [str(error)]
    errors = []
    for name in ref._fields:
        data = getattr(ref, name)
        if not isinstance(data, ConfigurableClassData):
            continue
        klass = getattr(importlib.import_module(data.module_name), data.class_name)
        result = process_config(resolve_to_config_type(klass.config_type()), data.config_dict)
        errors.extend(f"{data.class_name}: {e.message}" for e in result.errors or ())
    return errors


def class_data(config_file: Path, home: Path) -> dict[str, ConfigurableClassData]:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config_file, home / "dagster.yaml")
    ref = InstanceRef.from_dir(str(home))
    return {
        name: data
        for name in ref._fields
        if isinstance(data := getattr(ref, name), ConfigurableClassData)
    }


@pytest.fixture
def deployment_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**PG_ENV, **K8S_ENV}.items():
        monkeypatch.setenv(name, value)


def _broken_copy(tmp_path: Path, change: Any) -> Path:
    config = yaml.safe_load(PRODUCTION.read_text())
    change(config)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(config))
    return broken


@pytest.mark.usefixtures("deployment_env")
def test_production_config_validates(tmp_path: Path) -> None:
    assert instance_config_errors(PRODUCTION, tmp_path / "home") == []


@pytest.mark.usefixtures("deployment_env")
def test_storage_is_postgres_and_runs_launch_on_kubernetes(tmp_path: Path) -> None:
    from dagster_postgres import DagsterPostgresStorage

    data = class_data(PRODUCTION, tmp_path / "home")
    storage = data["storage_data"]
    assert (storage.module_name, storage.class_name) == (
        "dagster_postgres",
        "DagsterPostgresStorage",
    )
    storage_class = getattr(importlib.import_module(storage.module_name), storage.class_name)
    assert issubclass(storage_class, DagsterPostgresStorage)
    launcher = data["run_launcher_data"]
    assert getattr(importlib.import_module(launcher.module_name), launcher.class_name) is (
        K8sRunLauncher
    )
    config = launcher.config_dict
    # One image per code location: the launcher must take it from the location, never from here.
    assert "job_image" not in config
    assert config["resources"]["requests"]
    assert config["resources"]["limits"]
    # Everything the run pod needs to open the same storage.
    assert set(config["env_vars"]) | {"DAGSTER_PG_PASSWORD"} == set(PG_ENV)
    # The settings that were there before the launcher are kept.
    settings = yaml.safe_load(PRODUCTION.read_text())
    assert settings["run_monitoring"]["enabled"]
    assert settings["run_retries"]["enabled"]
    assert data["run_coordinator_data"].class_name == "QueuedRunCoordinator"


def test_a_misspelled_launcher_key_fails_naming_the_key(
    tmp_path: Path, deployment_env: None
) -> None:
    config_file = _broken_copy(
        tmp_path,
        lambda c: c["run_launcher"]["config"].update(
            job_namespce=c["run_launcher"]["config"].pop("job_namespace")
        ),
    )
    errors = instance_config_errors(config_file, tmp_path / "home")
    assert any("K8sRunLauncher" in e and "job_namespce" in e for e in errors), errors


def test_a_misspelled_instance_key_fails_naming_the_key(
    tmp_path: Path, deployment_env: None
) -> None:
    config_file = _broken_copy(tmp_path, lambda c: c.update(run_retires=c.pop("run_retries")))
    errors = instance_config_errors(config_file, tmp_path / "home")
    assert len(errors) == 1
    assert "run_retires" in errors[0], errors


def test_a_missing_deployment_variable_is_named(
    tmp_path: Path, deployment_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_K8S_INSTANCE_CONFIG_MAP")
    errors = instance_config_errors(PRODUCTION, tmp_path / "home")
    assert any("DAGSTER_K8S_INSTANCE_CONFIG_MAP" in e for e in errors), errors


def test_the_docker_instance_is_production_without_kubernetes(tmp_path: Path) -> None:
    production = yaml.safe_load(PRODUCTION.read_text())
    docker = yaml.safe_load(DOCKER.read_text())
    production.pop("run_launcher")
    assert docker == production
    assert class_data(DOCKER, tmp_path / "home")["run_launcher_data"].class_name == (
        "DefaultRunLauncher"
    )


# -- against PostgreSQL -------------------------------------------------------------------------


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
    postgres_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    deployment_env: None,
) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PRODUCTION, home / "dagster.yaml")
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


# -- the launcher, as the daemon runs it ---------------------------------------------------------


@pytest.fixture
def created_jobs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The Kubernetes jobs the launcher creates, as (namespace, V1Job); no cluster is reached."""
    created: list[tuple[str, Any]] = []

    class RecordingBatchApi:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def create_namespaced_job(self, body: Any, namespace: str, **kwargs: Any) -> Any:
            created.append((namespace, body))
            return body

    # The daemon's pod would read its service-account credentials here.
    monkeypatch.setattr(kubernetes.config, "load_incluster_config", lambda *a, **k: None)
    monkeypatch.setattr(kubernetes.client, "BatchV1Api", RecordingBatchApi)
    return created


def _launch(
    instance: dg.DagsterInstance,
    location: str,
    image: str,
    *,
    container_context: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> DagsterRun:
    """A run of `location`'s asset job, as its code server (DAGSTER_CURRENT_IMAGE=`image`,
    DAGSTER_CONTAINER_CONTEXT=`container_context`) reports it, launched by the instance."""
    origin = JobPythonOrigin(
        "__ASSET_JOB",
        RepositoryPythonOrigin(
            executable_path=sys.executable,
            code_pointer=ModuleCodePointer(f"{location}.definitions", "defs"),
            container_image=image,
            container_context=container_context,
        ),
    )
    run = instance.add_run(
        DagsterRun(job_name="__ASSET_JOB", job_code_origin=origin, tags=dict(tags or {}))
    )
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return run


def _container(job: Any) -> Any:
    return job.spec.template.spec.containers[0]


def test_each_run_is_a_kubernetes_job_with_its_locations_image(
    production_instance: dg.DagsterInstance, created_jobs: list[tuple[str, Any]]
) -> None:
    assert isinstance(production_instance.run_launcher, K8sRunLauncher)
    canvas = _launch(production_instance, "canvas", "registry.example/ol-canvas:1.2")
    openedx = _launch(production_instance, "openedx", "registry.example/ol-openedx:1.2")

    (namespace, canvas_job), (_, openedx_job) = created_jobs
    assert namespace == "dagster-runs"
    assert _container(canvas_job).image == "registry.example/ol-canvas:1.2"
    assert _container(openedx_job).image == "registry.example/ol-openedx:1.2"
    assert canvas_job.metadata.labels["dagster/run-id"] == canvas.run_id
    assert openedx_job.metadata.labels["dagster/run-id"] == openedx.run_id

    pod = canvas_job.spec.template.spec
    assert pod.service_account_name == "dagster-run"
    assert canvas_job.metadata.labels["app.kubernetes.io/part-of"] == "ol-data-platform"
    # The pod opens the same PostgreSQL storage: the instance config comes with its command (env
    # references unresolved), the settings from the daemon's environment, the password from its
    # Secret (never copied into the job spec).
    command = " ".join(_container(canvas_job).args)
    assert "execute_run" in command
    assert "dagster_postgres" in command
    assert "DAGSTER_PG_HOST" in command
    env = {e.name: e for e in _container(canvas_job).env}
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_DB"):
        assert env[name].value == os.environ[name]
    password = env["DAGSTER_PG_PASSWORD"]
    assert password.value is None
    assert password.value_from.secret_key_ref.name == "dagster-postgresql"
    # The instance's default resources.
    resources = _container(canvas_job).resources
    assert resources.requests == {"cpu": "500m", "memory": "1Gi"}
    assert resources.limits == {"cpu": "2", "memory": "4Gi"}
    # The launch is recorded on the run in PostgreSQL.
    tags = production_instance.get_run_by_id(canvas.run_id).tags  # type: ignore[union-attr]
    assert tags["dagster/image"] == "registry.example/ol-canvas:1.2"


def test_a_location_or_a_run_asks_for_more_resources(
    production_instance: dg.DagsterInstance, created_jobs: list[tuple[str, Any]]
) -> None:
    big = {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"}}
    _launch(
        production_instance,
        "lakehouse",
        "registry.example/ol-lakehouse:1.2",
        container_context={"k8s": {"resources": big}},
    )
    _launch(
        production_instance,
        "edxorg",
        "registry.example/ol-edxorg:1.2",
        tags={
            "dagster-k8s/config": (
                '{"container_config": {"resources": {"requests": {"memory": "6Gi"}, '
                '"limits": {"memory": "12Gi"}}}}'
            )
        },
    )
    (_, lakehouse_job), (_, edxorg_job) = created_jobs
    assert _container(lakehouse_job).resources.requests == big["requests"]
    # Merged key by key over the instance's defaults: the CPU limit stays.
    assert _container(lakehouse_job).resources.limits == {"cpu": "2", "memory": "8Gi"}
    assert _container(edxorg_job).image == "registry.example/ol-edxorg:1.2"
    assert _container(edxorg_job).resources.requests == {"cpu": "500m", "memory": "6Gi"}
    assert _container(edxorg_job).resources.limits == {"cpu": "2", "memory": "12Gi"}
