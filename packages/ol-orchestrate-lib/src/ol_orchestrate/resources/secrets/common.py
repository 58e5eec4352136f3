"""What every secrets backend shares: the not-found error and how values become strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SecretNotFoundError(KeyError):
    """A secret path (or a key in it) does not exist in the configured backend."""

    def __init__(self, path: str, key: str | None = None, *, backend: str) -> None:
        self.path = path
        self.key = key
        self.backend = backend
        what = f"key {key!r} of secret {path!r}" if key else f"secret {path!r}"
        self.message = f"{what} not found in {backend}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.message


def stringify_secret(data: Mapping[str, Any]) -> dict[str, str]:
    """Secret values as strings: scalars via `str`, booleans, nulls and containers as JSON."""
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str):
            out[str(key)] = value
        elif value is None or isinstance(value, bool | dict | list):
            out[str(key)] = json.dumps(value)
        else:
            out[str(key)] = str(value)
    return out
