"""`ol-platform materialize`: the whole platform, end to end, on the embedded defaults.

Holds the data folder (`ol_platform.lock`), marks runs a crashed command left "started" as failed,
starts the source sandbox (and writes its file-based sources into the lake's landing area), then
for every code location in lineage order: materializes its unpartitioned assets in one run, and
evaluates its sensors once — adding dynamic partitions and executing the runs they request (one
per partition, or per range of tracking-log days: new, missing, failed or lost ones) — all
in-process against the local Dagster instance, so the UI shows the same run history afterwards.
A location whose assets read another location's outputs that read its own (learning resources:
raw tables -> the lakehouse's dbt models -> deliveries) runs once before and once after it
(`ol_platform.locations.plan_passes`). The report lists every failed run and sensor, and the
one-line outcomes assets give (`ol/summary`); marts are only reported when this command built them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
from rich.console import Console
from rich.table import Table

from ol_orchestrate.lib.dbt_manifest import dbt_env, ensure_manifest
from ol_orchestrate.lib.environment import PlatformSettings, get_settings, reset_settings_cache
from ol_orchestrate.resources.superset import read_local_server
from ol_platform.defs_state import DefsStateRefreshError, refresh_defs_state
from ol_platform.instance import local_instance
from ol_platform.locations import Location, discover_locations, plan_passes
from ol_platform.lock import data_folder_lock
from ol_platform.progress import elapsed_since
from ol_platform.runs import RunOutcome, execute_run
from ol_platform.sensors import (
    assets_for_request,
    job_for_request,
    request_span,
    tick_sensor,
    tickable_sensors,
)
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.landing import provision_landing
from ol_sandbox.server import SandboxServer

# `--days` at most: the local daily partitions start a year before the sandbox's anchor date
# (openedx/edxorg LOCAL_START_DATE), and a longer window starts before them.
MAX_DAYS = 366
# The range the sandbox's port for a data folder is taken from (below the kernel's ephemeral
# ports, so the fallback's random ports do not collide with it).
SANDBOX_PORTS = (20000, 30000)


class MaterializeError(RuntimeError):
    """A problem the user can fix (a bad option, a deployed environment): one line, exit 2."""


@dataclass
class LocationResult:
    name: str
    runs: list[RunOutcome] = field(default_factory=list)
    skipped_partitioned: list[dg.AssetKey] = field(default_factory=list)
    # Sensors whose tick raised (a source unreachable after every retry, say): name -> error.
    sensor_errors: dict[str, str] = field(default_factory=dict)
    # What could not be prepared before the runs (a state-backed component's refresh): the
    # location ran on the state kept before, so its data may be stale.
    setup_errors: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return (
            all(run.success for run in self.runs)
            and not self.sensor_errors
            and not self.setup_errors
        )

    @property
    def failed_runs(self) -> list[RunOutcome]:
        return [run for run in self.runs if not run.success]

    @property
    def materialized(self) -> list[dg.AssetKey]:
        return [key for run in self.runs for key in run.materialized]

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)


@dataclass
class MaterializeReport:
    locations: list[LocationResult]
    # Rows per mart, only when this command built the marts (None: not built, or it failed).
    mart_rows: dict[str, int] | None
    settings: PlatformSettings
    orphaned_runs: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(location.success for location in self.locations)


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every run a killed command left unfinished; returns their ids.

    Called while holding the data folder's lock, so no other local process is running them. A
    failed run's partitions count as failed, so the sensors request them again.
    """
    unfinished = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.QUEUED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.CANCELING,
            ]
        )
    )
    for run in unfinished:
        instance.report_run_failed(
            run,
            "the process running it stopped before it finished (killed or crashed); marked "
            "failed by ol-platform, whose next pass runs its partitions again",
        )
    return [run.run_id for run in unfinished]


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
    days: int | None = None,
) -> MaterializeReport:
    """The sandbox, then every code location (or only those named in `only`) in lineage order.

    `days` replaces the size's activity window (`Institution.from_size`): `365` is a year of
    data ending where the size's window ends."""
    console = console or Console()
    settings = get_settings()
    if not settings.is_local:
        msg = (
            f"`ol-platform materialize` runs the local platform on the sandbox; DAGSTER_ENV="
            f"{settings.environment.value} is a deployed environment. Use the Dagster UI there."
        )
        raise MaterializeError(msg)
    if size not in SIZES:
        msg = f"unknown sandbox size {size!r}; choose one of: {', '.join(SIZES)}"
        raise MaterializeError(msg)
    if days is not None and not 1 <= days <= MAX_DAYS:
        msg = f"--days must be between 1 and {MAX_DAYS} (the local daily partitions), got {days}"
        raise MaterializeError(msg)
    locations = discover_locations(settings.repo_root)
    unknown = sorted(set(only or ()) - {location.name for location in locations})
    if unknown:
        known = ", ".join(location.name for location in locations)
        msg = f"unknown code location(s) {', '.join(unknown)}; the locations are: {known}"
        raise MaterializeError(msg)
    selected = [location for location in locations if not only or location.name in only]
    with data_folder_lock(settings.data_dir, "materialize"):
        return _materialize_locked(size, seed, console, selected, days)


