"""Reading a dbt model's table out of the warehouse, for assets downstream of dbt.

dbt builds the models in DuckDB locally (dev, ci: `settings.warehouse_path`) and in Trino deployed
(qa, production); an asset that consumes a model (a webhook delivery, say) reads it through
`WarehouseResource.read_model(layer, name)` and gets a `pyarrow.Table` either way. The model's
relation follows the dbt project's `generate_schema_name`: schema `<layer>` on DuckDB,
`<TRINO_SCHEMA>_<layer>` in the `TRINO_CATALOG` catalog on Trino, the same variables (and
defaults) `src/ol_dbt/profiles.yml` connects with; `TRINO_PASSWORD` is read when a query runs and
is never part of the resource's configuration.

Locally DuckDB allows one writer per file: a read that finds the file locked by a dbt build waits
and tries again a few times before failing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa

from ol_orchestrate.lib.environment import PlatformSettings

# Waits (seconds) between attempts to open a DuckDB warehouse another process writes.
_LOCK_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)


class WarehouseModelMissingError(RuntimeError):
    """The model's table is not in the warehouse (not built yet); the message names both."""


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse dbt builds into: `engine` "duckdb" (the file at `duckdb_path`) or "trino"."""

    engine: str
    duckdb_path: str = ""
    trino_host: str = "localhost"
    trino_port: int = 443
    trino_http_scheme: str = "https"
    trino_user: str = "dbt"
    trino_catalog: str = "ol_data_lake"
    trino_schema: str = ""
    trino_auth_method: str = "none"

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> WarehouseResource:
        if settings.is_local:
            return cls(engine="duckdb", duckdb_path=str(settings.warehouse_path))
        env = os.environ
        return cls(
            engine="trino",
            trino_host=env.get("TRINO_HOST") or "localhost",
            trino_port=int(env.get("TRINO_PORT") or 443),
            trino_http_scheme=env.get("TRINO_HTTP_SCHEME") or "https",
            trino_user=env.get("TRINO_USER") or "dbt",
            trino_catalog=env.get("TRINO_CATALOG") or "ol_data_lake",
            trino_schema=env.get("TRINO_SCHEMA") or f"ol_warehouse_{settings.environment.value}",
            trino_auth_method=(env.get("TRINO_AUTH_METHOD") or "none").lower(),
        )

    def relation(self, layer: str, name: str) -> str:
        """The model's table as SQL names it in this warehouse."""
        if self.engine == "duckdb":
            return f'"{layer}"."{name}"'
        return f'"{self.trino_catalog}"."{self.trino_schema}_{layer}"."{name}"'

    def read_model(self, layer: str, name: str) -> pa.Table:
        """Every row of the model `name` of dbt layer `layer` (`marts`, ...)."""
        if self.engine == "duckdb":
            return self._read_duckdb(layer, name)
        if self.engine == "trino":
            return self._read_trino(layer, name)
        msg = f"unknown warehouse engine {self.engine!r}; expected duckdb or trino"
        raise ValueError(msg)

    def _missing(self, layer: str, name: str, where: str) -> WarehouseModelMissingError:
        return WarehouseModelMissingError(
            f"the dbt model {name} ({layer}) is not in the warehouse ({where}): build it first "
            "(the lakehouse location's dbt assets)"
        )

    def _read_duckdb(self, layer: str, name: str) -> pa.Table:
        if not Path(self.duckdb_path).exists():
            raise self._missing(layer, name, self.duckdb_path)
        for wait in (*_LOCK_WAITS, None):
            try:
                connection = duckdb.connect(self.duckdb_path, read_only=True)
            except duckdb.IOException:
                if wait is None:
                    raise
                time.sleep(wait)  # a dbt build holds the file; it is done in seconds
                continue
            with connection:
                found = connection.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = ? and table_name = ?",
                    [layer, name],
                ).fetchall()
                if not found:
                    raise self._missing(layer, name, self.duckdb_path)
                query = f"select * from {self.relation(layer, name)}"
                return connection.sql(query).to_arrow_table()
        raise AssertionError("unreachable")

    def _read_trino(self, layer: str, name: str) -> pa.Table:
        import trino  # deployed only; the workspace has it through dbt-trino

        auth: Any = None
        if self.trino_auth_method == "ldap":
            password = os.environ.get("TRINO_PASSWORD", "")
            auth = trino.auth.BasicAuthentication(self.trino_user, password)
        connection = trino.dbapi.connect(
            host=self.trino_host,
            port=self.trino_port,
            user=self.trino_user,
            http_scheme=self.trino_http_scheme,
            auth=auth,
        )
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(f"select * from {self.relation(layer, name)}")
            except trino.exceptions.TrinoUserError as error:
                if error.error_name == "TABLE_NOT_FOUND":
                    raise self._missing(layer, name, self.relation(layer, name)) from None
                raise
            rows = cursor.fetchall()
            columns = [column[0] for column in cursor.description or ()]
        finally:
            connection.close()
        return pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
