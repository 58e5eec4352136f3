"""The raw tables' declarations against what else names their columns: the dbt sources (every
column and its `data_type`) and the column lists of docs/contracts.md (generated from them).

A raw table's columns are declared once, where the code location that lands it builds its rows:
`canvas.tables` (Canvas), `ol_orchestrate.resources.openedx` (the Open edX API tables, one per
deployment), `legacy_openedx.tables` (the LMS database tables, forum posts and course exports,
per legacy LMS deployment),
`data_platform.tables` (the platform-health snapshot), edX.org's
(`ol_orchestrate.lib.edxorg.tables`, `ol_orchestrate.resources.edxorg_catalog`, `edxorg.tables`),
the learning catalogs' (`learning_resources.tables`), the tracking-log
normalizer's `NORMALIZED_SCHEMA` and, for the application tables Airbyte lands, the apps' own
columns after Airbyte's (`ol_sandbox.airbyte`: the sandbox's Airbyte declares them here).
A column added, removed or retyped there and not in dbt (or the other way round) fails here,
naming the table and column.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import canvas.tables
import data_platform.tables
import edxorg.tables
import learning_resources.tables
import legacy_openedx.tables
import ol_orchestrate.lib.edxorg.tables
import ol_orchestrate.resources.edxorg_catalog
import ol_orchestrate.resources.openedx
from ol_orchestrate.lib.raw_tables import RawTable, markdown_table, warehouse_type
from ol_orchestrate.lib.tracking_logs import NORMALIZED_SCHEMA
from ol_sandbox.airbyte import APPS, CONNECTIONS, SELECTED_STREAMS, STREAM_COLUMNS, arrow_schema

PROJECT_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PROJECT_DIR.parents[1]
CONTRACTS = REPO_ROOT / "docs" / "contracts.md"
OPENEDX_DEPLOYMENTS = REPO_ROOT / "dg_projects" / "openedx" / "openedx" / "defs" / "deployments"
# The legacy LMS databases dbt reads (one legacy_openedx component each): their daily partition
# is `dt`.
LEGACY_DEPLOYMENTS = (
    REPO_ROOT / "dg_projects" / "legacy_openedx" / "legacy_openedx" / "defs" / "deployments"
)
LEGACY_PARTITION_COLUMN = pa.field("dt", pa.date32())
# DuckDB reads a tracking-log table's day from its hive folder (`dt=<day>`), not from the file.
TRACKING_LOG_PARTITION_COLUMN = pa.field("dt", pa.date32())


@dataclass(frozen=True)
class Declaration:
    """What a raw table must look like in dbt, and where it is declared (for the messages)."""

    schema: pa.Schema
    declared_in: str
    pii: frozenset[str] | None = None  # None: not declared (the normalizer's schema)


def _declaration(table: RawTable, module: str) -> Declaration:
    pii = frozenset(column.name for column in table.columns if column.pii)
    return Declaration(table.schema, f"{module} ({table.name})", pii)


def openedx_deployments(folder: Path = OPENEDX_DEPLOYMENTS) -> list[str]:
    """The deployments a location lands tables for (one component folder each under `folder`:
    the openedx location's by default, the legacy_openedx location's LMS databases)."""
    names = [
        yaml.safe_load(path.read_text())["attributes"]["deployment"]
        for path in sorted(folder.glob("*/defs.yaml"))
    ]
    assert names, f"no deployment under {folder}"
    return names


def declarations() -> dict[str, Declaration]:
    """Every raw table the code locations land, keyed `<dbt source>.<table>`."""
    expected = {
        f"canvas.{table.name}": _declaration(table, "canvas.tables")
        for table in canvas.tables.TABLES
    }
    tracking_logs = Declaration(
        NORMALIZED_SCHEMA.append(TRACKING_LOG_PARTITION_COLUMN),
        "ol_orchestrate.lib.tracking_logs.NORMALIZED_SCHEMA (+ the hive `dt` column)",
    )
    for deployment in openedx_deployments():
        for table in ol_orchestrate.resources.openedx.TABLES:
            expected[f"openedx.{deployment}_{table.name}"] = _declaration(
                table, "ol_orchestrate.resources.openedx"
            )
        expected[f"openedx.{deployment}_tracking_logs"] = tracking_logs
    for table in data_platform.tables.TABLES:
        expected[f"platform.{table.name}"] = _declaration(table, "data_platform.tables")
    for module, tables in EDXORG_TABLES:
        for table in tables:
            expected[f"edxorg.{table.name}"] = _declaration(table, module)
    expected["edxorg.edxorg_tracking_logs"] = tracking_logs
    for deployment in openedx_deployments(LEGACY_DEPLOYMENTS):
        for table in legacy_openedx.tables.TABLES:
            declared = _declaration(table, "legacy_openedx.tables")
            expected[f"legacy_openedx.{deployment}_{table.name}"] = Declaration(
                declared.schema.append(LEGACY_PARTITION_COLUMN),
                f"{declared.declared_in} (+ the hive `dt` column)",
                declared.pii,
            )
    for table in learning_resources.tables.TABLES:
        expected[f"learning_resources.{table.name}"] = _declaration(
            table, "learning_resources.tables"
        )
    for app in APPS:
        for stream in SELECTED_STREAMS:
            table_name = CONNECTIONS[app].table_name(stream)
            expected[f"ol_warehouse_raw_data.{table_name}"] = Declaration(
                arrow_schema(STREAM_COLUMNS[stream]), f"ol_sandbox.airbyte.apps ({stream})"
            )
    return expected


EDXORG_TABLES = (
    ("ol_orchestrate.lib.edxorg.tables", ol_orchestrate.lib.edxorg.tables.TABLES),
    ("ol_orchestrate.resources.edxorg_catalog", ol_orchestrate.resources.edxorg_catalog.TABLES),
    ("edxorg.tables", edxorg.tables.TABLES),
)


def dbt_source_tables() -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every table of every dbt source YAML, keyed `<source>.<table>` (YAML anchors resolved)."""
    tables: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        for source in (yaml.safe_load(path.read_text()) or {}).get("sources") or ():
            for table in source.get("tables") or ():
                tables[f"{source['name']}.{table['name']}"] = (path, table)
    return tables


