"""`HealthcheckResource`: healthchecks.io pings for scheduled work (success, start, fail).

The ping URL of a check is a secret (`ping_url`, e.g. `https://hc-ping.com/<uuid>`), read on
the first ping, never at load. Locally the sandbox receives the pings: `base_url` (the sandbox's
`/healthchecks`) replaces the URL's scheme and host and keeps its path. A ping never fails the
work it reports on: a missing secret or an unreachable service is logged and `ping` returns False.
"""

from __future__ import annotations

import logging
import time
from typing import Literal
from urllib.parse import urlsplit

import dagster as dg
import httpx
from pydantic import Field

from ol_orchestrate.resources.secrets import SecretNotFoundError, SecretsResource

_LOG = logging.getLogger(__name__)
PingKind = Literal["success", "start", "fail", "log"]
# healthchecks.io keeps the first 100 kB of a ping's body.
MAX_BODY_BYTES = 100_000


class HealthcheckResource(dg.ConfigurableResource):
    """Pings one healthchecks.io check."""

    secrets: SecretsResource
    secret_path: str = Field(description="Secret holding the check's `ping_url`")
    base_url: str | None = Field(
        default=None,
        description="Send the pings here instead of the ping URL's host (the sandbox locally)",
    )
    timeout_seconds: float = Field(default=10.0, description="HTTP timeout per ping")
    retries: int = Field(default=2, description="Retries of a ping that failed to send")

    def ping_url(self, kind: PingKind = "success") -> str:
        url = self.secrets.get_secret_value(self.secret_path, "ping_url").rstrip("/")
        if self.base_url:
            url = f"{self.base_url.rstrip('/')}/{urlsplit(url).path.strip('/')}"
        return url if kind == "success" else f"{url}/{kind}"

    def ping(
        self, kind: PingKind = "success", message: str = "", log: logging.Logger | None = None
    ) -> bool:
        """Send one ping (`message` becomes its log); True when healthchecks.io accepted it."""
        log = log or _LOG
        try:
            url = self.ping_url(kind)
        except SecretNotFoundError as error:
            log.warning(f"healthcheck ping ({kind}) skipped: {error}")
            return False
        body = message.encode("utf-8")[:MAX_BODY_BYTES]
        for attempt in range(self.retries + 1):
            try:
                response = httpx.post(url, content=body, timeout=self.timeout_seconds)
            except httpx.HTTPError as error:
                reason = type(error).__name__
            else:
                if response.status_code < 400:
                    return True
                reason = f"HTTP {response.status_code}"
            if attempt < self.retries:
                time.sleep(0.5 * 2**attempt)
        # The URL is a credential (anyone holding it can ping): name only the check's host.
        log.warning(f"healthcheck ping ({kind}) to {urlsplit(url).netloc} failed: {reason}")
        return False
