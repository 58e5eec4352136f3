"""Open edX OAuth2 client credentials of the sandbox and the access tokens it has issued."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


def client_id_for(deployment: str) -> str:
    return f"sandbox-{deployment}"


def client_secret_for(deployment: str) -> str:
    return f"sandbox-secret-{deployment}"


@dataclass(frozen=True)
class _Token:
    deployment: str
    expires_at: float


class TokenStore:
    """Access tokens issued by every deployment's `oauth2/access_token`. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self.issued = 0

    def issue(self, deployment: str, ttl: float) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _Token(deployment, self._clock() + ttl)
            self.issued += 1
        return token

    def check(self, token: str, deployment: str) -> Literal["invalid", "expired"] | None:
        """Why `token` does not grant access to `deployment` (None: it does)."""
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.deployment != deployment:
            return "invalid"
        if self._clock() >= issued.expires_at:
            return "expired"
        return None

    def expire_all(self) -> None:
        """Make every issued token expired (clients must refresh)."""
        with self._lock:
            self._tokens = {t: _Token(v.deployment, float("-inf")) for t, v in self._tokens.items()}
