"""A live view of a run: one line per asset as it lands, read from the instance's event log."""

from __future__ import annotations

import threading
import time

import dagster as dg
from rich.console import Console

from ol_orchestrate.lib.run_summary import SUMMARY_METADATA_KEY

POLL_SECONDS = 1.0
_WATCHED = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
}


class RunProgress:
    """Polls the event log of `run_id` in a background thread and prints what happens."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, console: Console) -> None:
        self._instance = instance
        self._run_id = run_id
        self._console = console
        self._stop = threading.Event()
        self._cursor: str | None = None
        self._thread = threading.Thread(target=self._poll, name="run-progress", daemon=True)
        self.materialized: list[dg.AssetKey] = []
        self.failed_steps: list[str] = []
        self.summaries: dict[str, str] = {}

    def __enter__(self) -> RunProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._drain()

    def _poll(self) -> None:
        # Each poll is a query of the instance's storage competing with the run for the CPU (a
        # tracking-log range keeps both cores busy): once a second is live enough.
        while not self._stop.wait(POLL_SECONDS):
            self._drain()

    def _drain(self) -> None:
        # Only the watched events, and only those after the last poll: a run's log can hold
        # thousands of events (dbt), re-reading all of it at every poll would grow quadratically.
        connection = self._instance.get_records_for_run(
            self._run_id, cursor=self._cursor, of_type=_WATCHED
        )
        self._cursor = connection.cursor
        for record in connection.records:
            event = record.event_log_entry.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                self._console.print(f"  [dim]… {event.step_key}[/dim]")
            elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                key = event.asset_key
                if key is not None:
                    self.materialized.append(key)
                    summary = _summary(event)
                    if summary:
                        self.summaries[key.to_user_string()] = summary
                    suffix = f" [dim]({summary})[/dim]" if summary else ""
                    # A range run records one materialization per partition (day).
                    partition = f" [dim]{event.partition}[/dim]" if event.partition else ""
                    self._console.print(
                        f"  [green]✓[/green] {key.to_user_string()}{partition}{suffix}"
                    )
            else:
                self.failed_steps.append(event.step_key or "?")
                self._console.print(f"  [red]✗ {event.step_key}[/red]: {event.message}")


def _summary(event: dg.DagsterEvent) -> str | None:
    """The `ol/summary` metadata of a materialization event, if the asset gave one."""
    materialization = event.step_materialization_data.materialization
    value = (materialization.metadata or {}).get(SUMMARY_METADATA_KEY)
    text = getattr(value, "value", value)
    return str(text) if text else None


def elapsed_since(start: float) -> str:
    return f"{time.monotonic() - start:.1f}s"
