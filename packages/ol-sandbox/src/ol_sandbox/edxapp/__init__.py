"""The sandbox's Open edX LMS database (`edxapp`), for the legacy_openedx extraction.

- `.schema`: the LMS tables' DDL as MariaDB has it (`DDL`, `mysql_ddl`), translated for SQLite
  (`sqlite_ddl`) — one declaration, two engines;
- `.data`: the rows of a deployment's tables from the institution (`edxapp_tables`), awkward
  values included (non-ASCII names, missing and NULL profiles, JSON state with escaped quotes,
  zero dates);
- `.writer`: `write_mariadb` (a real MariaDB server, for tests and developers) and
  `write_sqlite` / `write_edxapp_sqlite` (the embedded default's file in the landing area).
"""

from ol_sandbox.edxapp.data import (
    FIRST_LEARNER_ID,
    LEGACY_DEPLOYMENTS,
    ZERO_DATE,
    EdxappTables,
    edxapp_deployment,
    edxapp_tables,
)
from ol_sandbox.edxapp.schema import DATABASE, DDL, TABLES, mysql_ddl, sqlite_ddl
from ol_sandbox.edxapp.writer import (
    SQLITE_NAME,
    drop_mariadb,
    sqlite_path,
    write_edxapp_sqlite,
    write_mariadb,
    write_sqlite,
)

__all__ = [
    "DATABASE",
    "DDL",
    "FIRST_LEARNER_ID",
    "LEGACY_DEPLOYMENTS",
    "SQLITE_NAME",
    "TABLES",
    "ZERO_DATE",
    "EdxappTables",
    "drop_mariadb",
    "edxapp_deployment",
    "edxapp_tables",
    "mysql_ddl",
    "sqlite_ddl",
    "sqlite_path",
    "write_edxapp_sqlite",
    "write_mariadb",
    "write_sqlite",
]
