"""Where the dbt project is and how this environment runs it, resolved once from the settings.

Everything the lakehouse needs to know about dbt (project folder, target, warehouse engine, the
variables dbt reads) comes from `PlatformSettings`, so no other module branches on the
environment. The manifest is the prepared one (`ol_orchestrate.lib.dbt_manifest`): loading this
location never runs dbt.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource

from ol_orchestrate.lib.dbt_manifest import (
    DbtManifestError,
    dbt_env,
    dbt_executable,
    load_manifest_or_explain,
    manifest_path,
)
from ol_orchestrate.lib.environment import PlatformSettings, environ_overrides


@dataclass(frozen=True)
class LakehouseDbtProject:
    """The dbt project as this environment sees it."""

    project_dir: Path
    target: str
    # The engine the target builds in: a kind on every dbt asset ("duckdb" locally, else "trino").
    warehouse_kind: str
    is_local: bool
    warehouse_path: Path
    # Variables the project's profiles and sources read (OL_LAKE_ROOT, OL_WAREHOUSE_PATH, ...).
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> LakehouseDbtProject:
        return cls(
            project_dir=settings.dbt_project_dir,
            target=settings.dbt_target,
            warehouse_kind="duckdb" if settings.is_local else "trino",
            is_local=settings.is_local,
            warehouse_path=settings.warehouse_path,
            env=dbt_env(settings),
        )

    def load_manifest(self) -> dict[str, Any]:
        """The prepared manifest; `DbtManifestMissingError` explains how to prepare it.

        Read once per version of the file: the dbt and Superset definitions of one load share it
        (treat it as read-only).
        """
        try:
            stat = manifest_path(self.project_dir).stat()
        except OSError:
            return load_manifest_or_explain(self.project_dir)
        return _read_manifest(self.project_dir, stat.st_mtime_ns, stat.st_size)

    def cli_resource(self) -> DbtCliResource:
        """The `dbt` resource: this project, this target, the workspace's dbt executable."""
        try:
            executable = dbt_executable()
        except DbtManifestError:
            executable = "dbt"  # resolved from PATH when a run starts
        return DbtCliResource(
            project_dir=os.fspath(self.project_dir),
            profiles_dir=os.fspath(self.project_dir),
            target=self.target,
            dbt_executable=executable,
        )

    @contextlib.contextmanager
    def run_environment(self) -> Iterator[None]:
        """Set the variables dbt reads for the duration of one dbt invocation.

        `DbtCliResource.cli` takes no environment of its own: it copies `os.environ` when it
        starts dbt (and reads the profile in-process), so the variables are set here, at run time,
        and restored afterwards (local runs share one process across steps).
        """
        if self.is_local:
            # DuckDB creates the database file but not its folder.
            self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        with environ_overrides(self.env):
            yield


@functools.lru_cache(maxsize=4)
def _read_manifest(project_dir: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    return load_manifest_or_explain(project_dir)
