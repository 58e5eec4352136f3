"""A Vault dynamic-credentials lease held for the length of a piece of work.

Vault's database engines issue a fresh database user per lease and drop it when the lease ends.
`DynamicCredentialsLease` reads the credentials on entry, renews the lease in a background thread
while the work runs (every `renew_fraction` of the lease's duration; a failed renewal is retried
until the lease would expire), and revokes it on exit, so the user is gone as soon as the work is
done rather than when its TTL runs out. Work that must not outlive its credentials calls
`check()` between steps: once the lease has ended (renewal refused, max TTL reached) it raises
`LeaseExpiredError`, and the work stops before writing anything more.

Locally the secrets come from the local file: there is no lease, nothing is renewed or revoked,
and `check()` never raises.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from ol_orchestrate.resources.secrets.vault import VaultError

_LOG = logging.getLogger(__name__)
# Retry a failed renewal this often (at most), until the lease would have expired.
RENEW_RETRY_SECONDS = 5.0


class LeaseExpiredError(VaultError):
    """The credentials' lease ended before the work that uses them (the user may be gone)."""


class LeaseIssuer(Protocol):
    """What the lease needs of the secrets resource (`SecretsResource` is one)."""

    def read_dynamic_credentials(self, path: str) -> dict[str, str]: ...

    def renew_lease(self, lease_id: str, increment: int | None = None) -> int: ...

    def revoke_lease(self, lease_id: str) -> None: ...


class DynamicCredentialsLease:
    """`with DynamicCredentialsLease(secrets, "mariadb-mitx/creds/readonly") as lease:`."""

    def __init__(
        self,
        secrets: LeaseIssuer,
        path: str,
        *,
        log: logging.Logger | None = None,
        renew_fraction: float = 0.5,
        increment: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < renew_fraction < 1:
            raise ValueError(f"renew_fraction must be between 0 and 1, got {renew_fraction}")
        self.secrets = secrets
        self.path = path
        self.log = log or _LOG
        self.renew_fraction = renew_fraction
        self.increment = increment
        self.clock = clock
        self.credentials: dict[str, str] = {}
        self.lease_id: str | None = None
        self.duration = 0.0
        self.expires_at: float | None = None
        self.renewals = 0
        self.revoked = False
        self._ended: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the credentials ------------------------------------------------------------------------

    @property
    def username(self) -> str:
        return self.credentials.get("username", "")

    @property
    def password(self) -> str:
        return self.credentials.get("password", "")

    @property
    def has_lease(self) -> bool:
        return self.lease_id is not None

    def check(self) -> None:
        """Raise `LeaseExpiredError` if the lease has ended (call it between steps of work)."""
        with self._lock:
            ended = self._ended
            if ended is None and self.expires_at is not None and self.clock() >= self.expires_at:
                ended = self._ended = "its time ran out"
        if ended is not None:
            raise LeaseExpiredError(
                f"the dynamic credentials lease of {self.path} ended before the work did: {ended}"
            )

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.credentials = self.secrets.read_dynamic_credentials(self.path)
        self.lease_id = self.credentials.get("lease_id") or None
        self.duration = float(self.credentials.get("lease_duration") or 0)
        if self.lease_id and self.duration > 0:
            self.expires_at = self.clock() + self.duration
            self._thread = threading.Thread(
                target=self._renew_loop, name="ol-lease-renewer", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop renewing and revoke the lease (a failed revocation is logged: the lease then
        ends at its TTL anyway)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.lease_id and not self.revoked:
            try:
                self.secrets.revoke_lease(self.lease_id)
            except Exception as error:  # never mask the work's own outcome
                self.log.warning(
                    f"could not revoke the lease of {self.path} ({type(error).__name__}); "
                    "it ends when its TTL runs out"
                )
            else:
                self.revoked = True
                self.log.info(f"revoked the dynamic credentials lease of {self.path}")

    def _renew_loop(self) -> None:
        assert self.lease_id is not None
        wait = self.duration * self.renew_fraction
        while not self._stop.wait(wait):
            try:
                duration = self.secrets.renew_lease(self.lease_id, self.increment)
            except Exception as error:  # retried until the lease would expire
                remaining = (self.expires_at or 0) - self.clock()
                if remaining <= 0:
                    with self._lock:
                        self._ended = f"renewal failed ({type(error).__name__}: {error})"
                    self.log.error(f"the lease of {self.path} could not be renewed: {error}")
                    return
                self.log.warning(
                    f"renewing the lease of {self.path} failed ({type(error).__name__}); "
                    f"retrying, {remaining:.0f} s left"
                )
                wait = max(0.05, min(RENEW_RETRY_SECONDS, remaining / 4))
                continue
            with self._lock:
                self.renewals += 1
                self.duration = float(duration)
                self.expires_at = self.clock() + self.duration
            if duration <= 0:
                with self._lock:
                    self._ended = "Vault would not extend it (max TTL reached)"
                return
            wait = self.duration * self.renew_fraction
