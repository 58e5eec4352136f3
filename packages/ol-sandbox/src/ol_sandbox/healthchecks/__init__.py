"""The sandbox's healthchecks.io: records the pings of scheduled jobs.

Served under `/healthchecks/` with healthchecks.io's ping URLs: `<uuid>` (success), `<uuid>/start`,
`<uuid>/fail`, `<uuid>/log` and `<uuid>/<exit status>`, by GET, HEAD or POST (a POST body is the
ping's log, as healthchecks.io keeps it, cut at 100 kB). Every ping answers `200 OK` and is kept
(`HealthchecksApi.pings`; `GET /healthchecks/pings` lists them), so a local run shows what the
monitoring would have received.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from ol_sandbox.routing import Request, Response

HEALTHCHECKS_PREFIX = "healthchecks"
MAX_BODY_BYTES = 100_000
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Ping:
    """One ping: the check's uuid, `success` / `start` / `fail` / `log` / an exit status."""

    check: str
    kind: str
    body: str
    method: str


class HealthchecksApi:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pings: list[Ping] = []

    @property
    def pings(self) -> list[Ping]:
        with self._lock:
            return list(self._pings)

    def pings_for(self, check: str) -> list[Ping]:
        return [ping for ping in self.pings if ping.check == check]

    def clear(self) -> None:
        with self._lock:
            self._pings.clear()

    def handle(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        if segments == ["pings"] and request.method == "GET":
            return Response.json(200, [ping.__dict__ for ping in self.pings])
        if not segments or not _UUID.match(segments[0]) or len(segments) > 2:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        kind = segments[1] if len(segments) == 2 else "0"
        if kind not in ("start", "fail", "log") and not kind.isdigit():
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        if kind.isdigit():  # an exit status: 0 is success, anything else a failure
            kind = "success" if int(kind) == 0 else "fail"
        body = request.body[:MAX_BODY_BYTES].decode("utf-8", errors="replace")
        with self._lock:
            self._pings.append(Ping(segments[0].lower(), kind, body, request.method))
        return Response(200, b"OK", {"Content-Type": "text/plain; charset=utf-8"})


__all__ = ["HEALTHCHECKS_PREFIX", "HealthchecksApi", "Ping"]