# Other spellings of the same type a source YAML could use; precision is ignored.
_TYPE_ALIASES = {
    "string": "varchar",
    "text": "varchar",
    "bool": "boolean",
    "int": "integer",
    "int64": "bigint",
    "long": "bigint",
    "float64": "double",
    "double precision": "double",
    "timestamptz": "timestamp with time zone",
}


def sql_type(arrow_type: pa.DataType) -> str:
    """`warehouse_type`, and DuckDB's spelling of a struct (Airbyte's `_airbyte_meta`)."""
    if pa.types.is_struct(arrow_type):
        fields = ", ".join(f"{f.name} {sql_type(f.type)}" for f in arrow_type)
        return f"struct({fields})"
    if pa.types.is_list(arrow_type):
        return f"{sql_type(arrow_type.value_type)}[]"
    return warehouse_type(arrow_type)


def normalized_type(data_type: str) -> str:
    spelled = re.sub(r"\s*\(\s*\d+(\s*,\s*\d+)?\s*\)", "", data_type.strip().lower())
    spelled = re.sub(r"\s+", " ", spelled)
    return _TYPE_ALIASES.get(spelled, spelled)


def _is_pii(column: dict[str, Any]) -> bool:
    meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
    return bool(meta.get("contains_pii"))


def mismatches(name: str, declaration: Declaration, path: Path, table: dict[str, Any]) -> list[str]:
    """Every difference between a declaration and its dbt source table, one message each."""
    where = path.relative_to(REPO_ROOT)
    in_dbt = {column["name"]: column for column in table.get("columns") or ()}
    problems = [
        f"{name}: column `{field.name}` is declared in {declaration.declared_in} "
        f"but not in the dbt source ({where})"
        for field in declaration.schema
        if field.name not in in_dbt
    ]
    problems += [
        f"{name}: column `{column}` is in the dbt source ({where}) "
        f"but not declared in {declaration.declared_in}"
        for column in in_dbt
        if column not in declaration.schema.names
    ]
    for field in declaration.schema:
        column = in_dbt.get(field.name)
        if column is None:
            continue
        expected = sql_type(field.type)
        declared = column.get("data_type")
        if declared is None:
            problems.append(
                f"{name}: column `{field.name}` has no data_type in {where} "
                f"(the declaration's {field.type} is `{expected}`)"
            )
        elif normalized_type(declared) != expected:
            problems.append(
                f"{name}: column `{field.name}` is `{declared}` in {where} but "
                f"{field.type} (`{expected}`) in {declaration.declared_in}"
            )
        if declaration.pii is not None and _is_pii(column) != (field.name in declaration.pii):
            problems.append(
                f"{name}: column `{field.name}` is "
                f"{'' if field.name in declaration.pii else 'not '}personal data in "
                f"{declaration.declared_in} but {'' if _is_pii(column) else 'not '}marked "
                f"contains_pii in {where}"
            )
    return problems


DECLARATIONS = declarations()


