"""Shared fixtures of the lakehouse tests: the prepared dbt manifest of the workspace's project and
the prepared Airbyte workspace state (against a sandbox, as `ol-platform prepare` does)."""

from __future__ import annotations

from typing import Any

import pytest

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs.dbt import LakehouseDbtTranslator
from ol_orchestrate.lib.dbt_manifest import dbt_env, ensure_manifest, load_manifest_or_explain
from ol_orchestrate.lib.environment import load_settings


@pytest.fixture(scope="session")
def dev_project() -> LakehouseDbtProject:
    return LakehouseDbtProject.from_settings(load_settings({"DAGSTER_ENV": "dev"}))


@pytest.fixture(scope="session", autouse=True)
def prepared_manifest(dev_project: LakehouseDbtProject) -> dict[str, Any]:
    """Prepare src/ol_dbt's manifest (a no-op when it is fresh), as CI and the image build do."""
    settings = load_settings()
    if not settings.is_local:  # tests build on DuckDB whatever the shell's DAGSTER_ENV
        settings = load_settings({"DAGSTER_ENV": "dev"})
    ensure_manifest(settings.dbt_project_dir, settings.dbt_target, env=dbt_env(settings))
    return load_manifest_or_explain(dev_project.project_dir)


@pytest.fixture(scope="session", autouse=True)
def prepared_airbyte_state() -> None:
    """Refresh the location's local Airbyte state against a sandbox (a no-op write when unchanged),
    so the dev/ci graph holds the sandbox's connections whatever ran before."""
    from ol_orchestrate.lib.environment import environ_overrides, reset_settings_cache
    from ol_platform.defs_state import refresh_defs_state
    from ol_platform.locations import discover_locations
    from ol_sandbox.data import Institution
    from ol_sandbox.server import SandboxServer

    settings = load_settings({"DAGSTER_ENV": "dev"})
    lakehouse = [loc for loc in discover_locations(settings.repo_root) if loc.name == "lakehouse"]
    with (
        SandboxServer(Institution.from_size("small"), delivery_bucket=False) as sandbox,
        environ_overrides({"DAGSTER_ENV": "dev", "OL_SANDBOX_URL": sandbox.url}),
    ):
        reset_settings_cache()
        try:
            refresh_defs_state(lakehouse)
        finally:
            reset_settings_cache()


@pytest.fixture(scope="session")
def translator() -> LakehouseDbtTranslator:
    return LakehouseDbtTranslator("duckdb")
