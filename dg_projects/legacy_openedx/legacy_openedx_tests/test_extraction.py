"""The LMS extraction against a real MariaDB (and the same schema in SQLite): identical Parquet
from both engines, awkward values, the incremental watermark and full reload, the count(*) check,
the statement timeout, and no partial file after a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pymysql
import pytest
import yaml
from sqlalchemy import text

from legacy_openedx.components import LEGACY_DAILY
from legacy_openedx.extraction import WATERMARK_KEY, build_lms_tables_asset, table_key
from legacy_openedx.tables import AUTH_USER, COURSEWARE_STUDENTMODULE, LMS_TABLES
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.sql_extract import (
    RowCountMismatchError,
    SqlSnapshot,
    SqlTimeoutError,
    read_snapshot,
    stage_table,
)
from ol_orchestrate.resources.healthchecks import HealthcheckResource
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.sql_database import SqlDatabaseResource
from ol_orchestrate.testing import environment, lake_temp_files, persistent_instance
from ol_sandbox.edxapp import ZERO_DATE, EdxappTables
from ol_sandbox.server import SandboxServer

DEPLOYMENT = "mitx"
MARIADB_HOST, MARIADB_PORT, MARIADB_USER = "127.0.0.1", 3306, "root"

VALUES = {"deployment": DEPLOYMENT, "retrieved_at": "2026-01-20T06:00:00Z"}
CHECK = "5f3c9a1e-7b2d-4c8e-9a61-0d4e8b2f7c35"


def local_secrets(tmp_path: Path) -> SecretsResource:
    """The local backend with the MariaDB login (root) and a healthcheck ping URL."""
    path = tmp_path / "secrets.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "mariadb-mitx": {"creds": {"readonly": {"username": MARIADB_USER, "password": ""}}},
                "healthchecks": {"mitx": {"ping_url": f"https://hc-ping.com/{CHECK}"}},
            }
        )
    )
    return SecretsResource(backend="local", local_secrets_file=str(path))


def database(url: str, secrets: SecretsResource, **options: Any) -> SqlDatabaseResource:
    return SqlDatabaseResource(
        url=url, credentials_path="mariadb-mitx/creds/readonly", secrets=secrets, **options
    )


def extract_all(resource: SqlDatabaseResource, lake: Path) -> dict[str, Path]:
    """Every LMS table through the extraction code into `lake`; the files by table."""
    files = {}
    with resource.open() as opened, opened.snapshot() as snapshot:
        for table in LMS_TABLES:
            target = lake_path_for(str(lake), table_key(DEPLOYMENT, table.name), "2026-01-20")
            staged = stage_table(snapshot, table.query, table.raw, target, values=VALUES)
            staged.commit()
            files[table.name] = Path(target.path)
    return files


def test_mariadb_and_sqlite_give_identical_parquet(
    mariadb_url: str, sqlite_file: Path, tmp_path: Path, tables: EdxappTables
) -> None:
    secrets = local_secrets(tmp_path)
    from_mariadb = extract_all(database(mariadb_url, secrets, chunk_size=37), tmp_path / "maria")
    from_sqlite = extract_all(
        database(f"sqlite:///{sqlite_file}", secrets, chunk_size=37), tmp_path / "sqlite"
    )
    for table in LMS_TABLES:
        maria = pq.read_table(from_mariadb[table.name])
        lite = pq.read_table(from_sqlite[table.name])
        assert maria.schema == table.raw.schema
        assert maria.equals(lite), table.name
        assert from_mariadb[table.name].read_bytes() == from_sqlite[table.name].read_bytes()
        if table.query.where is None:
            assert maria.num_rows == tables.count(table.name), table.name


def test_awkward_values_land_as_the_lms_has_them(
    mariadb_url: str, tmp_path: Path, tables: EdxappTables
) -> None:
    files = extract_all(database(mariadb_url, local_secrets(tmp_path)), tmp_path / "lake")
    users = pq.read_table(files["auth_user"]).to_pylist()
    by_id = {row["id"]: row for row in users}
    raw_users = {row[0]: row for row in tables.rows["auth_user"]}
    assert any(not row["username"].isascii() for row in users)  # non-ASCII names kept
    zero = [uid for uid, row in raw_users.items() if row[2] == ZERO_DATE]
    assert zero
    assert all(by_id[uid]["last_login"] is None for uid in zero)  # zero dates are null
    assert all(row["date_joined"].endswith("Z") for row in users)
    profiles = pq.read_table(files["auth_userprofile"])
    assert profiles.num_rows < len(users)  # learners without a profile
    state = {row[0]: row[4] for row in tables.rows["courseware_studentmodule"]}
    landed = pq.read_table(files["courseware_studentmodule"]).to_pylist()
    quoted = [row for row in landed if row["state"] and '\\"' in row["state"]]
    assert quoted
    assert all(row["state"] == state[row["id"]] for row in landed)  # JSON state byte for byte
    assert all(row["state"] is None for row in landed if state[row["id"]] is None)


def test_reads_in_bounded_chunks_checked_against_count(mariadb_url: str, tmp_path: Path) -> None:
    resource = database(mariadb_url, local_secrets(tmp_path), chunk_size=25)
    sizes: list[int] = []
    with resource.open() as opened, opened.snapshot() as snapshot:
        for chunk in snapshot.chunks(COURSEWARE_STUDENTMODULE.query):
            sizes.append(len(chunk))
        assert max(sizes) == 25
        assert sum(sizes) == snapshot.count(COURSEWARE_STUDENTMODULE.query)
        ids = [row["id"] for chunk in snapshot.chunks(AUTH_USER.query) for row in chunk]
        assert ids == sorted(ids)
        assert len(ids) == len(set(ids)) == snapshot.count(AUTH_USER.query)


def test_a_count_mismatch_fails_and_stages_nothing(
    mariadb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SqlSnapshot.count
    monkeypatch.setattr(
        SqlSnapshot, "count", lambda self, query, since=None: 1 + original(self, query, since)
    )
    target = lake_path_for(str(tmp_path / "lake"), table_key(DEPLOYMENT, "auth_user"), "2026-01-20")
    with (
        database(mariadb_url, local_secrets(tmp_path)).open() as opened,
        opened.snapshot() as snapshot,
        pytest.raises(RowCountMismatchError, match="count"),
    ):
        stage_table(snapshot, AUTH_USER.query, AUTH_USER.raw, target, values=VALUES)
    assert not Path(target.path).exists()
    assert lake_temp_files(tmp_path / "lake") == []


def test_statement_timeout_on_mariadb_and_sqlite(
    mariadb_url: str, sqlite_file: Path, tmp_path: Path
) -> None:
    heavy = {
        "mysql": "SELECT SUM(a.seq * b.seq) FROM seq_1_to_1000000 AS a, seq_1_to_1000000 AS b",
        "sqlite": (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT COUNT(*) FROM (SELECT i FROM n LIMIT 10000000000)"
        ),
    }
    for url in (mariadb_url, f"sqlite:///{sqlite_file}"):
        resource = database(url, local_secrets(tmp_path), statement_timeout_seconds=0.5)
        with (
            resource.open() as opened,
            pytest.raises(SqlTimeoutError, match="statement timeout"),
            opened.snapshot() as snapshot,
        ):
            snapshot._execute(heavy[opened.dialect], {})


# -- the asset: watermark, full reload, failures -------------------------------------------------


PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "lake"
    with environment("ci", {"OL_LAKE_ROOT": str(root)}):
        yield root


def run_asset(
    instance: dg.DagsterInstance,
    resource: SqlDatabaseResource,
    healthcheck: HealthcheckResource,
    partition: str,
    *,
    full_reload: bool = False,
) -> dg.ExecuteInProcessResult:
    asset = build_lms_tables_asset(DEPLOYMENT, PARTITIONS, LEGACY_DAILY)
    config = {"ops": {f"{DEPLOYMENT}_lms_tables": {"config": {"full_reload": full_reload}}}}
    return dg.materialize(
        [asset],
        instance=instance,
        partition_key=partition,
        run_config=config,
        raise_on_error=False,
        resources={
            "legacy_openedx_mitx_database": resource,
            "legacy_openedx_mitx_healthcheck": healthcheck,
        },
    )


def latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(key)
    assert event is not None
    assert event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_studentmodule_is_read_incrementally_from_its_watermark(
    mariadb_url: str,
    mariadb_database: str,
    tmp_path: Path,
    lake: Path,
    sandbox: SandboxServer,
    tables: EdxappTables,
) -> None:
    secrets = local_secrets(tmp_path)
    healthcheck = HealthcheckResource(
        secrets=secrets, secret_path="healthchecks/mitx", base_url=sandbox.healthchecks_url
    )
    resource = database(mariadb_url, secrets, chunk_size=64)
    key = table_key(DEPLOYMENT, "courseware_studentmodule")
    total = tables.count("courseware_studentmodule")
    connection = pymysql.connect(
        host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, database=mariadb_database
    )
    try:
        with persistent_instance() as instance:
            assert run_asset(instance, resource, healthcheck, "2026-01-20").success
            first = latest_metadata(instance, key)
            assert first["read_since"] == "full reload"
            assert first["dagster/row_count"] == first["count_at_snapshot"] == total
            watermark = first[WATERMARK_KEY]
            assert watermark == max(row[9] for row in tables.rows["courseware_studentmodule"])

            # Two rows change after the first extraction: the next one reads them (and the
            # rows of the overlap before the watermark), not the whole table.
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE courseware_studentmodule SET grade = 0.25, modified = "
                    "DATE_ADD(%s, INTERVAL 1 DAY) WHERE id IN (1, 2)",
                    (watermark,),
                )
            connection.commit()
            assert run_asset(instance, resource, healthcheck, "2026-01-21").success
            second = latest_metadata(instance, key)
            changed = pq.read_table(lake_path_for(str(lake), key, "2026-01-21").path).to_pylist()
            assert {1, 2} <= {row["id"] for row in changed}
            assert len(changed) < total
            assert all(row["grade"] == 0.25 for row in changed if row["id"] in (1, 2))
            assert second[WATERMARK_KEY] > watermark
            assert second["read_since"] < watermark  # the overlap goes back before it

            # On demand: every row again.
            assert run_asset(
                instance, resource, healthcheck, "2026-01-22", full_reload=True
            ).success
            third = latest_metadata(instance, key)
            assert third["read_since"] == "full reload"
            assert third["dagster/row_count"] == total
            # Every other table is a full snapshot each day.
            users = latest_metadata(instance, table_key(DEPLOYMENT, "auth_user"))
            assert users["rows_read"] == users["count_at_snapshot"] > 0
    finally:
        originals = {row[0]: row for row in tables.rows["courseware_studentmodule"][:2]}
        with connection.cursor() as cursor:
            for row_id, row in originals.items():
                cursor.execute(
                    "UPDATE courseware_studentmodule SET grade = %s, modified = %s WHERE id = %s",
                    (row[5], row[9], row_id),
                )
        connection.commit()
        connection.close()
    kinds = [ping.kind for ping in sandbox.healthchecks.pings_for(CHECK)]
    assert kinds == ["start", "start", "start"]  # the bundle pings success (test_bundle)


def test_a_failed_extraction_leaves_no_file_and_pings_fail(
    mariadb_url: str,
    tmp_path: Path,
    lake: Path,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = local_secrets(tmp_path)
    healthcheck = HealthcheckResource(
        secrets=secrets, secret_path="healthchecks/mitx", base_url=sandbox.healthchecks_url
    )
    original = SqlSnapshot.count

    def miscount(self: SqlSnapshot, query: Any, since: Any = None) -> int:
        found = original(self, query, since)
        return found + 1 if query.table == "courseware_studentmodule" else found

    monkeypatch.setattr(SqlSnapshot, "count", miscount)
    with persistent_instance() as instance:
        result = run_asset(instance, database(mariadb_url, secrets), healthcheck, "2026-01-20")
    assert not result.success
    # The tables read before the failing one were staged, not landed: nothing of the run.
    landed = [p for p in lake.rglob("*") if p.is_file()] if lake.exists() else []
    assert landed == []
    pings = sandbox.healthchecks.pings_for(CHECK)
    assert [ping.kind for ping in pings][-1] == "fail"
    assert "count(*)" in pings[-1].body


def test_the_snapshot_is_read_only(mariadb_url: str, tmp_path: Path) -> None:
    with (
        database(mariadb_url, local_secrets(tmp_path)).open() as opened,
        opened.snapshot() as snapshot,
        pytest.raises(Exception, match=r"(?i)read.only"),
    ):
        snapshot.connection.execute(text("UPDATE auth_user SET first_name = 'x' WHERE id = 7"))


def test_read_snapshot_sees_one_instant(mariadb_url: str, mariadb_database: str) -> None:
    """Rows committed after the snapshot began are not seen by it (REPEATABLE READ)."""
    from sqlalchemy import create_engine

    engine = create_engine(mariadb_url.replace("//", f"//{MARIADB_USER}@", 1))
    writer = pymysql.connect(
        host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, database=mariadb_database,
        autocommit=True,
    )  # fmt: skip
    try:
        with read_snapshot(engine, chunk_size=1000) as snapshot:
            before = snapshot.count(AUTH_USER.query)
            with writer.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO student_courseaccessrole (org, course_id, role, user_id) "
                    "VALUES ('MITx', 'course-v1:MITx+X+1T2026', 'staff', 1000)"
                )
            assert snapshot.count(AUTH_USER.query) == before
            assert sum(len(c) for c in snapshot.chunks(AUTH_USER.query)) == before
    finally:
        with writer.cursor() as cursor:
            cursor.execute(
                "DELETE FROM student_courseaccessrole WHERE course_id = 'course-v1:MITx+X+1T2026'"
            )
        writer.close()
        engine.dispose()
