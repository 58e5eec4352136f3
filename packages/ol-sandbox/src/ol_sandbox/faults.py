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

Payload mutations (`PAYLOAD_KINDS`) answer normally but change the JSON of a successful (2xx)
answer first, the way an API changes under its clients. They apply to the *records* of the
payload (`payload_records`): the items of a JSON list (Canvas), of a `results` list (Open edX
course and enrollment pages) or of a `blocks` object (Open edX course blocks), else the payload
itself (one object, e.g. a Canvas course). `field` may be a dotted path into nested objects
(`grades.current_score`); `record=<index>` limits a mutation to one record of each answer.

- `add_field`: the API sends a new field: `field` (required) set to `value` (default
  `"added by the sandbox"`) on every record.
- `drop_field`: the API stops sending `field` (required): removed from every record.
- `change_type`: `field` (required) changes type on every record: `to="object"` (`{"id": value}`,
  the default), `"string"` (JSON spelling: `true`, `12`, `9.5`), `"number"` (a numeric string
  as its number, a bool as 0/1, an int as a float, anything else 0) or `"list"` (`[value]`);
  `value=` sets an explicit value instead. Records without the field, or where it is null, are
  left alone.
- `malformed_record`: one record (`record`, default 0) is broken: without `field` the record
  itself is replaced by `value` (default the string `"<malformed record>"`, not an object); with
  `field`, that field is removed, or set to `value` when one is given.
"""

from __future__ import annotations

import copy
import json
import os
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ENV_VAR = "OL_SANDBOX_FAULTS"

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "slow",
    "truncate",
    "reset",
    "canvas_throttle",
    "add_field",
    "drop_field",
    "change_type",
    "malformed_record",
]
# Faults that change the JSON of an otherwise normal answer (see `mutate_payload`).
PAYLOAD_KINDS: tuple[str, ...] = ("add_field", "drop_field", "change_type", "malformed_record")
FAULT_KINDS: tuple[str, ...] = (
    "rate_limit",
    "server_error",
    "slow",
    "truncate",
    "reset",
    "canvas_throttle",
    *PAYLOAD_KINDS,
)
CHANGE_TYPE_TARGETS: tuple[str, ...] = ("object", "string", "number", "list")
DEFAULT_ADDED_VALUE = "added by the sandbox"
DEFAULT_MALFORMED_RECORD = "<malformed record>"

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
        if kind in PAYLOAD_KINDS:
            _check_payload_opts(kind, opts)
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


# -- payload mutations -------------------------------------------------------------------------


def _check_payload_opts(kind: str, opts: Mapping[str, Any]) -> None:
    field_name = opts.get("field")
    if kind != "malformed_record" and not field_name:
        msg = f"{kind} needs field=<name> (a key or a dotted path)"
        raise ValueError(msg)
    if field_name is not None and (not isinstance(field_name, str) or not field_name):
        msg = f"{kind}: field must be a non-empty string, got {field_name!r}"
        raise ValueError(msg)
    record = opts.get("record")
    if record is not None and (isinstance(record, bool) or not isinstance(record, int)):
        msg = f"{kind}: record must be a record index (int), got {record!r}"
        raise ValueError(msg)
    if kind == "change_type" and "value" not in opts:
        target = opts.get("to", "object")
        if target not in CHANGE_TYPE_TARGETS:
            msg = f"change_type to must be one of {', '.join(CHANGE_TYPE_TARGETS)}, got {target!r}"
            raise ValueError(msg)


# A record's place in the payload: (container, key) so that it can be read and replaced.
_Slot = tuple[Any, Any]


def _record_slots(payload: Any) -> list[_Slot] | None:
    """Where the records of `payload` are; None when the payload is one object, not a list."""
    if isinstance(payload, list):
        return [(payload, index) for index in range(len(payload))]
    if isinstance(payload, dict):
        results = payload.get("results")
        if isinstance(results, list):
            return [(results, index) for index in range(len(results))]
        blocks = payload.get("blocks")
        if isinstance(blocks, dict):
            return [(blocks, key) for key in blocks]
    return None


def payload_records(payload: Any) -> list[Any]:
    """The records a payload mutation applies to: the items of a JSON list, of a `results`
    list or of a `blocks` object; else the payload itself (a single object)."""
    slots = _record_slots(payload)
    if slots is None:
        return [payload]
    return [container[key] for container, key in slots]


def _parent(record: Any, path: str, *, create: bool = False) -> tuple[dict[str, Any], str] | None:
    """The object holding the last key of dotted `path` in `record`, and that key."""
    *parents, leaf = path.split(".")
    node = record
    for key in parents:
        if not isinstance(node, dict):
            return None
        if key not in node or not isinstance(node[key], dict):
            if not create or (key in node and node[key] is not None):
                return None
            node[key] = {}
        node = node[key]
    return (node, leaf) if isinstance(node, dict) else None


def retype(value: Any, to: str) -> Any:
    """`value` as another JSON type (see `change_type` in the module doc)."""
    if to == "object":
        return {"id": value}
    if to == "list":
        return [value]
    if to == "string":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if to == "number":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return float(value)
        if isinstance(value, float):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return 0
            return int(number) if number.is_integer() and "." not in value else number
        return 0
    msg = f"cannot change a value to {to!r}; expected one of {', '.join(CHANGE_TYPE_TARGETS)}"
    raise ValueError(msg)


def _mutate_record(record: Any, kind: str, opts: Mapping[str, Any]) -> Any:
    """The record after the mutation (changed in place, or its replacement)."""
    path = opts.get("field")
    if kind == "malformed_record" and not path:
        return copy.deepcopy(opts.get("value", DEFAULT_MALFORMED_RECORD))
    assert isinstance(path, str)
    found = _parent(record, path, create=kind == "add_field")
    if found is None:
        return record
    parent, key = found
    if kind == "add_field":
        parent[key] = copy.deepcopy(opts.get("value", DEFAULT_ADDED_VALUE))
    elif kind == "drop_field" or (kind == "malformed_record" and "value" not in opts):
        parent.pop(key, None)
    elif kind == "malformed_record":
        parent[key] = copy.deepcopy(opts["value"])
    elif kind == "change_type" and parent.get(key) is not None:
        if "value" in opts:
            parent[key] = copy.deepcopy(opts["value"])
        else:
            parent[key] = retype(parent[key], str(opts.get("to", "object")))
    return record


def mutate_payload(payload: Any, kind: str, opts: Mapping[str, Any] | None = None) -> Any:
    """A copy of a decoded JSON answer with payload fault `kind` applied (see the module doc).

    `add_field`, `drop_field` and `change_type` change every record (or only record `record`);
    `malformed_record` changes one record (`record`, default 0). A record index out of range
    changes nothing.
    """
    if kind not in PAYLOAD_KINDS:
        msg = f"{kind!r} is not a payload fault; expected one of: {', '.join(PAYLOAD_KINDS)}"
        raise ValueError(msg)
    opts = dict(opts or {})
    _check_payload_opts(kind, opts)
    holder = [copy.deepcopy(payload)]
    slots = _record_slots(holder[0])
    if slots is None:
        slots = [(holder, 0)]  # a single object: the payload is the one record
    chosen = opts.get("record", 0 if kind == "malformed_record" else None)
    if chosen is not None:
        slots = [slots[chosen]] if -len(slots) <= chosen < len(slots) else []
    for container, key in slots:
        container[key] = _mutate_record(container[key], kind, opts)
    return holder[0]
