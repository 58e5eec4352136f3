"""Sentry HTTP routes: `SentryIngest`, the envelope and store endpoints served under `/sentry/`.

Authentication is the DSN's public key, sent in `X-Sentry-Auth` (`Sentry sentry_key=<key>, ...`)
or as the `sentry_key` query parameter; an unknown key or project answers 401/404 like Sentry.
Bodies may be gzip or deflate encoded (brotli when the `brotli` module happens to be installed;
the sandbox itself is stdlib only and answers 415 otherwise).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ol_sandbox.routing import Request, Response

SENTRY_PREFIX = "sentry"
# SANDBOX-ONLY DSN public key and project (dg_deployments/local/secrets.yaml, sentry/dsn).
SENTRY_SANDBOX_KEY = "sandbox-sentry-key"
SENTRY_SANDBOX_PROJECT = "1"
_AUTH_KEY = re.compile(r"sentry_key\s*=\s*([^,\s]+)")


@dataclass(frozen=True)
class SentryEvent:
    """One event the sandbox received (the event payload as the client sent it)."""

    project_id: str
    event_id: str
    payload: Mapping[str, Any]

    @property
    def fingerprint(self) -> list[str]:
        return list(self.payload.get("fingerprint") or [])

    @property
    def tags(self) -> dict[str, str]:
        tags = self.payload.get("tags") or {}
        if isinstance(tags, list):  # the SDK may send [[key, value], ...]
            return {str(k): str(v) for k, v in tags}
        return {str(k): str(v) for k, v in tags.items()}


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """An envelope's header and its items as (item header, payload bytes)."""
    header_line, _, rest = body.partition(b"\n")
    header = json.loads(header_line or b"{}")
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        if not item_line.strip():
            continue
        item_header = json.loads(item_line)
        length = item_header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[: int(length)], rest[int(length) :]
            rest = rest.removeprefix(b"\n")
        items.append((item_header, payload))
    return header, items


def _decoded(request: Request) -> bytes | None:
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return request.body
    if encoding == "gzip":
        return gzip.decompress(request.body)
    if encoding == "deflate":
        return zlib.decompress(request.body)
    if encoding == "br":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            return None
        return bytes(brotli.decompress(request.body))
    return None


@dataclass
class SentryIngest:
    """The emulated Sentry organisation: one project, one DSN key."""

    key: str = SENTRY_SANDBOX_KEY
    project_id: str = SENTRY_SANDBOX_PROJECT
    _events: list[SentryEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def events(self) -> list[SentryEvent]:
        with self._lock:
            return list(self._events)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def dsn(self, base_url: str) -> str:
        """The DSN of the sandbox's project for a sandbox at `base_url` (`http://host:port`)."""
        scheme, _, authority = base_url.partition("://")
        return f"{scheme}://{self.key}@{authority}/{SENTRY_PREFIX}/{self.project_id}"

    def handle(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        if segments == ["events"] and request.method == "GET":
            return Response.json(200, [{"event_id": e.event_id, **e.payload} for e in self.events])
        if len(segments) != 3 or segments[0] != "api" or request.method != "POST":
            return Response.json(404, {"detail": "not found"})
        project, endpoint = segments[1], segments[2]
        if endpoint not in ("envelope", "store"):
            return Response.json(404, {"detail": "not found"})
        auth = request.headers.get("x-sentry-auth", "") or request.param("sentry_key") or ""
        match = _AUTH_KEY.search(auth) if "sentry_key" in auth else None
        key = match.group(1) if match else auth
        if key != self.key:
            return Response.json(401, {"detail": "invalid api key"})
        if project != self.project_id:
            return Response.json(404, {"detail": "project not found"})
        body = _decoded(request)
        if body is None:
            return Response.json(415, {"detail": "unsupported content encoding"})
        try:
            events = self._events_in(body) if endpoint == "envelope" else [json.loads(body)]
        except (ValueError, zlib.error):
            return Response.json(400, {"detail": "invalid event payload"})
        recorded = [self._record(payload) for payload in events]
        return Response.json(200, {"id": recorded[0].event_id if recorded else None})

    def _events_in(self, body: bytes) -> list[dict[str, Any]]:
        header, items = parse_envelope(body)
        events = []
        for item_header, payload in items:
            if item_header.get("type") == "event":
                event = json.loads(payload)
                event.setdefault("event_id", header.get("event_id"))
                events.append(event)
        return events

    def _record(self, payload: dict[str, Any]) -> SentryEvent:
        event = SentryEvent(self.project_id, str(payload.get("event_id") or ""), payload)
        with self._lock:
            self._events.append(event)
        return event
