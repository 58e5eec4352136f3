"""At most one alert per fingerprint per window, and the repeats counted rather than dropped.

The first occurrence of a fingerprint is reported and opens its window; occurrences inside the
window are counted. The next report of that fingerprint carries the count: either a new
occurrence after the window, or — when none comes — a short summary once the window has passed,
so no repeat goes unmentioned. The state is plain JSON, kept in the sensor's cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# Fingerprints remembered at most (oldest, quiet ones are forgotten first).
MAX_TRACKED = 2000


@dataclass
class Occurrences:
    """A fingerprint's last report and what happened since."""

    reported_at: float
    label: str = ""
    repeats: int = 0
    first_repeat_at: float | None = None
    last_repeat_at: float | None = None
    last_ref: str | None = None  # the latest repeat's run id or check key, for the summary


class Deduplicator:
    """Decides, per fingerprint, whether an occurrence is reported or counted as a repeat."""

    def __init__(self, window_seconds: float, state: Mapping[str, Occurrences] | None = None):
        self.window_seconds = max(0.0, float(window_seconds))
        self.state: dict[str, Occurrences] = dict(state or {})

    def is_repeat(self, key: str, now: float) -> bool:
        """Whether an occurrence now falls inside the fingerprint's window (without counting it)."""
        seen = self.state.get(key)
        return seen is not None and now - seen.reported_at < self.window_seconds

    def observe(
        self, key: str, now: float, *, label: str = "", ref: str | None = None
    ) -> int | None:
        """None when the occurrence is a repeat inside the fingerprint's window (counted);
        otherwise the number of repeats since the last report, to mention in this one."""
        seen = self.state.get(key)
        if seen is not None and now - seen.reported_at < self.window_seconds:
            seen.repeats += 1
            seen.first_repeat_at = seen.first_repeat_at or now
            seen.last_repeat_at = now
            seen.last_ref = ref
            return None
        self.state[key] = Occurrences(reported_at=now, label=label)
        return seen.repeats if seen else 0

    def due(self, now: float) -> list[tuple[str, Occurrences]]:
        """Fingerprints whose window has passed with repeats not reported yet (oldest first);
        `mark_reported` each one whose summary was sent."""
        found = [
            (key, Occurrences(**asdict(seen)))
            for key, seen in self.state.items()
            if seen.repeats and now - seen.reported_at >= self.window_seconds
        ]
        return sorted(found, key=lambda item: item[1].reported_at)

    def mark_reported(self, key: str, now: float) -> None:
        """The fingerprint's repeats were reported: a new window opens with none counted."""
        seen = self.state.get(key)
        self.state[key] = Occurrences(reported_at=now, label=seen.label if seen else "")

    def prune(self, now: float) -> None:
        """Forget fingerprints whose window passed with nothing to report, and the oldest quiet
        ones beyond MAX_TRACKED."""
        self.state = {
            key: seen
            for key, seen in self.state.items()
            if seen.repeats or now - seen.reported_at < self.window_seconds
        }
        if len(self.state) > MAX_TRACKED:
            ordered = sorted(
                self.state.items(), key=lambda item: (bool(item[1].repeats), item[1].reported_at)
            )
            self.state = dict(ordered[len(self.state) - MAX_TRACKED :])

    def to_json(self) -> dict[str, Any]:
        return {key: asdict(seen) for key, seen in self.state.items()}

    @classmethod
    def from_json(cls, window_seconds: float, data: Mapping[str, Any] | None) -> Deduplicator:
        state = {key: Occurrences(**value) for key, value in (data or {}).items()}
        return cls(window_seconds, state)
