"""The interface between the sandbox's HTTP server and the emulated systems mounted on it.

The server turns each request into a `Request`, hands it to the `Routes` of the system whose
prefix is the first path segment, and sends back the `Response` they return.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str = "application/json",
    ) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body, {"Content-Type": content_type, **(headers or {})})


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # a mounted system gets the part below its prefix, e.g. "/api/v1/courses/10001"
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    origin: str  # scheme://host[:port] as the client addressed us

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class Routes(Protocol):
    """An emulated system: answers the requests below its mount prefix."""

    def handle(self, request: Request) -> Response: ...
