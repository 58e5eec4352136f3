"""Where the dbt project is and how this environment runs it, resolved once from the settings.

Everything the lakehouse needs to know about dbt (project folder, target, warehouse engine, the
variables dbt reads) comes from `PlatformSettings`, so no other module branches on the
environment. dagster-dbt sees the project as a `DbtProject` (`LakehouseDbtProject.dbt`): it is
passed to `@dbt_assets(project=...)` and `DbtCliResource(project_dir=...)`, and its preparer is
`ol_orchestrate.lib.dbt_manifest.ensure_manifest`, so `prepare_if_dev()` (under `dagster dev` and
`dg`) costs a fingerprint check when the dbt project is unchanged and parses only after a change.
Anywhere else loading only reads the prepared manifest and never runs dbt.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from dagster_dbt.dbt_manifest import validate_manifest
from dagster_shared.record import replace
from packaging import version

from ol_orchestrate.lib.dbt_manifest import (
    PARTIAL_PARSE_FILE_NAME,
    DbtManifestError,
    current_manifest_record,
    dbt_env,
    dbt_executable,
    ensure_manifest,
    require_manifest,
    unreadable_manifest_error,
)
from ol_orchestrate.lib.environment import PlatformSettings, environ_overrides

if TYPE_CHECKING:
    from dbt.adapters.base import BaseAdapter

# Whether the dbt invocation starting in this context reads the warehouse from this process too
# (dagster-dbt's column metadata and row counts go through an in-process dbt adapter).
_IN_PROCESS_ADAPTER: ContextVar[bool] = ContextVar("in_process_dbt_adapter", default=False)


class LakehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's `dbt` resource without two fixed costs it adds to every dbt step.

    - `dbt --version` in a subprocess (2.5-5 s on 2 cores: it imports dbt) to learn the version:
      when the executable is the one installed beside this interpreter (the workspace's, as
      `cli_resource` picks it), its version is the installed dbt-core's.
    - A dbt adapter built in this process (2-4 s: profile, project and dbt's macros) before
      every invocation, which only column metadata and row counts read: it is built only inside
      `in_process_adapter()`. Without it dagster-dbt also streams the events as dbt writes them
      instead of holding them until a DuckDB build ends.
    """

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> BaseAdapter:
        if not _IN_PROCESS_ADAPTER.get():
            return None  # type: ignore[return-value]  # dagster-dbt accepts None (no adapter)
        return super()._initialize_dbt_core_adapter(args)


@contextlib.contextmanager
def in_process_adapter(wanted: bool = True) -> Iterator[None]:
    """Let the dbt invocations started inside build dagster-dbt's in-process adapter."""
    token = _IN_PROCESS_ADAPTER.set(wanted)
    try:
        yield
    finally:
        _IN_PROCESS_ADAPTER.reset(token)


class FingerprintPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer with `ensure_manifest` as its `prepare`.

    `prepare_if_dev()` is dagster-dbt's: it prepares only under `dagster dev` / `dg`
    (`DAGSTER_IS_DEV_CLI`). dagster-dbt's own `prepare` runs `dbt parse` every time, i.e. on
    every location load and run worker under `dagster dev`; `ensure_manifest` parses only when
    the project's fingerprint changed, into a scratch folder, atomically, with dbt's output in
    the error (benchmarks/README.md has the numbers).
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        super().__init__()
        self.env = dict(env)

    def prepare(self, project: DbtProject) -> None:
        ensure_manifest(project.project_dir, project.target or "dev", env=self.env)


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

    @functools.cached_property
    def dbt(self) -> DbtProject:
        """dagster-dbt's `DbtProject`: folder, profiles folder (the project's), target, manifest
        path (`target/manifest.json`, where `ensure_manifest` puts it) and our preparer."""
        project = DbtProject(self.project_dir, profiles_dir=self.project_dir, target=self.target)
        return replace(project, preparer=FingerprintPreparer(self.env))

    def load_manifest(self) -> Mapping[str, Any]:
        """The prepared manifest (treat it as read-only).

        Under `dagster dev` / `dg` it is first prepared if the dbt project changed
        (`prepare_if_dev`); anywhere else a missing manifest raises `DbtManifestMissingError`
        saying how to prepare it. Read by dagster-dbt's reader (orjson, one copy per process),
        so `@dbt_assets` and the Superset assets of one load share it.
        """
        self.dbt.prepare_if_dev()
        try:
            stat = self.dbt.manifest_path.stat()
        except OSError:
            require_manifest(self.project_dir)  # explains how to prepare it
            raise
        return _read_prepared_manifest(
            self.project_dir, self.dbt.manifest_path, stat.st_mtime_ns, stat.st_size
        )

    def manifest_version(self, manifest: Mapping[str, Any]) -> str:
        """What the manifest was parsed from: dbt's version, the target and the fingerprint of
        the project's files (`ensure_manifest`'s record) when the record describes the manifest
        file, else the manifest's own invocation id. A parse of unchanged files (another data
        folder's `prepare`, a test) then keeps the version, and the lakehouse's next build
        still skips what did not change (`lakehouse.dbt_inputs`)."""
        record = current_manifest_record(self.project_dir)
        if record is not None and record.target == self.target:
            return f"dbt {record.dbt_version}, target {record.target}, files {record.fingerprint}"
        return str((manifest.get("metadata") or {}).get("invocation_id") or "")

    def cli_resource(self) -> LakehouseDbtCliResource:
        """The `dbt` resource: this project and target, the workspace's dbt executable."""
        try:
            executable = dbt_executable()
        except DbtManifestError:
            executable = "dbt"  # resolved from PATH when a run starts
        # DbtCliResource.__init__ takes the DbtProject (its folders, profile, state); mypy's
        # pydantic plugin types a subclass's __init__ from the `project_dir: str` field instead.
        return LakehouseDbtCliResource(
            project_dir=self.dbt,  # type: ignore[arg-type]
            dbt_executable=executable,
        )

    def keep_partial_parse(self, invocation_target: Path) -> None:
        """Make a successful invocation's parse state the project's, for the next invocation.

        dagster-dbt starts every invocation from `target/partial_parse.msgpack` (copied into the
        invocation's own target folder), and dbt parses everything again when the profile or
        the variables it reads differ from that file's (another data folder than the one the
        manifest was prepared for: ~15 s on 2 cores). dbt checks the file before using it, so
        a state from other settings only costs that one full parse."""
        source = invocation_target / PARTIAL_PARSE_FILE_NAME
        if not source.is_file():
            return
        target = self.dbt.manifest_path.with_name(PARTIAL_PARSE_FILE_NAME)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            shutil.copyfile(source, partial)
            partial.replace(target)
        except OSError:
            partial.unlink(missing_ok=True)

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
        try:
            with environ_overrides(self.env):
                yield
        finally:
            if self.is_local:
                _release_duckdb()


def _release_duckdb() -> None:
    """Close the DuckDB warehouse if dagster-dbt's in-process adapter opened it.

    `fetch_column_metadata` reads column types through dbt-duckdb in this process, and
    dbt-duckdb keeps that database open process-wide; local runs share one process across steps,
    and later readers (the next dbt build, `ol-platform materialize`'s summary) need the file.
    """
    # Imported here: only a local run gets this far, and it has dbt-duckdb loaded already.
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with contextlib.suppress(Exception):  # "environment requested before creation": nothing open
        DuckDBConnectionManager.env().close()
    DuckDBConnectionManager.close_all_connections()


@functools.lru_cache(maxsize=4)
def _read_prepared_manifest(
    project_dir: Path, path: Path, mtime_ns: int, size: int
) -> Mapping[str, Any]:
    """One check (`require_manifest`: missing, stale) and one read per version of the file."""
    require_manifest(project_dir)
    try:
        manifest = validate_manifest(path)
    except (OSError, ValueError) as exc:
        raise unreadable_manifest_error(path, exc) from exc
    if "nodes" not in manifest:
        raise unreadable_manifest_error(path, "not a dbt manifest")
    return manifest
