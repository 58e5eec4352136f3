"""`ol-platform materialize`: the whole platform, end to end, on the embedded defaults.

Starts the source sandbox (and writes its file-based sources into the lake's landing area), then
for every code location in lineage order: materializes its unpartitioned assets in one run, and
evaluates its sensors once — adding dynamic partitions and executing the runs they request (one
per partition) — all in-process against the local Dagster instance, so the UI shows the same run
history afterwards.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
from rich.console import Console
from rich.table import Table

from ol_orchestrate.lib.dbt_manifest import dbt_env, ensure_manifest
from ol_orchestrate.lib.environment import PlatformSettings, get_settings, reset_settings_cache
from ol_platform.instance import local_instance
from ol_platform.locations import discover_locations, order_by_lineage
from ol_platform.progress import elapsed_since
from ol_platform.runs import RunOutcome, execute_run
from ol_platform.sensors import assets_for_request, job_for_request, tick_sensor, tickable_sensors
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.landing import provision_landing
from ol_sandbox.server import SandboxServer


@dataclass
class LocationResult:
    name: str
    runs: list[RunOutcome] = field(default_factory=list)
    skipped_partitioned: list[dg.AssetKey] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(run.success for run in self.runs)

    @property
    def materialized(self) -> list[dg.AssetKey]:
        return [key for run in self.runs for key in run.materialized]

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)


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
    try:
        connection = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.IOException:
        # A dbt process of a failed run may still hold the file; the summary says so.
        return {}
    with connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name like 'dim\\_%' escape '\\' or table_name like 'fct\\_%' escape '\\' "
            "order by table_name"
        ).fetchall()
        counts = {}
        for schema, name in tables:
            row = connection.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts


def materialize_all(
    size: str = "default",
    seed: int = 42,
    console: Console | None = None,
    only: Sequence[str] | None = None,
) -> MaterializeReport:
    """The sandbox, then every code location (or only those named in `only`) in lineage order."""
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
    locations = discover_locations(settings.repo_root)
    unknown = sorted(set(only or ()) - {location.name for location in locations})
    if unknown:
        known = ", ".join(location.name for location in locations)
        msg = f"unknown code location(s) {', '.join(unknown)}; the locations are: {known}"
        raise SystemExit(msg)
    selected = [location for location in locations if not only or location.name in only]

    # The Trino client announces at INFO that it has no keyring; irrelevant to local runs.
    logging.getLogger("trino").setLevel(logging.WARNING)
    institution = Institution.generate(seed=seed, **SIZES[size])
    with SandboxServer(institution) as sandbox:
        os.environ["OL_SANDBOX_URL"] = sandbox.url
        reset_settings_cache()
        settings = get_settings()
        console.print(f"[bold]Sandbox[/bold] ({size}, seed {seed}) serving on {sandbox.url}")
        landed = provision_landing(institution, settings.lake_root)
        if landed:
            console.print(f"[bold]Sandbox files[/bold]: {len(landed)} in the landing area")

        start = time.monotonic()
        ensure_manifest(settings.dbt_project_dir, target=settings.dbt_target, env=dbt_env(settings))
        console.print(f"[bold]dbt manifest[/bold] ready ({elapsed_since(start)})")

        instance = local_instance(settings)
        loaded = {location.name: location.load() for location in selected}
        log_dir = settings.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        results = []
        for name in order_by_lineage(loaded):
            results.append(materialize_location(name, loaded[name], instance, console, log_dir))
            if not results[-1].success:
                break
    return MaterializeReport(results, mart_row_counts(settings.warehouse_path), settings)


def materialize_location(
    name: str,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    console: Console,
    log_dir: Path,
) -> LocationResult:
    """Unpartitioned assets in one run, then one tick of each sensor and the runs it requests."""
    result = LocationResult(name)
    graph = defs.resolve_asset_graph()
    materializable = [key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable]
    unpartitioned = [key for key in materializable if graph.get(key).partitions_def is None]
    partitioned = [key for key in materializable if graph.get(key).partitions_def is not None]
    tags = {"ol-platform/location": name}

    if unpartitioned:
        job = defs.resolve_implicit_global_asset_job_def()
        result.runs.append(
            execute_run(
                name, job, instance, console, log_dir, asset_selection=unpartitioned, tags=tags
            )
        )
        if not result.success:
            return result

    requested: set[dg.AssetKey] = set()
    for sensor in tickable_sensors(defs):
        tick = tick_sensor(name, defs, sensor, instance)
        if tick.partitions_added or tick.partitions_deleted:
            console.print(
                f"[bold]{name}[/bold]: sensor {sensor.name} added {tick.partitions_added} and "
                f"removed {tick.partitions_deleted} partition(s)"
            )
        for request in tick.run_requests:
            selection = assets_for_request(defs, sensor, request)
            requested.update(selection or partitioned)
            label = f"{name} {request.partition_key}" if request.partition_key else name
            result.runs.append(
                execute_run(
                    label,
                    job_for_request(defs, sensor, request),
                    instance,
                    console,
                    log_dir,
                    asset_selection=selection,
                    partition_key=request.partition_key,
                    run_config=request.run_config,
                    tags={**tags, **request.tags},
                )
            )
    result.skipped_partitioned = [key for key in partitioned if key not in requested]
    status = "[green]ok[/green]" if result.success else "[red]failed[/red]"
    console.print(
        f"[bold]{name}[/bold]: {status}, {len(result.materialized)} materialization(s) in "
        f"{len(result.runs)} run(s), {result.seconds:.1f}s"
    )
    return result


def print_summary(report: MaterializeReport, console: Console) -> None:
    settings = report.settings
    console.print()
    for location in report.locations:
        console.print(
            f"{location.name:<12} {len(location.materialized):>4} materialization(s) "
            f"in {len(location.runs)} run(s)"
        )
        if location.skipped_partitioned:
            console.print(
                f"{'':<12} {len(location.skipped_partitioned)} partitioned asset(s) had no new "
                "partition to run"
            )
    if report.mart_rows:
        table = Table(title="Marts")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in report.mart_rows.items():
            table.add_row(name, f"{rows:,}")
        console.print(table)
    console.print(f"lake       {settings.lake_root}")
    console.print(f"warehouse  {settings.warehouse_path}")
    console.print(f"runs       {settings.dagster_home}")
    console.print("UI         uv run ol-platform ui   (then open http://127.0.0.1:3000)")
    if not report.success:
        failed = [loc.name for loc in report.locations if not loc.success]
        console.print(f"[red]FAILED[/red] in: {', '.join(failed)}")
