"""The sandbox's Sentry: the event ingest endpoint sentry-sdk sends to.

Served under `/sentry/`: a DSN `http://<key>@<sandbox>/sentry/<project>` makes sentry-sdk post
envelopes to `/sentry/api/<project>/envelope/` (and, for older clients, JSON events to
`.../store/`). The key is checked like Sentry does, gzip/deflate bodies are decoded, and every
event is recorded (`SentryIngest.events`; `GET /sentry/events` shows them) with the fingerprint,
tags and exception the client sent.
"""

from ol_sandbox.sentry.routes import (
    SENTRY_PREFIX,
    SENTRY_SANDBOX_KEY,
    SENTRY_SANDBOX_PROJECT,
    SentryEvent,
    SentryIngest,
    parse_envelope,
)

__all__ = [
    "SENTRY_PREFIX",
    "SENTRY_SANDBOX_KEY",
    "SENTRY_SANDBOX_PROJECT",
    "SentryEvent",
    "SentryIngest",
    "parse_envelope",
]
