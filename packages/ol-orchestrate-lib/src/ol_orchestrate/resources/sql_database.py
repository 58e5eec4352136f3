"""`SqlDatabaseResource`: a relational source (MariaDB/MySQL in production, SQLite locally) read
with Vault dynamic credentials, through one SQLAlchemy code path.

`with resource.open(log) as database:` reads the credentials (a fresh database user per lease:
`secrets.dynamic_credentials(credentials_path)`), keeps the lease renewed while the block runs,
and revokes it at the end; `database.snapshot()` is one consistent read-only snapshot
(`ol_orchestrate.lib.sql_extract.read_snapshot`) whose every statement first checks the lease is
still alive. A SQLite URL needs no credentials and is opened read-only. Nothing is read or
connected when the resource is built, so code locations load without credentials.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pydantic import Field
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

from ol_orchestrate.lib.sql_extract import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    SqlSnapshot,
    read_snapshot,
)
from ol_orchestrate.resources.secrets import DynamicCredentialsLease, SecretsResource

_LOG = logging.getLogger(__name__)


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be opened (no SQLite file, server unreachable); never names a
    password."""


@dataclass
class OpenDatabase:
    """An opened database: its engine, the lease of its credentials (None for SQLite) and the
    settings of its snapshots."""

    engine: Engine
    lease: DynamicCredentialsLease | None
    chunk_size: int
    statement_timeout_seconds: float

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check_lease(self) -> None:
        if self.lease is not None:
            self.lease.check()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[SqlSnapshot]:
        with read_snapshot(
            self.engine,
            chunk_size=self.chunk_size,
            statement_timeout_seconds=self.statement_timeout_seconds,
            before_statement=self.check_lease,
        ) as snapshot:
            yield snapshot


class SqlDatabaseResource(dg.ConfigurableResource):
    """A database read through Vault dynamic credentials (see the module docstring)."""

    url: str = Field(
        description=(
            "SQLAlchemy URL without credentials: mysql+pymysql://host:3306/edxapp, or "
            "sqlite:///<path> (opened read-only, no credentials)"
        )
    )
    credentials_path: str = Field(
        default="",
        description=(
            "Dynamic credentials path (Vault database engine, e.g. mariadb-mitx/creds/readonly; "
            "locally a static secret at that path): username/password; empty for SQLite"
        ),
    )
    secrets: SecretsResource
    chunk_size: int = Field(default=DEFAULT_CHUNK_SIZE, description="Rows per keyset page")
    statement_timeout_seconds: float = Field(
        default=DEFAULT_STATEMENT_TIMEOUT_SECONDS, description="Longest any one statement may run"
    )
    connect_timeout_seconds: float = Field(default=30.0, description="Connection timeout")
    lease_renew_fraction: float = Field(
        default=0.5, description="Renew the lease after this share of its duration"
    )

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def describe(self) -> str:
        """The URL without credentials, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def _sqlite_url(self) -> URL:
        url = make_url(self.url)
        database = url.database or ""
        if not database or database == ":memory:":
            return url
        path = Path(database.removeprefix("file:").split("?")[0])
        if not path.is_file():
            msg = (
                f"no database file at {path} (the sandbox writes the embedded LMS database: "
                "`uv run ol-platform materialize` or ol_sandbox.edxapp.write_edxapp_sqlite)"
            )
            raise DatabaseUnavailableError(msg)
        return url.set(database=f"file:{path}?mode=ro", query={"uri": "true"})

    def _engine(self, lease: DynamicCredentialsLease | None) -> Engine:
        if self.is_sqlite:
            return create_engine(self._sqlite_url(), poolclass=NullPool)
        url = make_url(self.url)
        if lease is not None:
            url = url.set(username=lease.username, password=lease.password)
        connect_args = {
            "connect_timeout": int(self.connect_timeout_seconds),
            # The server enforces the statement timeout; this is the client's backstop.
            "read_timeout": int(self.statement_timeout_seconds + 60),
            "charset": "utf8mb4",
        }
        return create_engine(url, poolclass=NullPool, connect_args=connect_args)

    @contextlib.contextmanager
    def open(self, log: logging.Logger | None = None) -> Iterator[OpenDatabase]:
        """The database for the block: credentials leased (and renewed) until it ends."""
        log = log or _LOG
        lease: DynamicCredentialsLease | None = None
        with contextlib.ExitStack() as stack:
            if self.credentials_path and not self.is_sqlite:
                lease = stack.enter_context(
                    self.secrets.dynamic_credentials(
                        self.credentials_path, log=log, renew_fraction=self.lease_renew_fraction
                    )
                )
                if lease.has_lease:
                    log.info(
                        f"leased database user {lease.username} for {self.describe()} "
                        f"({lease.duration:.0f} s, renewed while the extraction runs)"
                    )
            engine = self._engine(lease)
            stack.callback(engine.dispose)
            yield OpenDatabase(engine, lease, self.chunk_size, self.statement_timeout_seconds)