def _materialize_locked(
    size: str, seed: int, console: Console, selected: Sequence[Location], days: int | None = None
) -> MaterializeReport:
    # The Trino client announces at INFO that it has no keyring; irrelevant to local runs.
    logging.getLogger("trino").setLevel(logging.WARNING)
    institution = Institution.from_size(size, seed=seed, days=days)
    settings = get_settings()
    # Airbyte's S3 destination (the sandbox's) writes into the lake this command reads.
    with _sandbox(institution, settings.lake_root, settings.data_dir) as sandbox:
        os.environ["OL_SANDBOX_URL"] = sandbox.url
        os.environ["OL_SANDBOX_S3_URL"] = sandbox.s3_url  # edX.org's delivery bucket
        reset_settings_cache()
        settings = get_settings()
        window = f", {institution.days} days" if days is not None else ""
        console.print(
            f"[bold]Sandbox[/bold] ({size}{window}, seed {seed}) serving on {sandbox.url}"
        )
        landed = provision_landing(institution, settings.lake_root)
        if landed:
            console.print(f"[bold]Sandbox files[/bold]: {len(landed)} in the landing area")

        start = time.monotonic()
        ensure_manifest(settings.dbt_project_dir, target=settings.dbt_target, env=dbt_env(settings))
        console.print(f"[bold]dbt manifest[/bold] ready ({elapsed_since(start)})")
        # State-backed components (the Airbyte workspace) load from state fetched here.
        start = time.monotonic()
        refreshed, state_errors = [], {}
        for location in selected:
            try:
                refreshed += refresh_defs_state([location])
            except DefsStateRefreshError as error:
                # The location still runs, on the state kept before (or without those assets);
                # the error fails its result, so the command exits 1 and the next run retries.
                state_errors[location.name] = one_line_error(error)
                console.print(f"[red]defs state[/red] not refreshed: {state_errors[location.name]}")
        if refreshed:
            console.print(f"[bold]defs state[/bold] refreshed ({elapsed_since(start)})")

        instance = local_instance(settings)
        orphaned = fail_orphaned_runs(instance)
        if orphaned:
            console.print(
                f"[yellow]{len(orphaned)} run(s) left unfinished by an earlier command were "
                "marked failed[/yellow]; their partitions run again"
            )
        loaded = {location.name: location.load() for location in selected}
        log_dir = settings.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        results = []
        # Lineage order; a location whose assets also read another location's outputs (the
        # learning resources' deliveries read dbt models) runs again after it (`plan_passes`).
        for step in plan_passes(loaded):
            results.append(
                materialize_location(
                    step.location,
                    loaded[step.location],
                    instance,
                    console,
                    log_dir,
                    assets=step.assets,
                    label=step.label,
                )
            )
            if step.location in state_errors:
                results[-1].setup_errors.append(state_errors.pop(step.location))
            if not results[-1].success:
                break
    built_marts = all(result.success for result in results) and any(
        key.path[1:2] == ["marts"] for result in results for key in result.materialized
    )
    mart_rows = mart_row_counts(settings.warehouse_path) if built_marts else None
    return MaterializeReport(results, mart_rows, settings, orphaned)


