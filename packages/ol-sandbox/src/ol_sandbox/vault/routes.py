"""Vault HTTP routes: `VaultApi`, the parts of Vault's API hvac uses for dynamic database
credentials, served under `/vault/` (hvac's `url` is `<sandbox>/vault`).

- `GET v1/auth/token/lookup-self` (token auth: `X-Vault-Token`);
- `GET v1/<mount>/creds/<role>`: a lease whose user really exists — `CREATE USER` with a random
  password and `GRANT SELECT ON <database>.*` on the MariaDB server the role names;
- `PUT v1/sys/leases/renew` (`lease_id`, `increment`): extends the lease up to the role's max TTL;
  an expired, revoked or unknown lease is `400 lease not found` like Vault;
- `PUT v1/sys/leases/revoke` (`lease_id`): `DROP USER`, 204.

Leases expire on the emulator's clock: a reaper thread revokes (and drops the user of) every
lease past its expiry, as Vault does. Tests shorten TTLs (`DatabaseRole`), refuse renewals
(`refuse_renewals`), expire a lease at once (`expire`) and read `.events`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ol_sandbox.routing import Request, Response

VAULT_PREFIX = "vault"
# SANDBOX-ONLY root token of the emulator (VAULT_TOKEN for a developer pointing the platform at it).
VAULT_SANDBOX_TOKEN = "sandbox-vault-token"  # noqa: S105  # pragma: allowlist secret
DEFAULT_ROLE = "readonly"
REAPER_INTERVAL_SECONDS = 0.05


@dataclass(frozen=True)
class MariaDbServer:
    """The database server a database secrets engine manages users on (an admin login)."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""

    def execute(self, *statements: str) -> list[tuple[Any, ...]]:
        import pymysql  # type: ignore[import-untyped]

        connection = pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            connect_timeout=5,
            autocommit=True,
        )
        try:
            rows: list[tuple[Any, ...]] = []
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                    rows = list(cursor.fetchall())
            return rows
        finally:
            connection.close()

    def user_exists(self, username: str) -> bool:
        rows = self.execute(f"SELECT COUNT(*) FROM mysql.user WHERE user = '{_quoted(username)}'")
        return bool(rows and rows[0][0])


@dataclass(frozen=True)
class DatabaseRole:
    """A role of a database secrets engine (`<mount>/creds/<role>`): read-only on `database`."""

    mount: str
    role: str = DEFAULT_ROLE
    database: str = "edxapp"
    server: MariaDbServer = field(default_factory=MariaDbServer)
    default_ttl: float = 3600.0
    max_ttl: float = 86400.0
    renewable: bool = True

    def creation_statements(self, username: str, password: str) -> tuple[str, ...]:
        return (
            f"CREATE USER '{_quoted(username)}'@'%' IDENTIFIED BY '{_quoted(password)}'",
            f"GRANT SELECT ON `{self.database}`.* TO '{_quoted(username)}'@'%'",
        )

    def revocation_statements(self, username: str) -> tuple[str, ...]:
        return (f"DROP USER IF EXISTS '{_quoted(username)}'@'%'",)


@dataclass
class Lease:
    lease_id: str
    role: DatabaseRole
    username: str
    issued_at: float
    expires_at: float
    max_expires_at: float
    renewals: int = 0
    revoked: bool = False


@dataclass(frozen=True)
class LeaseEvent:
    """`issued`, `renewed`, `revoked` (asked for) or `expired` (the reaper), with the user."""

    kind: str
    lease_id: str
    username: str


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "''")


def _error(status: int, *messages: str) -> Response:
    return Response.json(status, {"errors": list(messages)})


