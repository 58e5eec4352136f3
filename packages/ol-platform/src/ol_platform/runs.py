"""Executing one run in-process against the local instance, with the live progress view.

Tools the assets run (dbt) echo their own logs to stdout; during a run stdout goes to a log file
(and the run's events to the instance), so the terminal shows the progress view only.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from rich.console import Console

from ol_platform.progress import RunProgress

# Dagster's console logger prints every event at DEBUG; the progress view replaces it.
QUIET_LOGGERS = {"console": {"config": {"log_level": "WARNING"}}}


@dataclass
class RunOutcome:
    label: str
    run_id: str
    success: bool
    materialized: list[dg.AssetKey] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # asset key -> the one-line summary its materialization carried (`ol/summary` metadata)
    summaries: dict[str, str] = field(default_factory=dict)


def execute_run(
    label: str,
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    console: Console,
    log_dir: Path,
    *,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    partition_key: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> RunOutcome:
    run_id = str(uuid.uuid4())
    log_path = log_dir / f"{label.replace('/', '_').replace(' ', '_')}-{run_id[:8]}.log"
    console.print(f"[bold]{label}[/bold]: run {run_id[:8]} (log {log_path.name})")
    config = {**(run_config or {}), "loggers": QUIET_LOGGERS}
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
            run_config=config,
            asset_selection=list(asset_selection) if asset_selection else None,
            partition_key=partition_key,
            tags={"ol-platform/command": "materialize", **(tags or {})},
        )
    return RunOutcome(
        label=label,
        run_id=run_id,
        success=result.success,
        materialized=progress.materialized,
        failed_steps=progress.failed_steps,
        seconds=time.monotonic() - start,
        summaries=progress.summaries,
    )
