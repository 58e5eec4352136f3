"""Fixtures for the canvas location's tests: a small sandbox, a lake in tmp_path, an instance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance

from ol_orchestrate.io_managers import FileObjectIOManager
from ol_orchestrate.resources.canvas import CanvasApiClientFactory
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.testing import environment
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

INSTITUTION = Institution.generate(seed=42, **SIZES["small"])


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as server:
        yield server


@pytest.fixture
def lake(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Path]:
    """`DAGSTER_ENV=ci` against this sandbox, with the lake in a temporary folder."""
    root = tmp_path / "lake"
    with environment("ci", {"OL_SANDBOX_URL": sandbox.url, "OL_LAKE_ROOT": str(root)}):
        yield root


@pytest.fixture
def instance() -> DagsterInstance:
    return DagsterInstance.ephemeral()


@pytest.fixture
def canvas_factory(sandbox: SandboxServer) -> Callable[..., CanvasApiClientFactory]:
    """`canvas_factory(**overrides)`: the Canvas client factory for the sandbox, fast retries."""

    def build(**overrides: Any) -> CanvasApiClientFactory:
        settings: dict[str, Any] = {
            "secrets": SecretsResource(backend="local"),
            "base_url": sandbox.canvas_url,
            "secret_path": "canvas/api",  # pragma: allowlist secret
            "max_retries": 3,
            "backoff_initial": 0.01,
            "export_poll_interval_seconds": 0.01,
        }
        return CanvasApiClientFactory(**{**settings, **overrides})

    return build


@pytest.fixture
def resources(lake: Path, canvas_factory: Callable[..., CanvasApiClientFactory]) -> dict[str, Any]:
    return {
        "io_manager": FileObjectIOManager(lake_root=str(lake)),
        "canvas_api": canvas_factory(),
    }
