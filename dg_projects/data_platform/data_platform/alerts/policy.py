"""How the platform alerts behave in one environment: the knobs of `defs/alerts/defs.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ol_orchestrate.lib.alerts import MAX_CHECK_BLOCKS


@dataclass(frozen=True)
class AlertPolicy:
    """De-duplication, rate limits and per-tick bounds of the two alert sensors.

    - `dedup_window`: a failure fingerprint (location, step, error type; for checks the asset and
      check) is reported at most once per window; repeats are counted into its next report.
    - `max_failures_per_tick`: run failures read per tick (a backlog drains over later ticks).
    - `max_messages_per_tick`: Slack messages the run-failure sensor sends per tick; past it, the
      rest of the tick's failures go into one digest message.
    - `retry_grace`: how long a failure Dagster said it would retry may wait for its retry run
      before it is reported anyway (a retry that never starts must not hide the failure).
    - `max_check_events_per_tick` / `max_check_blocks`: check evaluations scanned per tick, and
      failed checks per message (one block each after the header, under Slack's 50 blocks).
    """

    environment: str
    dedup_window: timedelta = timedelta(minutes=60)
    max_failures_per_tick: int = 200
    max_messages_per_tick: int = 5
    retry_grace: timedelta = timedelta(minutes=15)
    max_check_events_per_tick: int = 1000
    max_check_blocks: int = MAX_CHECK_BLOCKS
    interval_seconds: int = 60

    def __post_init__(self) -> None:
        if not 1 <= self.max_check_blocks <= MAX_CHECK_BLOCKS:
            msg = f"max_check_blocks must be between 1 and {MAX_CHECK_BLOCKS} (Slack's 50 blocks)"
            raise ValueError(msg)
        if self.max_messages_per_tick < 2:
            msg = "max_messages_per_tick must be at least 2 (one alert and one digest)"
            raise ValueError(msg)
        if self.max_failures_per_tick < 1 or self.max_check_events_per_tick < 1:
            msg = "the per-tick limits must be positive"
            raise ValueError(msg)

    @property
    def window_seconds(self) -> float:
        return self.dedup_window.total_seconds()

    @property
    def window_minutes(self) -> float:
        return self.window_seconds / 60
