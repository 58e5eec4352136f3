"""Dynamic credentials leases (renewed while work runs, revoked after, expiry detected) and the
SQL extraction helper on SQLite (keyset pages, incremental order, no partial file)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import create_engine
from upath import UPath

from ol_orchestrate.lib.raw_tables import RETRIEVED_AT, Column, RawTable, string
from ol_orchestrate.lib.sql_extract import (
    TableQuery,
    read_snapshot,
    sql_integer,
    sql_timestamp,
    stage_table,
)
from ol_orchestrate.resources.secrets import DynamicCredentialsLease, LeaseExpiredError


class FakeVault:
    def __init__(self, duration: int = 1, renewable: bool = True) -> None:
        self.duration = duration
        self.renewable = renewable
        self.renewals = 0
        self.revoked: list[str] = []
        self.lock = threading.Lock()

    def read_dynamic_credentials(self, path: str) -> dict[str, str]:
        return {
            "username": "v-user",
            "password": "p",
            "lease_id": f"{path}/1",
            "lease_duration": str(self.duration),
        }

    def renew_lease(self, lease_id: str, increment: int | None = None) -> int:
        if not self.renewable:
            raise RuntimeError("lease is not renewable")
        with self.lock:
            self.renewals += 1
        return self.duration

    def revoke_lease(self, lease_id: str) -> None:
        self.revoked.append(lease_id)


def test_a_lease_is_renewed_while_the_work_runs_and_revoked_after() -> None:
    vault = FakeVault(duration=1)
    with DynamicCredentialsLease(vault, "mariadb-x/creds/ro", renew_fraction=0.3) as lease:
        for _ in range(10):
            time.sleep(0.15)
            lease.check()
        assert lease.username == "v-user"
    assert vault.renewals >= 3
    assert vault.revoked == ["mariadb-x/creds/ro/1"]


def test_a_lease_that_cannot_be_renewed_ends_the_work() -> None:
    vault = FakeVault(duration=1, renewable=False)
    with DynamicCredentialsLease(vault, "db/creds/ro", renew_fraction=0.5) as lease:
        time.sleep(1.2)
        with pytest.raises(LeaseExpiredError, match="ended before the work did"):
            lease.check()


def test_no_lease_nothing_to_renew() -> None:
    class Local(FakeVault):
        def read_dynamic_credentials(self, path: str) -> dict[str, str]:
            return {"username": "root", "password": ""}

    vault = Local()
    with DynamicCredentialsLease(vault, "db/creds/ro") as lease:
        lease.check()
    assert not lease.has_lease
    assert vault.revoked == []


TABLE = RawTable(
    "things",
    (
        Column("id", pa.int64(), nullable=False, read=sql_integer),
        string("modified", read=sql_timestamp),
        RETRIEVED_AT,
    ),
)


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE things (id integer primary key, modified datetime(6))")
        connection.executemany(
            "INSERT INTO things VALUES (?, ?)",
            [(i, f"2026-01-{1 + i % 9:02d} 00:00:00.000000") for i in range(1, 101)],
        )
    return f"sqlite:///{path}"


def test_keyset_pages_and_incremental_order(database: str) -> None:
    query = TableQuery("things", ("id", "modified"), watermark="modified")
    with read_snapshot(create_engine(database), chunk_size=7) as snapshot:
        pages = list(snapshot.chunks(query))
        assert max(len(page) for page in pages) == 7
        assert [row["id"] for page in pages for row in page] == list(range(1, 101))
        since = "2026-01-05 00:00:00.000000"
        rows = [row for page in snapshot.chunks(query, since) for row in page]
        assert len(rows) == snapshot.count(query, since)
        keys = [(row["modified"], row["id"]) for row in rows]
        assert keys == sorted(keys)
        assert all(row["modified"] >= since for row in rows)


def test_a_failure_mid_table_leaves_no_file(database: str, tmp_path: Path) -> None:
    target = UPath(tmp_path / "lake" / "things" / "data.parquet")

    def fail(rows: int) -> None:
        if rows > 20:
            raise RuntimeError("connection lost")

    query = TableQuery("things", ("id", "modified"))
    values = {"retrieved_at": "2026-01-20T00:00:00Z"}
    with read_snapshot(create_engine(database), chunk_size=10) as snapshot:
        with pytest.raises(RuntimeError, match="connection lost"):
            stage_table(snapshot, query, TABLE, target, values=values, after_chunk=fail)
        staged = stage_table(snapshot, query, TABLE, target, values=values)
    assert list((tmp_path / "lake" / "things").iterdir()) == [Path(staged.tmp)]
    staged.commit()
    assert [p.name for p in (tmp_path / "lake" / "things").iterdir()] == ["data.parquet"]
    assert staged.rows_written == staged.count_at_snapshot == 100
