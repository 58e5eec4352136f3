"""`ol-platform materialize`: the whole platform, end to end, on the embedded defaults.

Starts the source sandbox, then materializes every asset of every code location in lineage order,
in-process, against the local Dagster instance, so the UI shows the same run history afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
from rich.console import Console
from rich.table import Table

from ol_orchestrate.lib.dbt_manifest import dbt_env, ensure_manifest
from ol_orchestrate.lib.environment import PlatformSettings, get_settings, reset_settings_cache
from ol_platform.instance import local_instance
from ol_platform.locations import order_by_lineage, read_workspace, workspace_file
from ol_platform.progress import RunProgress, elapsed_since
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.server import SandboxServer

# Dagster's console logger prints every event at DEBUG; the progress view replaces it.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class LocationResult:
    name: str
    run_id: str
    success: bool
    materialized: list[dg.AssetKey] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class MaterializeReport:
    locations: list[LocationResult]
    mart_rows: dict[str, int]
    settings: PlatformSettings

    @property
    def success(self) -> bool:
        return all(location.success for location in self.locations)


def mart_row_counts(warehouse_path: Path) -> dict[str, int]:
    """Rows per mart table (`dim_*` / `fct_*`) in the DuckDB warehouse."""
    if not warehouse_path.exists():
        return {}
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name like 'dim\\_%' escape '\\' or table_name like 'fct\\_%' escape '\\' "
            "order by table_name"
        ).fetchall()
        return {
            name: connection.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]  # type: ignore[index]
            for schema, name in tables
        }


def materialize_all(
    size: str = "default", seed: int = 42, console: Console | None = None
) -> MaterializeReport:
    console = console or Console()
    settings = get_settings()
    if not settings.is_local:
        msg = (
            f"`ol-platform materialize` runs the local platform on the sandbox; DAGSTER_ENV="
            f"{settings.environment.value} is a deployed environment. Use the Dagster UI there."
        )
        raise SystemExit(msg)
    if size not in SIZES:
        msg = f"unknown sandbox size {size!r}; choose one of: {', '.join(SIZES)}"
        raise SystemExit(msg)

    # The Trino client announces at INFO that it has no keyring; irrelevant to local runs.
    logging.getLogger("trino").setLevel(logging.WARNING)
    institution = Institution.generate(seed=seed, **SIZES[size])
    with SandboxServer(institution) as sandbox:
        os.environ["OL_SANDBOX_URL"] = sandbox.url
        reset_settings_cache()
        settings = get_settings()
        console.print(f"[bold]Sandbox[/bold] ({size}, seed {seed}) serving on {sandbox.url}")

        start = time.monotonic()
        ensure_manifest(settings.dbt_project_dir, target=settings.dbt_target, env=dbt_env(settings))
        console.print(f"[bold]dbt manifest[/bold] ready ({elapsed_since(start)})")

        instance = local_instance(settings)
        locations = read_workspace(workspace_file(settings.repo_root))
        loaded = {location.name: location.load() for location in locations}
        log_dir = settings.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        results = []
        for name in order_by_lineage(loaded):
            results.append(_run_location(name, loaded[name], instance, console, log_dir))
            if not results[-1].success:
                break
    return MaterializeReport(results, mart_row_counts(settings.warehouse_path), settings)


def _run_location(
    name: str,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    console: Console,
    log_dir: Path,
) -> LocationResult:
    job = defs.resolve_implicit_global_asset_job_def()
    run_id = str(uuid.uuid4())
    # Tools the assets run (dbt) echo their own logs to stdout; they go to a log file (and the
    # run's events to the instance), so the terminal shows the progress view only.
    log_path = log_dir / f"{name}-{run_id[:8]}.log"
    console.print(f"[bold]{name}[/bold]: materializing (run {run_id[:8]}, log {log_path})")
    start = time.monotonic()
    with (
        log_path.open("w") as log_file,
        contextlib.redirect_stdout(log_file),
        RunProgress(instance, run_id, console) as progress,
    ):
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            run_config=QUIET_RUN_CONFIG,
            tags={"ol-platform/command": "materialize", "ol-platform/location": name},
        )
    outcome = LocationResult(
        name=name,
        run_id=run_id,
        success=result.success,
        materialized=progress.materialized,
        failed_steps=progress.failed_steps,
        seconds=time.monotonic() - start,
    )
    status = "[green]ok[/green]" if result.success else "[red]failed[/red]"
    console.print(
        f"[bold]{name}[/bold]: {status}, {len(outcome.materialized)} asset(s) in "
        f"{outcome.seconds:.1f}s"
    )
    return outcome


def print_summary(report: MaterializeReport, console: Console) -> None:
    settings = report.settings
    table = Table(title="Marts", show_lines=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in report.mart_rows.items():
        table.add_row(name, f"{rows:,}")
    console.print()
    for location in report.locations:
        console.print(
            f"{location.name:<12} {len(location.materialized):>3} asset(s) materialized  "
            f"run {location.run_id}"
        )
    if report.mart_rows:
        console.print(table)
    console.print(f"lake       {settings.lake_root}")
    console.print(f"warehouse  {settings.warehouse_path}")
    console.print(f"runs       {settings.dagster_home}")
    console.print("UI         uv run ol-platform ui   (then open http://127.0.0.1:3000)")
    if not report.success:
        failed = [loc.name for loc in report.locations if not loc.success]
        console.print(f"[red]FAILED[/red] in: {', '.join(failed)}")