@contextlib.contextmanager
def _sandbox(institution: Institution, lake_root: str, data_dir: Path) -> Iterator[SandboxServer]:
    """The sandbox, on the same port for this data folder from one run to the next when that port
    is free: the sources put its URL in their data (Open edX `blocks_url`), and an unchanged
    source must read as unchanged (the lakehouse then skips the dbt models it feeds)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).digest()
    preferred = SANDBOX_PORTS[0] + int.from_bytes(digest[:4], "big") % (
        SANDBOX_PORTS[1] - SANDBOX_PORTS[0]
    )
    try:
        sandbox = SandboxServer(institution, lake_root=lake_root, port=preferred).start()
    except OSError:  # taken: any free port
        sandbox = SandboxServer(institution, lake_root=lake_root).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def materialize_location(
    name: str,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    console: Console,
    log_dir: Path,
    *,
    assets: Collection[dg.AssetKey] | None = None,
    label: str | None = None,
) -> LocationResult:
    """Unpartitioned assets in one run, then one tick of each sensor and the runs it requests.

    `assets` limits the pass to those assets (None: all of the location's); `label` names the
    pass in the output (default: the location's name)."""
    result = LocationResult(label or name)
    graph = defs.resolve_asset_graph()
    materializable = [
        key
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable and (assets is None or key in assets)
    ]
    unpartitioned = [key for key in materializable if graph.get(key).partitions_def is None]
    partitioned = [key for key in materializable if graph.get(key).partitions_def is not None]
    tags = {"ol-platform/location": name}

    if unpartitioned:
        job = defs.resolve_implicit_global_asset_job_def()
        result.runs.append(
            execute_run(
                result.name,
                job,
                instance,
                console,
                log_dir,
                asset_selection=unpartitioned,
                tags=tags,
            )
        )
        if not result.success:
            return result

    requested: set[dg.AssetKey] = set()
    for sensor in tickable_sensors(defs):
        try:
            tick = tick_sensor(name, defs, sensor, instance)
        except Exception as error:  # a source the sensor reads is down: report, do not crash
            result.sensor_errors[sensor.name] = one_line_error(error)
            console.print(
                f"[bold]{name}[/bold]: sensor {sensor.name} [red]failed[/red]: "
                f"{result.sensor_errors[sensor.name]}"
            )
            continue
        if tick.partitions_added or tick.partitions_deleted:
            console.print(
                f"[bold]{name}[/bold]: sensor {sensor.name} added {tick.partitions_added} and "
                f"removed {tick.partitions_deleted} partition(s)"
            )
        for request in tick.run_requests:
            selection = assets_for_request(defs, sensor, request)
            requested.update(selection or partitioned)
            span = request_span(request)  # a partition, or a range of days
            label = f"{name} {span}" if span else name
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
        f"[bold]{result.name}[/bold]: {status}, {len(result.materialized)} materialization(s) in "
        f"{len(result.runs)} run(s), {result.seconds:.1f}s"
    )
    return result


def one_line_error(error: BaseException) -> str:
    """`Type: message` of the error the user's code raised (inside Dagster's wrappers), on one
    line (no traceback)."""
    while isinstance(error, dg.DagsterError) and error.__cause__ is not None:
        error = error.__cause__
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def print_summary(report: MaterializeReport, console: Console) -> None:
    settings = report.settings
    console.print()
    for location in report.locations:
        console.print(
            f"{location.name:<12} {len(location.materialized):>4} materialization(s) "
            f"in {len(location.runs)} run(s)"
        )
        # What assets said about themselves (`ol_orchestrate.lib.run_summary`): deliveries' counts.
        for run in location.runs:
            for asset, text in run.summaries.items():
                console.print(f"{'':<12} {asset}: {text}")
        if location.skipped_partitioned:
            console.print(
                f"{'':<12} {len(location.skipped_partitioned)} partitioned asset(s) had no "
                "partition to run"
            )
        for run in location.failed_runs:
            steps = ", ".join(run.failed_steps) or "the run"
            console.print(f"{'':<12} [red]failed[/red] {run.label} (run {run.run_id[:8]}): {steps}")
        for sensor, error in location.sensor_errors.items():
            console.print(f"{'':<12} [red]sensor {sensor} failed[/red]: {error}")
        for error in location.setup_errors:
            console.print(f"{'':<12} [red]not prepared[/red]: {error}")
    if report.mart_rows:
        table = Table(title="Marts")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in report.mart_rows.items():
            table.add_row(name, f"{rows:,}")
        console.print(table)
    elif report.mart_rows is None:
        console.print("marts      not rebuilt by this command (no row counts shown)")
    console.print(f"lake       {settings.lake_root}")
    console.print(f"warehouse  {settings.warehouse_path}")
    console.print(f"runs       {settings.dagster_home}")
    console.print("UI         uv run ol-platform ui   (then open http://127.0.0.1:3000)")
    superset_url = settings.superset_url or read_local_server(settings.data_dir)
    if superset_url:
        console.print(f"Superset   {superset_url}   (datasets and dashboards published to it)")
    else:
        console.print("Superset   not running: publishing skipped (uv run ol-platform superset)")
    if not report.success:
        failed = [loc.name for loc in report.locations if not loc.success]
        console.print(
            f"[red]FAILED[/red] in: {', '.join(failed)}. Data is incomplete; run the command "
            "again once the cause is fixed: it re-runs exactly what failed or is missing."
        )
