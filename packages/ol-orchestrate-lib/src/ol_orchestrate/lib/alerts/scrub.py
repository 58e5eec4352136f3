"""Redaction of credentials from text that leaves the platform (Slack messages, Sentry events).

An error message can carry a secret its code handled: a URL with a token in its query or user
info, an Authorization header, a Slack token, a DSN. The alerts send error text to third parties,
so every string goes through `scrub_secrets` first: known values are replaced wherever they
appear, and well-known credential shapes are replaced whatever their value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Words that name a credential in `name=value` / `name: value` / `"name": "value"` text.
_CREDENTIAL_WORDS = (
    r"[\w-]*(?:token|secret|password|passwd|passphrase|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|signature|credentials?|authorization|sentry_key|dsn)[\w-]*"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # `Authorization: Bearer xyz`, `JWT xyz`, `Basic xyz`
    (re.compile(r"\b(Bearer|JWT|Basic|Token)\s+(?!\[)[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {REDACTED}"),
    # name=value, name: value, "name": "value", name%3Dvalue in URLs
    (
        re.compile(
            rf"(?i)\b({_CREDENTIAL_WORDS})([\"']?\s*(?:=|:|%3D)\s*[\"']?)"
            rf"(?!{re.escape(REDACTED)})([^\s\"'&,;)\]}}]+)"
        ),
        rf"\1\2{REDACTED}",
    ),
    # user info in a URL: scheme://user:password@host, scheme://key@host (a DSN)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@:]+(?::[^/\s@]*)?@"), rf"\1{REDACTED}@"),
    # Slack incoming-webhook URLs: the path is the credential
    (
        re.compile(r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'>]+"),
        rf"\1{REDACTED}",
    ),
    # Slack tokens, AWS access key ids, PEM private keys
    (re.compile(r"\bxox[abposrce]-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        REDACTED,
    ),
)
# Shorter known values would redact ordinary words.
_MIN_KNOWN_LENGTH = 6


def scrub_secrets(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every value in `known` and every credential-shaped substring redacted."""
    for value in sorted({v for v in known if v and len(v) >= _MIN_KNOWN_LENGTH}, key=len)[::-1]:
        text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
