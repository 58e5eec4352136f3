"""Fault injection for the sandbox server.

Real source APIs throttle, fail, stall, cut responses short and drop connections; the clients
must survive all of it. Tests queue deterministic faults (`inject`), which fire on the next
matching requests in order. For manual experiments, seeded probabilistic faults can be turned on
with `FaultConfig` or the environment variable `OL_SANDBOX_FAULTS`, e.g.
`OL_SANDBOX_FAULTS="rate_limit=0.05,server_error=0.02,seed=7"`.

Fault kinds and their options:

- `rate_limit`: 429 with `Retry-After` (`retry_after`: seconds or an HTTP date string; default 1).
- `server_error`: `status` 500 (default), 502 or 503 (503 may carry `retry_after`).
- `slow`: wait `seconds` (default 1.0) before answering normally.
- `truncate`: answer, but cut the body in half. `mode="length"` (default) announces the full
  Content-Length and closes the connection early; `mode="json"` sends a consistent Content-Length
  for the cut body, so HTTP is valid but the JSON is not.
- `reset`: close the connection (TCP RST) without sending a response.
- `canvas_throttle`: what Canvas sends when a token's rate-limit bucket is full: `403 Forbidden`,
  text body `403 Forbidden (Rate Limit Exceeded)`, `X-Rate-Limit-Remaining: 0.0` (no Retry-After).
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ENV_VAR = "OL_SANDBOX_FAULTS"

FaultKind = Literal["rate_limit", "server_error", "slow", "truncate", "reset", "canvas_throttle"]
FAULT_KINDS: tuple[str, ...] = (
    "rate_limit",
    "server_error",
    "slow",
    "truncate",
    "reset",
    "canvas_throttle",
)

# OL_SANDBOX_FAULTS key -> FaultConfig field
_ENV_KEYS: Mapping[str, str] = {
    "rate_limit": "rate_limit_rate",
    "server_error": "error_rate",
    "error": "error_rate",
    "slow": "slow_rate",
    "truncate": "truncate_rate",
    "reset": "reset_rate",
    "seed": "seed",
    "retry_after": "retry_after",
    "slow_seconds": "slow_seconds",
}


@dataclass
class Fault:
    """A queued fault: fires on the next `remaining` requests whose path has `path_contains`."""

    path_contains: str
    kind: str
    remaining: int = 1
    opts: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, raw_path: str) -> bool:
        wanted_method = self.opts.get("method")
        if wanted_method and wanted_method.upper() != method.upper():
            return False
        return self.path_contains in raw_path


@dataclass(frozen=True)
class FaultConfig:
    """Probabilities (0..1) of random faults per request, drawn from a seeded RNG."""

    rate_limit_rate: float = 0.0
    error_rate: float = 0.0
    slow_rate: float = 0.0
    truncate_rate: float = 0.0
    reset_rate: float = 0.0
    seed: int = 0
    retry_after: float = 1.0
    slow_seconds: float = 1.0

    def __post_init__(self) -> None:
        for name in ("rate_limit_rate", "error_rate", "slow_rate", "truncate_rate", "reset_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                msg = f"{name} must be between 0 and 1, got {value}"
                raise ValueError(msg)

    @property
    def enabled(self) -> bool:
        return any(
            (
                self.rate_limit_rate,
                self.error_rate,
                self.slow_rate,
                self.truncate_rate,
                self.reset_rate,
            )
        )

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """Parse `"rate_limit=0.05,server_error=0.02,seed=7"` (empty → no faults)."""
        values: dict[str, Any] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            name, sep, raw = item.partition("=")
            name = name.strip().lower()
            if not sep or name not in _ENV_KEYS:
                known = ", ".join(_ENV_KEYS)
                msg = f"{ENV_VAR}: cannot parse {item!r}; expected key=value with key in: {known}"
                raise ValueError(msg)
            target = _ENV_KEYS[name]
            try:
                values[target] = int(raw) if target == "seed" else float(raw)
            except ValueError:
                msg = f"{ENV_VAR}: {name} needs a number, got {raw!r}"
                raise ValueError(msg) from None
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaultConfig:
        environ = os.environ if environ is None else environ
        return cls.parse(environ.get(ENV_VAR, ""))


class FaultInjector:
    """Decides, per request, which fault (if any) the server applies. Thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self.fired: list[tuple[str, str]] = []  # (kind, raw path) of every fault applied

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def inject(self, path_contains: str, kind: str, count: int = 1, **opts: Any) -> Fault:
        """Queue `kind` for the next `count` requests whose raw path (with query) contains
        `path_contains`. Option `method="POST"` restricts the fault to one HTTP method."""
        if kind not in FAULT_KINDS:
            msg = f"unknown fault kind {kind!r}; expected one of: {', '.join(FAULT_KINDS)}"
            raise ValueError(msg)
        if count < 1:
            msg = f"count must be >= 1, got {count}"
            raise ValueError(msg)
        if kind == "server_error" and opts.get("status", 500) not in (500, 502, 503, 504):
            msg = f"server_error status must be 500, 502, 503 or 504, got {opts['status']}"
            raise ValueError(msg)
        if kind == "truncate" and opts.get("mode", "length") not in ("length", "json"):
            msg = f"truncate mode must be 'length' or 'json', got {opts['mode']!r}"
            raise ValueError(msg)
        fault = Fault(path_contains, kind, count, dict(opts))
        with self._lock:
            self._queue.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.fired.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(f.path_contains, f.kind, f.remaining, dict(f.opts)) for f in self._queue]

    def next_fault(self, method: str, raw_path: str) -> Fault | None:
        """The fault to apply to this request: queued faults first, then random ones."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.matches(method, raw_path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._queue[index]
                    self.fired.append((fault.kind, raw_path))
                    return Fault(fault.path_contains, fault.kind, 1, dict(fault.opts))
            config = self.config
            if not config.enabled:
                return None
            draws: tuple[tuple[str, float, dict[str, Any]], ...] = (
                ("rate_limit", config.rate_limit_rate, {"retry_after": config.retry_after}),
                ("server_error", config.error_rate, {"status": 503}),
                ("slow", config.slow_rate, {"seconds": config.slow_seconds}),
                ("truncate", config.truncate_rate, {}),
                ("reset", config.reset_rate, {}),
            )
            for kind, rate, opts in draws:
                if rate and self._rng.random() < rate:
                    self.fired.append((kind, raw_path))
                    return Fault("", kind, 1, dict(opts))
            return None
