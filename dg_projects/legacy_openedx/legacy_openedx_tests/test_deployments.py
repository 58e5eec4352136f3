"""MITx Online's and xPro's LMS databases beside residential MITx: the sandbox writes each one to
MariaDB (tests) and SQLite (the embedded default) from the same rows, the extraction gives
identical Parquet from both with a Vault lease of the deployment's own role, and the day's job of
each deployment lands its tables, OLX exports, forum and bundle."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from legacy_openedx.extraction import table_key
from legacy_openedx.tables import LMS_TABLES
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.sql_extract import stage_table
from ol_orchestrate.resources.secrets import SecretsResource, VaultResource
from ol_orchestrate.resources.sql_database import SqlDatabaseResource
from ol_orchestrate.testing import environment, load_definitions, persistent_instance
from ol_sandbox.data import Institution
from ol_sandbox.edxapp import drop_mariadb, edxapp_deployment, edxapp_tables, write_mariadb
from ol_sandbox.edxapp import write_edxapp_sqlite as write_landing_sqlite
from ol_sandbox.server import SandboxServer
from ol_sandbox.vault import VAULT_SANDBOX_TOKEN, MariaDbServer

DAY = "2026-01-20"


@pytest.fixture(params=["mitxonline", "xpro"])
def deployment_database(
    request: pytest.FixtureRequest, institution: Institution, mariadb_database: str
) -> Iterator[tuple[str, str]]:
    """(deployment, MariaDB database) with the deployment's edxapp schema and rows."""
    deployment = str(request.param)
    name = f"edxapp_test_{os.getpid()}_{deployment}"
    write_mariadb(edxapp_tables(institution, deployment), database=name)
    try:
        yield deployment, name
    finally:
        drop_mariadb(database=name)


def _extract(resource: SqlDatabaseResource, deployment: str, lake: Path) -> dict[str, Path]:
    files = {}
    values = {"deployment": deployment, "retrieved_at": "2026-01-20T06:00:00Z"}
    with resource.open() as opened, opened.snapshot() as snapshot:
        for table in LMS_TABLES:
            target = lake_path_for(str(lake), table_key(deployment, table.name), DAY)
            stage_table(snapshot, table.query, table.raw, target, values=values).commit()
            files[table.name] = Path(target.path)
        opened.check_lease()
    return files


def test_mariadb_with_a_vault_lease_and_sqlite_give_identical_parquet(
    deployment_database: tuple[str, str],
    institution: Institution,
    sandbox: SandboxServer,
    tmp_path: Path,
) -> None:
    deployment, database = deployment_database
    mount = f"mariadb-{deployment}"
    sandbox.vault.configure(mount, database=database)
    vault = SecretsResource(
        backend="vault",
        vault=VaultResource(
            vault_addr=sandbox.vault_url, auth_method="token", vault_token=VAULT_SANDBOX_TOKEN
        ),
    )
    from_mariadb = _extract(
        SqlDatabaseResource(
            url=f"mysql+pymysql://127.0.0.1:3306/{database}",
            credentials_path=f"{mount}/creds/readonly",
            secrets=vault,
            chunk_size=29,
        ),
        deployment,
        tmp_path / "maria",
    )
    (lease,) = sandbox.vault.leases
    assert not MariaDbServer().user_exists(lease.username)  # revoked after the run
    (sqlite_file,) = [
        Path(path)
        for path in write_landing_sqlite(institution, str(tmp_path / "landing"), [deployment])
    ]
    from_sqlite = _extract(
        SqlDatabaseResource(
            url=f"sqlite:///{sqlite_file}", secrets=SecretsResource(backend="local")
        ),
        deployment,
        tmp_path / "sqlite",
    )
    served = edxapp_deployment(institution, deployment)
    for table in LMS_TABLES:
        maria = pq.read_table(from_mariadb[table.name])
        assert maria.equals(pq.read_table(from_sqlite[table.name])), table.name
        assert set(maria.column("deployment").to_pylist()) <= {deployment}
    courses = pq.read_table(from_mariadb["course_overviews_courseoverview"]).column("id")
    assert sorted(courses.to_pylist()) == sorted(c.course_id for c in served.course_runs)


def test_each_deployments_day_lands_its_bundle(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The location's own job per deployment, on the sandbox's SQLite databases, Studio and
    forum: every deployment's bundle has a tarball and a forum file per course."""
    lake = tmp_path / "lake"
    data = tmp_path / "data"
    write_landing_sqlite(sandbox.institution, str(lake))
    env = {
        "OL_LAKE_ROOT": str(lake),
        "OL_DATA_DIR": str(data),
        "OL_SANDBOX_URL": sandbox.url,
        "DAGSTER_HOME": str(tmp_path / "home"),
    }
    with environment("dev", env), persistent_instance() as instance:
        defs = load_definitions("legacy_openedx.definitions")
        for deployment in ("mitx", "mitxonline", "xpro"):
            job = defs.resolve_job_def(f"legacy_openedx_{deployment}_daily")
            result = job.execute_in_process(instance=instance, partition_key=DAY)
            assert result.success, deployment
            day = data / "irx_results" / deployment / DAY
            manifest = json.loads((day / "manifest.json").read_text())
            courses = [
                line for line in (day / "course_ids.csv").read_text().splitlines()[1:] if line
            ]
            assert courses
            for course in courses:
                assert f"{course}.tar.gz" in manifest["files"], (deployment, course)
                assert f"{course}/forum.jsonl" in manifest["files"], (deployment, course)
