"""Vault dynamic credentials for real: the sandbox's Vault emulator CREATE USERs a read-only
MariaDB user per lease and DROP USERs it on revoke; the extraction renews the lease while it runs,
and a lease that expires mid-extraction fails the run clean (nothing staged, the user gone)."""

from __future__ import annotations

import time
from pathlib import Path

import pymysql
import pytest

from legacy_openedx.extraction import table_key
from legacy_openedx.tables import LMS_TABLES
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.sql_extract import StagedTable, abort_all, stage_table
from ol_orchestrate.resources.secrets import LeaseExpiredError, SecretsResource, VaultResource
from ol_orchestrate.resources.sql_database import SqlDatabaseResource
from ol_orchestrate.testing import lake_temp_files
from ol_sandbox.server import SandboxServer
from ol_sandbox.vault import VAULT_SANDBOX_TOKEN, MariaDbServer

VALUES = {"deployment": "mitx", "retrieved_at": "2026-01-20T06:00:00Z"}
MOUNT = "mariadb-mitx"


def vault_secrets(sandbox: SandboxServer) -> SecretsResource:
    return SecretsResource(
        backend="vault",
        vault=VaultResource(
            vault_addr=sandbox.vault_url, auth_method="token", vault_token=VAULT_SANDBOX_TOKEN
        ),
    )


def extract(resource: SqlDatabaseResource, lake: Path, on_chunk: object) -> list[StagedTable]:
    staged: list[StagedTable] = []
    with resource.open() as opened:
        try:
            with opened.snapshot() as snapshot:
                for table in LMS_TABLES:
                    target = lake_path_for(str(lake), table_key("mitx", table.name), "2026-01-20")
                    staged.append(
                        stage_table(
                            snapshot,
                            table.query,
                            table.raw,
                            target,
                            values=VALUES,
                            after_chunk=on_chunk,  # type: ignore[arg-type]
                        )
                    )
            opened.check_lease()
        except BaseException:
            abort_all(staged)
            raise
        return staged


def test_a_leased_user_exists_for_the_run_is_renewed_and_dropped_after(
    sandbox: SandboxServer, mariadb_url: str, mariadb_database: str, tmp_path: Path
) -> None:
    server = MariaDbServer()
    sandbox.vault.configure(MOUNT, database=mariadb_database, default_ttl=1.5, max_ttl=120)
    resource = SqlDatabaseResource(
        url=mariadb_url,
        credentials_path=f"{MOUNT}/creds/readonly",
        secrets=vault_secrets(sandbox),
        chunk_size=40,
    )
    seen: list[bool] = []
    started = time.monotonic()

    def during(_rows: int) -> None:
        lease = sandbox.vault.leases[-1]
        seen.append(server.user_exists(lease.username))
        time.sleep(0.12)  # a slow extraction: it outlives the lease's 1.5 s TTL several times

    staged = extract(resource, tmp_path / "lake", during)
    (lease,) = sandbox.vault.leases
    assert time.monotonic() - started > 3 * 1.5
    assert seen
    assert all(seen)  # the user existed at every chunk
    assert lease.renewals >= 2
    assert lease.username.startswith("v-readonly-")
    assert not server.user_exists(lease.username)  # revoked at the end: DROP USER
    assert sandbox.vault.events[0].kind == "issued"
    assert [event.kind for event in sandbox.vault.events][-1] == "revoked"
    assert sum(item.rows_written for item in staged) > 0
    abort_all(staged)


def test_the_leased_user_can_only_read(sandbox: SandboxServer, mariadb_database: str) -> None:
    sandbox.vault.configure(MOUNT, database=mariadb_database)
    secrets = vault_secrets(sandbox)
    with secrets.dynamic_credentials(f"{MOUNT}/creds/readonly") as lease:
        connection = pymysql.connect(
            host="127.0.0.1",
            port=3306,
            user=lease.username,
            password=lease.password,
            database=mariadb_database,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM auth_user")
                assert cursor.fetchone()[0] > 0
                with pytest.raises(pymysql.err.OperationalError, match="denied"):
                    cursor.execute("DELETE FROM auth_user WHERE id = 7")
        finally:
            connection.close()
    assert not MariaDbServer().user_exists(lease.username)


def test_an_expired_lease_fails_the_run_clean(
    sandbox: SandboxServer, mariadb_url: str, mariadb_database: str, tmp_path: Path
) -> None:
    sandbox.vault.configure(MOUNT, database=mariadb_database, default_ttl=1.0, max_ttl=120)
    sandbox.vault.refuse_renewals = True  # Vault will not extend it: it runs out mid-extraction
    resource = SqlDatabaseResource(
        url=mariadb_url,
        credentials_path=f"{MOUNT}/creds/readonly",
        secrets=vault_secrets(sandbox),
        chunk_size=40,
    )
    lake = tmp_path / "lake"
    with pytest.raises(LeaseExpiredError, match="ended before the work did"):
        extract(resource, lake, lambda _rows: time.sleep(0.15))
    (lease,) = sandbox.vault.leases
    assert "expired" in [event.kind for event in sandbox.vault.events]
    assert not MariaDbServer().user_exists(lease.username)
    landed = [path for path in lake.rglob("*") if path.is_file()] if lake.exists() else []
    assert landed == []
    assert lake_temp_files(lake) == [] if lake.exists() else True