class VaultApi:
    """Vault's token lookup, database credentials and lease endpoints (see the module doc)."""

    def __init__(
        self,
        roles: list[DatabaseRole] | None = None,
        *,
        token: str = VAULT_SANDBOX_TOKEN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.clock = clock
        self.roles: dict[tuple[str, str], DatabaseRole] = {}
        for role in roles or ():
            self.add_role(role)
        self.refuse_renewals = False
        self._leases: dict[str, Lease] = {}
        self._events: list[LeaseEvent] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    # -- configuration and inspection --------------------------------------------------------

    def add_role(self, role: DatabaseRole) -> DatabaseRole:
        self.roles[(role.mount, role.role)] = role
        return role

    def configure(self, mount: str, role: str = DEFAULT_ROLE, **changes: Any) -> DatabaseRole:
        """Change a role's settings (`database`, `default_ttl`, `max_ttl`, `renewable`, ...)."""
        current = self.roles.get((mount, role)) or DatabaseRole(mount, role)
        return self.add_role(replace(current, **changes))

    @property
    def leases(self) -> list[Lease]:
        with self._lock:
            return list(self._leases.values())

    @property
    def events(self) -> list[LeaseEvent]:
        with self._lock:
            return list(self._events)

    def lease(self, lease_id: str) -> Lease:
        with self._lock:
            return self._leases[lease_id]

    def expire(self, lease_id: str) -> None:
        """End a lease now, as its TTL running out would (the reaper drops its user)."""
        with self._lock:
            lease = self._leases[lease_id]
            lease.expires_at = lease.max_expires_at = self.clock()
        self.expire_due()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._reaper is not None:
            return
        self._stop.clear()
        self._reaper = threading.Thread(target=self._reap, name="ol-sandbox-vault", daemon=True)
        self._reaper.start()

    def stop(self) -> None:
        """Stop the reaper and revoke every live lease (no sandbox user outlives the sandbox)."""
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5)
            self._reaper = None
        for lease in self.leases:
            if not lease.revoked:
                self._revoke(lease, "revoked")

    def _reap(self) -> None:
        while not self._stop.wait(REAPER_INTERVAL_SECONDS):
            self.expire_due()

    def expire_due(self) -> None:
        now = self.clock()
        for lease in self.leases:
            if not lease.revoked and now >= lease.expires_at:
                self._revoke(lease, "expired")

    def _revoke(self, lease: Lease, kind: str) -> None:
        with self._lock:
            if lease.revoked:
                return
            lease.revoked = True
            self._events.append(LeaseEvent(kind, lease.lease_id, lease.username))
        # A server that went away takes its users with it; nothing else to undo.
        with contextlib.suppress(Exception):
            lease.role.server.execute(*lease.role.revocation_statements(lease.username))

    # -- HTTP -----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        segments = [s for s in request.path.split("/") if s]
        if not segments or segments[0] != "v1":
            return _error(404, "unsupported path")
        if request.headers.get("x-vault-token") != self.token:
            return _error(403, "permission denied")
        path = segments[1:]
        if path == ["auth", "token", "lookup-self"] and request.method == "GET":
            return Response.json(
                200,
                {
                    "data": {
                        "id": self.token,
                        "display_name": "token-sandbox",
                        "policies": ["root"],
                        "ttl": 0,
                        "renewable": False,
                    }
                },
            )
        if path[:2] == ["sys", "leases"] and len(path) == 3 and request.method in ("PUT", "POST"):
            body = self._json_body(request)
            if path[2] == "renew":
                return self._renew(str(body.get("lease_id") or ""), body.get("increment"))
            if path[2] == "revoke":
                return self._revoke_request(str(body.get("lease_id") or ""))
        if len(path) == 3 and path[1] == "creds" and request.method == "GET":
            return self._issue(path[0], path[2])
        return _error(404, f"no handler for route '{'/'.join(path)}'")

    @staticmethod
    def _json_body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _issue(self, mount: str, role_name: str) -> Response:
        role = self.roles.get((mount, role_name))
        if role is None:
            return _error(400, f"unknown role: {role_name}")
        username = f"v-{role_name[:8]}-{secrets.token_hex(6)}"
        password = f"A1a-{secrets.token_urlsafe(15)}"
        try:
            role.server.execute(*role.creation_statements(username, password))
        except Exception as exc:  # Vault answers 500 when the plugin fails
            return _error(500, f"1 error occurred: failed to create user: {type(exc).__name__}")
        now = self.clock()
        lease = Lease(
            lease_id=f"{mount}/creds/{role_name}/{uuid.uuid4().hex[:24]}",
            role=role,
            username=username,
            issued_at=now,
            expires_at=now + role.default_ttl,
            max_expires_at=now + role.max_ttl,
        )
        with self._lock:
            self._leases[lease.lease_id] = lease
            self._events.append(LeaseEvent("issued", lease.lease_id, username))
        return Response.json(
            200,
            {
                "request_id": str(uuid.uuid4()),
                "lease_id": lease.lease_id,
                "renewable": role.renewable,
                "lease_duration": int(role.default_ttl),
                "data": {"username": username, "password": password},
                "wrap_info": None,
                "warnings": None,
                "auth": None,
            },
        )

    def _renew(self, lease_id: str, increment: Any) -> Response:
        self.expire_due()
        with self._lock:
            lease = self._leases.get(lease_id)
            if lease is None or lease.revoked:
                return _error(400, "lease not found")
            if not lease.role.renewable or self.refuse_renewals:
                return _error(400, "lease is not renewable")
            now = self.clock()
            wanted = float(increment) if increment not in (None, "", 0) else lease.role.default_ttl
            lease.expires_at = min(now + wanted, lease.max_expires_at)
            lease.renewals += 1
            self._events.append(LeaseEvent("renewed", lease.lease_id, lease.username))
            duration = max(0, int(lease.expires_at - now))
        return Response.json(
            200,
            {
                "request_id": str(uuid.uuid4()),
                "lease_id": lease_id,
                "renewable": True,
                "lease_duration": duration,
                "data": None,
                "wrap_info": None,
                "warnings": None,
                "auth": None,
            },
        )

    def _revoke_request(self, lease_id: str) -> Response:
        with self._lock:
            lease = self._leases.get(lease_id)
        if lease is None:
            return _error(400, "invalid lease")
        self._revoke(lease, "revoked")
        return Response(204, b"", {})
