"""Write the edxapp schema and its rows into MariaDB (tests, a developer's database) or SQLite
(the embedded default), from the same DDL (`schema`) and the same rows (`data`).

The SQLite file is a landing-area file of the sandbox (`write_edxapp_sqlite`, registered in
`ol_sandbox.landing.PROVISIONERS`):

    <lake_root>/landing/legacy_openedx/<deployment>/edxapp.sqlite

It is written to a temporary name and renamed into place, and left alone when the same
institution wrote it before (a hidden manifest beside it records which).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path

from ol_sandbox.data import Institution
from ol_sandbox.edxapp.data import LEGACY_DEPLOYMENTS, EdxappTables, edxapp_tables, iter_rows
from ol_sandbox.edxapp.schema import DATABASE, mysql_ddl, sqlite_ddl

SQLITE_NAME = "edxapp.sqlite"
GENERATOR_VERSION = 1
MANIFEST_NAME = ".sandbox-edxapp.json"
_INSERT_BATCH = 500


def sqlite_path(lake_root: str, deployment: str) -> Path:
    """Where the sandbox writes a deployment's SQLite LMS database."""
    root = lake_root.removeprefix("file://")
    return Path(root) / "landing" / "legacy_openedx" / deployment / SQLITE_NAME


def write_sqlite(path: Path, tables: EdxappTables) -> Path:
    """A SQLite database at `path` with the edxapp tables and rows (replaced atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        connection = sqlite3.connect(tmp)
        try:
            for table, columns, rows in iter_rows(tables):
                for statement in sqlite_ddl(table):
                    connection.execute(statement)
                connection.executemany(_insert(table, columns, "?"), rows)
            connection.commit()
        finally:
            connection.close()
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_edxapp_sqlite(
    institution: Institution,
    lake_root: str,
    deployments: Iterable[str] = LEGACY_DEPLOYMENTS,
) -> list[str]:
    """The landing provisioner: one SQLite LMS database per legacy deployment; paths written."""
    if "://" in lake_root and not lake_root.startswith("file://"):
        msg = f"the sandbox writes its LMS databases to a local lake only, got {lake_root!r}"
        raise ValueError(msg)
    written: list[str] = []
    for deployment in deployments:
        path = sqlite_path(lake_root, deployment)
        manifest = path.with_name(MANIFEST_NAME)
        key = json.dumps(
            {
                "version": GENERATOR_VERSION,
                "seed": institution.seed,
                "courses": institution.courses,
                "learners": institution.learners,
                "days": institution.days,
                "anchor": institution.anchor.isoformat(),
            },
            sort_keys=True,
        )
        if path.is_file() and manifest.is_file() and manifest.read_text() == key:
            continue
        write_sqlite(path, edxapp_tables(institution, deployment))
        manifest.write_text(key)
        written.append(str(path))
    return written


def write_mariadb(
    tables: EdxappTables,
    *,
    host: str = "127.0.0.1",
    port: int = 3306,
    user: str = "root",
    password: str = "",
    database: str = DATABASE,
) -> None:
    """(Re)create `database` on a MariaDB/MySQL server with the edxapp tables and rows.

    The session allows zero dates (`sql_mode` without NO_ZERO_DATE), as the LMS's old rows
    were written before strict modes.
    """
    import pymysql  # type: ignore[import-untyped]

    connection = pymysql.connect(
        host=host, port=port, user=user, password=password, charset="utf8mb4", autocommit=False
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
            cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cursor.execute(
                f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            cursor.execute(f"USE `{database}`")
            for table, columns, rows in iter_rows(tables):
                cursor.execute(mysql_ddl(table))
                statement = _insert(table, columns, "%s")
                for start in range(0, len(rows), _INSERT_BATCH):
                    cursor.executemany(statement, rows[start : start + _INSERT_BATCH])
        connection.commit()
    finally:
        connection.close()


def drop_mariadb(
    *,
    host: str = "127.0.0.1",
    port: int = 3306,
    user: str = "root",
    password: str = "",
    database: str = DATABASE,
) -> None:
    import pymysql  # type: ignore[import-untyped]

    connection = pymysql.connect(host=host, port=port, user=user, password=password)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        connection.close()


def _insert(table: str, columns: tuple[str, ...], marker: str) -> str:
    names = ", ".join(f"`{column}`" for column in columns)
    markers = ", ".join(marker for _ in columns)
    return f"INSERT INTO `{table}` ({names}) VALUES ({markers})"  # declared names
