"""`dbt compile --target production --no-populate-cache` needs no Trino server and no
variables, and every compiled model is valid Trino SQL with no DuckDB-only lake reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import sqlglot

if TYPE_CHECKING:
    from .conftest import DbtInvocation


@pytest.fixture(scope="module")
def compiled_models(trino_compile: DbtInvocation) -> dict[str, str]:
    assert trino_compile.returncode == 0, trino_compile.output[-6000:]
    nodes: dict[str, Any] = trino_compile.manifest["nodes"]
    return {
        node["name"]: node["compiled_code"]
        for node in nodes.values()
        if node["resource_type"] == "model"
    }


def test_every_model_compiles(compiled_models: dict[str, str]) -> None:
    assert len(compiled_models) >= 7
    assert all(sql and sql.strip() for sql in compiled_models.values())


def test_every_compiled_model_parses_as_trino(compiled_models: dict[str, str]) -> None:
    for name, sql in compiled_models.items():
        try:
            statements = sqlglot.parse(sql, read="trino")
        except sqlglot.errors.ParseError as error:  # pragma: no cover - the failure message
            pytest.fail(f"{name} is not valid Trino SQL: {error}")
        assert [s for s in statements if s is not None], name


def test_no_duckdb_lake_reads_leak_into_trino(compiled_models: dict[str, str]) -> None:
    for name, sql in compiled_models.items():
        assert "read_parquet" not in sql.lower(), name
        assert "external_location" not in sql.lower(), name


def test_sources_resolve_to_the_raw_catalog_tables(compiled_models: dict[str, str]) -> None:
    staging = compiled_models["stg_openedx__enrollments"]
    for deployment in ("mitxonline", "xpro"):
        assert f'"ol_data_lake"."ol_warehouse_raw__openedx"."{deployment}_enrollments"' in staging
    # the username never reaches a model unhashed
    assert "to_hex(sha256(to_utf8(" in staging
    marts = compiled_models["fct_openedx__daily_enrollments"]
    assert (
        '"ol_data_lake"."ol_warehouse_production_intermediate"."int_openedx__enrollments"' in marts
    )