def test_every_dbt_source_table_is_a_declared_raw_table() -> None:
    in_dbt = set(dbt_source_tables())
    assert not in_dbt - set(DECLARATIONS), (
        f"dbt source tables with no raw-table declaration: {sorted(in_dbt - set(DECLARATIONS))}"
    )
    assert not set(DECLARATIONS) - in_dbt, (
        f"raw tables the code locations land but no dbt source reads: "
        f"{sorted(set(DECLARATIONS) - in_dbt)}"
    )


@pytest.mark.parametrize("name", sorted(DECLARATIONS))
def test_dbt_source_columns_and_types_match_the_declaration(name: str) -> None:
    tables = dbt_source_tables()
    if name not in tables:
        pytest.fail(f"{name}: declared in {DECLARATIONS[name].declared_in} but no dbt source")
    path, table = tables[name]
    problems = mismatches(name, DECLARATIONS[name], path, table)
    assert not problems, "\n".join(problems)


def test_a_mismatch_names_the_table_and_the_column() -> None:
    declaration = _declaration(canvas.tables.USERS, "canvas.tables")
    path, table = dbt_source_tables()["canvas.users"]
    columns = [dict(column) for column in table["columns"] if column["name"] != "created_at"]
    columns[1]["data_type"] = "bigint"  # user_id
    columns.append({"name": "nickname", "data_type": "varchar"})
    problems = mismatches("canvas.users", declaration, path, {**table, "columns": columns})
    assert problems == [
        "canvas.users: column `created_at` is declared in canvas.tables (users) but not in the "
        "dbt source (src/ol_dbt/models/staging/canvas/_canvas__sources.yml)",
        "canvas.users: column `nickname` is in the dbt source "
        "(src/ol_dbt/models/staging/canvas/_canvas__sources.yml) but not declared in "
        "canvas.tables (users)",
        "canvas.users: column `user_id` is `bigint` in "
        "src/ol_dbt/models/staging/canvas/_canvas__sources.yml but string (`varchar`) in "
        "canvas.tables (users)",
    ]
    assert normalized_type("TIMESTAMP(6)  WITH TIME ZONE") == "timestamp with time zone"
    assert normalized_type("VARCHAR(255)") == "varchar"


# -- docs/contracts.md -------------------------------------------------------------------------

# source -> (its tables, the columns every table starts with, those it ends with)
DOCUMENTED: dict[str, tuple[tuple[RawTable, ...], list[str], list[str]]] = {
    "openedx": (ol_orchestrate.resources.openedx.TABLES, ["deployment"], ["retrieved_at"]),
    "canvas": (canvas.tables.TABLES, ["course_id"], ["retrieved_at"]),
    "platform": (data_platform.tables.TABLES, [], ["retrieved_at"]),
    "legacy_openedx": (legacy_openedx.tables.TABLES, ["deployment"], ["retrieved_at"]),
    "edxorg-archives": (
        ol_orchestrate.lib.edxorg.tables.ARCHIVE_TABLES,
        [column.name for column in ol_orchestrate.lib.edxorg.tables.LEADING],
        [column.name for column in ol_orchestrate.lib.edxorg.tables.TRAILING],
    ),
    "edxorg": (
        (
            ol_orchestrate.lib.edxorg.tables.ARCHIVE_MEMBERS,
            *ol_orchestrate.resources.edxorg_catalog.TABLES,
            *edxorg.tables.TABLES,
        ),
        [],
        ["retrieved_at"],
    ),
    "learning_resources": (learning_resources.tables.TABLES, [], ["retrieved_at"]),
}


def _block(text: str, source: str) -> re.Match[str] | None:
    return re.search(
        rf"^<!-- raw-tables: {source} .*?-->\n(?P<body>.*?)^<!-- /raw-tables: {source} -->$",
        text,
        flags=re.DOTALL | re.MULTILINE,
    )


@pytest.mark.parametrize("source", sorted(DOCUMENTED))
def test_contracts_md_lists_the_declared_columns(source: str) -> None:
    tables, leading, trailing = DOCUMENTED[source]
    expected = markdown_table(tables, leading=leading, trailing=trailing)
    text = CONTRACTS.read_text()
    block = _block(text, source)
    assert block, f"{CONTRACTS} has no `<!-- raw-tables: {source} ... -->` block"
    if block["body"] != expected and os.environ.get("UPDATE_SNAPSHOTS"):
        text = text[: block.start("body")] + expected + text[block.end("body") :]
        CONTRACTS.write_text(text)
        return
    assert block["body"] == expected, (
        f"the {source} column lists of {CONTRACTS} are not the declarations' "
        f"(UPDATE_SNAPSHOTS=1 uv run pytest {Path(__file__).relative_to(REPO_ROOT)} rewrites "
        f"them); expected:\n{expected}"
    )
