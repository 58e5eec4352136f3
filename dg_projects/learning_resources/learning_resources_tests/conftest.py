"""Fixtures for the learning_resources location's tests: a sandbox (the learning catalogs and MIT
Learn's receiver), `DAGSTER_ENV=ci` against it with the lake and the warehouse in tmp_path, an
instance, and the location's resources with fast retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from learning_resources.clients import LearnSourceResource
from learning_resources.delivery import LEARN_WEBHOOK_KEY, WAREHOUSE_KEY
from learning_resources.sources import resource_key
from ol_orchestrate.io_managers import FileObjectIOManager
from ol_orchestrate.resources.learn import LearnWebhookResource
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.warehouse import WarehouseResource
from ol_orchestrate.testing import environment, load_definitions
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

INSTITUTION = Institution.generate(seed=42, **SIZES["small"])
WEBHOOK_SECRET_PATH = "learn/webhook"  # pragma: allowlist secret (a path)
SLOAN_SECRET_PATH = "sloan/api/oauth"  # pragma: allowlist secret (a path)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig(), delivery_bucket=False) as server:
        yield server


@dataclass(frozen=True)
class Platform:
    """The environment a test runs the location in."""

    sandbox: SandboxServer
    lake: Path
    warehouse: Path
    defs: dg.Definitions

    def run(self, instance: dg.DagsterInstance, *keys: str) -> dg.ExecuteInProcessResult:
        """Materialize `keys` with the location's own resources (its YAML configuration)."""
        job = self.defs.resolve_implicit_global_asset_job_def()
        return job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey.from_user_string(key) for key in keys],
            raise_on_error=False,
        )


@pytest.fixture
def platform(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Platform]:
    """`DAGSTER_ENV=ci` against `sandbox`, lake and warehouse in tmp_path, the location loaded."""
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    extra = {
        "OL_SANDBOX_URL": sandbox.url,
        "OL_LAKE_ROOT": str(lake),
        "OL_WAREHOUSE_PATH": str(warehouse),
    }
    with environment("ci", extra):
        yield Platform(sandbox, lake, warehouse, load_definitions("learning_resources.definitions"))


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


@pytest.fixture
def resources(platform: Platform) -> Callable[..., dict[str, Any]]:
    """`resources(**webhook_overrides)`: every resource of the location, with fast retries."""
    secrets = SecretsResource(backend="local")

    def build(**webhook: Any) -> dict[str, Any]:
        built: dict[str, Any] = {
            "io_manager": FileObjectIOManager(lake_root=str(platform.lake)),
            WAREHOUSE_KEY: WarehouseResource(engine="duckdb", duckdb_path=str(platform.warehouse)),
            LEARN_WEBHOOK_KEY: LearnWebhookResource(
                base_url=platform.sandbox.learn_url,
                secret_path=WEBHOOK_SECRET_PATH,
                secrets=secrets,
                **{"max_retries": 2, "backoff_initial": 0.01, "backoff_max": 0.02, **webhook},
            ),
        }
        for source in ("mit_climate", "mitpe", "oll", "sloan", "ovs"):
            built[resource_key(source)] = LearnSourceResource(
                base_url=platform.sandbox.learn_source_url(source),
                secrets=secrets,
                secret_path=SLOAN_SECRET_PATH if source == "sloan" else "",
                max_retries=2,
                backoff_initial=0.01,
                page_size=4,
            )
        return built

    return build
