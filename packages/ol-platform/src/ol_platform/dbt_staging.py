"""Generate dbt sources and staging models from the raw tables (`bin/dbt-create-staging-models.py`).

For every raw table it writes two files into `src/ol_dbt/models/staging/<source>/`:

- `_stg_<source>__<table>.yml`: the dbt source entry (columns and `data_type`s, personal columns
  marked `contains_pii`, the asset key `[<source>, raw, <table>]`) and the staging model's entry;
- `stg_<source>__<table>.sql`: the staging model in the project's shape (a `source` CTE through
  `lake_source_or_empty()`, a `renamed` CTE that renames and casts, nothing else).

Where the columns come from depends on the dbt target's type in `profiles.yml`:

- DuckDB (dev, ci): the lake's Parquet. `--schema` names a raw source folder of the lake —
  `canvas` (or its DuckDB schema spelling `raw__canvas`) is `<lake_root>/raw/canvas/`, every
  sub-folder of it a table whose Parquet files (any depth, `dt=` partitions included) are read the
  way the generated source reads them. The lake root is `--lake-root`, else `OL_LAKE_ROOT`, else
  the local lake of `ol_orchestrate.lib.environment` (`.data/lake`).
- Trino (qa, production): `<catalog>.information_schema.columns` for `--schema` (catalog:
  `OL_RAW_CATALOG`, else the profile's `database`), connected with the profile's own variables
  (TRINO_HOST, TRINO_PORT, DBT_TRINO_USERNAME or TRINO_USER, DBT_TRINO_PASSWORD or TRINO_PASSWORD,
  TRINO_AUTH_METHOD, TRINO_HTTP_SCHEME). No Trino server exists in development or CI: the tests
  drive this path with a fake DB-API connection and check the query and the column mapping
  (`information_schema_query`, `tables_from_information_schema`) separately.

The conventions applied (see `plan_columns`): columns become snake_case; `id`, `uuid`, `name`,
`title`, `type` and `status` get the table's entity as prefix (`quizzes.id` -> `quiz_id`); ISO-8601
strings named like times (`*_at`, `*_on`, `*_time`, `created`, `modified`, ...) go through
`cast_timestamp()`, zoned timestamps through `to_utc_timestamp()`; every other scalar is cast to its
warehouse type; personal data (emails, usernames and logins, people's names, IP addresses, phone
numbers, postal addresses, birth dates, SIS and government ids) leaves staging only as
`hash_pii()` (`<column>_hash`). The output is a reviewed starting point, not a final model.

Every generated file starts with a header holding the SHA-256 of the lines below it. A file whose
lines still match is regenerated (and left untouched when nothing changed); a file edited by hand
(or one without the header) is never overwritten — it is reported and left alone, unless
`--force`. A table already declared in a hand-written YAML of the project is skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import duckdb
import yaml

SCRIPT = "bin/dbt-create-staging-models.py"

# ---------------------------------------------------------------------------------------------
# Raw tables and types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawColumn:
    name: str
    data_type: str  # warehouse spelling: varchar, bigint, boolean, timestamp with time zone, ...


@dataclass(frozen=True)
class RawTable:
    source: str  # the dbt source name
    name: str  # the table's name in the lake folder / the catalog
    columns: tuple[RawColumn, ...]
    lake_folder: str = ""  # the lake's raw/<folder>/ the DuckDB source reads (default: source)
    trino_schema: str = ""  # the catalog schema the Trino source reads
    hive_partitioning: bool = False  # DuckDB: `k=v` folders are columns (not in the files)

    @property
    def folder(self) -> str:
        return self.lake_folder or self.source


# Types every engine of the project spells the same way (the sources' `data_type`s).
_SCALAR_TYPES = {
    "varchar": "varchar",
    "text": "varchar",
    "string": "varchar",
    "char": "varchar",
    "bpchar": "varchar",
    "bigint": "bigint",
    "int8": "bigint",
    "long": "bigint",
    "integer": "integer",
    "int": "integer",
    "int4": "integer",
    "smallint": "smallint",
    "int2": "smallint",
    "tinyint": "tinyint",
    "int1": "tinyint",
    # unsigned DuckDB integers widen to the next signed type Trino has
    "utinyint": "smallint",
    "usmallint": "integer",
    "uinteger": "bigint",
    "ubigint": "decimal(20,0)",
    "hugeint": "decimal(38,0)",
    "uhugeint": "decimal(38,0)",
    "double": "double",
    "float8": "double",
    "float": "real",
    "float4": "real",
    "real": "real",
    "boolean": "boolean",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "datetime": "timestamp",
    "timestamp_s": "timestamp",
    "timestamp_ms": "timestamp",
    "timestamp_us": "timestamp",
    "timestamp_ns": "timestamp",
    "timestamp with time zone": "timestamp with time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time",
    "blob": "varbinary",
    "bytea": "varbinary",
    "varbinary": "varbinary",
    "uuid": "uuid",
    "json": "json",
}
_CASTABLE = frozenset(_SCALAR_TYPES.values())
_DECIMAL = re.compile(r"^(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_PRECISION = re.compile(r"\(\s*\d+\s*\)")


def normalize_type(raw_type: str) -> str:
    """The warehouse spelling of a DuckDB (`DESCRIBE`) or Trino (`information_schema`) type.

    Scalars map to the names both engines accept (`VARCHAR(255)` -> `varchar`, `TIMESTAMP_NS` ->
    `timestamp`, `timestamp(6) with time zone` -> `timestamp with time zone`, `UBIGINT` ->
    `decimal(20,0)`); nested and unknown types are kept, lower-cased, as the engine wrote them.
    """
    spelled = " ".join(raw_type.strip().lower().split())
    decimal = _DECIMAL.match(spelled)
    if decimal:
        return f"decimal({decimal.group(1)},{decimal.group(2)})"
    if spelled in ("decimal", "numeric"):
        return "decimal(38,0)"
    if not spelled.startswith(("array", "row", "map", "struct", "union")):
        # varchar(255), char(2), timestamp(3), time(6) with time zone: precision is not the type
        without_precision = _PRECISION.sub("", spelled)
        if without_precision in _SCALAR_TYPES:
            return _SCALAR_TYPES[without_precision]
        if without_precision == "time with time zone":
            return "time"
    return spelled


def is_castable(data_type: str) -> bool:
    return data_type in _CASTABLE or data_type.startswith("decimal(")


# ---------------------------------------------------------------------------------------------
# Naming, personal data and the staging columns
# ---------------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that are not safe as bare identifiers in DuckDB or Trino.
_RESERVED = _words(
    """all alter and any array as asc between both by case cast check collate column constraint
    create cross cube current_date current_time current_timestamp current_user default delete
    desc describe distinct drop else end escape except exists extract false fetch for from full
    group grouping having in inner insert intersect interval into is join lateral leading left
    like limit localtime localtimestamp natural normalize not null offset on or order outer over
    partition position primary range recursive references right rollup row rows select set some
    table then timestamp to trailing true union unique unnest update user using values when where
    window with"""
)
# Column names that read better with the table's entity in front (`quizzes.id` -> `quiz_id`).
_ENTITY_PREFIXED = _words("id uuid name title type status")
# Bare time columns that get the `_at` of the project's timestamps.
_BARE_TIMES = _words("created modified updated deleted")
_TIME_NAMES = _BARE_TIMES | _words("date_joined last_login timestamp time")
_TIME_SUFFIXES = ("_at", "_on", "_time", "_timestamp", "_datetime")
_FLAG_PREFIXES = ("is_", "has_", "can_", "should_", "was_", "will_")


def snake_case(name: str) -> str:
    """`CourseId` -> `course_id`, `First Name` -> `first_name`, `user-email` -> `user_email`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name.strip())
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower()
    snake = re.sub(r"_+", "_", snake) or "column"
    return f"_{snake}" if snake[0].isdigit() else snake


def singular(word: str) -> str:
    """A naive English singular, enough for table names (`quizzes` -> `quiz`)."""
    if word.endswith("ies") and len(word) > 4:
        return f"{word[:-3]}y"
    if word.endswith("zzes"):
        return word[:-3]
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def table_stem(table: str, source: str) -> str:
    """The table's name as models use it: snake_case, without `raw__` and `<source>__` in front."""
    stem = "__".join(snake_case(part) for part in table.split("__") if part)
    for prefix in ("raw__", f"{source}__"):
        if stem.startswith(prefix) and len(stem) > len(prefix):
            stem = stem[len(prefix) :]
    return stem


def entity_of(table: str, source: str) -> str:
    """The entity a table's rows are: the singular of its last `__` segment (`course_runs` ->
    `course_run`, `raw__app__users_user` -> `users_user`)."""
    last = table_stem(table, source).split("__")[-1]
    head, _, tail = last.rpartition("_")
    return f"{head}_{singular(tail)}" if head else singular(tail)


def model_name(source: str, table: str) -> str:
    return f"stg_{source}__{table_stem(table, source)}"


def quote_identifier(name: str) -> str:
    if _IDENTIFIER.match(name) and name not in _RESERVED:
        return name
    escaped = name.replace('"', '""')
    return f'"{escaped}"'


class PiiKind(StrEnum):
    EMAIL = "email address"
    USERNAME = "username or login"
    PERSON_NAME = "person's name"
    IP = "IP address"
    PHONE = "phone number"
    ADDRESS = "postal address"
    BIRTH = "birth date"
    IDENTIFIER = "student or government id"
    CREDENTIAL = "password or credential"


# Tables whose rows are people (a bare `name` there is a person's name) and the words that make
# `<word>_name` a person's name.
_PERSON_WORDS = _words(
    "user users userprofile profile learner student person people author instructor teacher "
    "contact member customer"
)
_NAME_QUALIFIERS = _PERSON_WORDS | _words(
    "first last full given family middle sortable maiden legal preferred display"
)
_USERNAMES = _words("username user_name login login_id login_name user_login screen_name")
_EXACT_PII = {
    "nickname": PiiKind.PERSON_NAME,
    "fullname": PiiKind.PERSON_NAME,
    "firstname": PiiKind.PERSON_NAME,
    "lastname": PiiKind.PERSON_NAME,
    "ipaddress": PiiKind.IP,
    "remote_addr": PiiKind.IP,
    "address": PiiKind.ADDRESS,
    "street": PiiKind.ADDRESS,
    "street_address": PiiKind.ADDRESS,
    "mailing_address": PiiKind.ADDRESS,
    "home_address": PiiKind.ADDRESS,
    "address_line1": PiiKind.ADDRESS,
    "address_line2": PiiKind.ADDRESS,
    "address_line_1": PiiKind.ADDRESS,
    "address_line_2": PiiKind.ADDRESS,
    "date_of_birth": PiiKind.BIRTH,
    "birth_date": PiiKind.BIRTH,
    "birthdate": PiiKind.BIRTH,
    "dob": PiiKind.BIRTH,
    "year_of_birth": PiiKind.BIRTH,
    "ssn": PiiKind.IDENTIFIER,
    "social_security_number": PiiKind.IDENTIFIER,
    "national_id": PiiKind.IDENTIFIER,
    "passport_number": PiiKind.IDENTIFIER,
    "sis_user_id": PiiKind.IDENTIFIER,
    "sis_login_id": PiiKind.IDENTIFIER,
    "password": PiiKind.CREDENTIAL,
}


def pii_kind(column: str, table: str) -> PiiKind | None:
    """The kind of personal data a column holds, judged by its name (and, for a bare `name`,
    by whether the table's rows are people), or None."""
    name = snake_case(column)
    tokens = name.split("_")
    if name in _EXACT_PII:
        return _EXACT_PII[name]
    if "email" in tokens or name.endswith("email") or name == "mail":
        return PiiKind.EMAIL
    if name in _USERNAMES or name.endswith("_username"):
        return PiiKind.USERNAME
    if "ip" in tokens or name.endswith("_ip_address"):
        return PiiKind.IP
    if "phone" in tokens or "mobile" in tokens:
        return PiiKind.PHONE
    if "password" in tokens:
        return PiiKind.CREDENTIAL
    if tokens[-1] == "name":
        if len(tokens) == 1:
            table_words = set(snake_case(table).split("_"))
            return PiiKind.PERSON_NAME if table_words & _PERSON_WORDS else None
        if tokens[-2] in _NAME_QUALIFIERS and not (
            tokens[-2] == "display" and not set(tokens[:-2]) & _PERSON_WORDS
        ):
            return PiiKind.PERSON_NAME
    return None


def looks_like_time(column: str) -> bool:
    name = snake_case(column)
    return name in _TIME_NAMES or name.endswith(_TIME_SUFFIXES)


@dataclass(frozen=True)
class StagingColumn:
    raw: RawColumn
    alias: str
    expression: str  # SQL with the project's macros, as it goes into the model
    description: str
    pii: PiiKind | None = None


def _jinja_string(value: str) -> str:
    """`value` as a Jinja string literal (Jinja reads backslash escapes in every string)."""
    value = value.replace("\\", "\\\\")
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    escaped = value.replace("'", "\\'")
    return f"'{escaped}'"


def _alias_for(column: RawColumn, entity: str, kind: PiiKind | None) -> str:
    name = snake_case(column.name)
    if name in _BARE_TIMES:
        name = f"{name}_at"
    if name in _ENTITY_PREFIXED and not (name == "name" and kind):
        name = f"{entity}_{name}"
    if column.data_type == "boolean" and not name.startswith(f"{entity}_"):
        # flags read as statements about the entity: `published` -> `quiz_is_published`
        name = f"{entity}_{name}" if name.startswith(_FLAG_PREFIXES) else f"{entity}_is_{name}"
    if kind:
        if name in ("email", "username", "login", "ip", "ip_address"):
            name = f"user_{name}"
        elif name == "name":
            name = f"{entity}_name"
        name = f"{name}_hash"
    if name in _RESERVED:
        name = f"{entity}_{name}"
    return name


def plan_columns(table: RawTable) -> list[StagingColumn]:
    """The staging model's columns for `table`: alias, expression and description each."""
    entity = entity_of(table.name, table.source)
    planned: list[StagingColumn] = []
    taken: set[str] = set()
    for column in table.columns:
        kind = pii_kind(column.name, table.name)
        alias = _alias_for(column, entity, kind)
        base, number = alias, 2
        while alias in taken:
            alias, number = f"{base}_{number}", number + 1
        taken.add(alias)
        ref = quote_identifier(column.name)
        data_type = column.data_type
        source_text = f"`{column.name}` ({data_type})"
        if kind:
            value = f"nullif({ref}, '')" if data_type == "varchar" else ref
            if kind is PiiKind.EMAIL and data_type == "varchar":
                value = f"lower({value})"  # addresses are case-insensitive
            expression = f"{{{{ hash_pii({_jinja_string(value)}) }}}}"
            description = (
                f"Salted SHA-256 (hash_pii) of {source_text}: {kind.value}, personal data."
            )
        elif data_type == "varchar" and looks_like_time(column.name):
            expression = f"{{{{ cast_timestamp({_jinja_string(ref)}) }}}}"
            description = f"{source_text} parsed as an ISO-8601 time, in UTC."
        elif data_type == "timestamp with time zone":
            expression = f"{{{{ to_utc_timestamp({_jinja_string(ref)}) }}}}"
            description = f"{source_text} in UTC."
        elif data_type == "timestamp":
            expression = f"cast({ref} as timestamp(6))"
            description = f"From {source_text}."
        elif is_castable(data_type):
            expression = f"cast({ref} as {data_type})"
            description = f"From {source_text}."
        else:
            expression = ref  # nested types: no portable cast, kept as they are
            description = f"From {source_text}, as it is."
        if expression == alias:
            expression = ""
        planned.append(StagingColumn(column, alias, expression, description, kind))
    return planned


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def render_model_sql(table: RawTable, columns: Sequence[StagingColumn] | None = None) -> str:
    """The staging model (without the generated-file header)."""
    columns = plan_columns(table) if columns is None else columns
    source_ref = (
        f"{{{{ lake_source_or_empty({_jinja_string(table.source)}, "
        f"{_jinja_string(table.name)}) }}}}"
    )
    lines = ["with source as (", f"    select * from {source_ref}", "),", "", "renamed as ("]
    lines.append("    select")
    previous_pii = False
    for index, column in enumerate(columns):
        if column.pii and not previous_pii:
            lines.append("        -- personal data: only the salted hash leaves staging")
        previous_pii = column.pii is not None
        comma = "," if index < len(columns) - 1 else ""
        selected = f"{column.expression} as {column.alias}" if column.expression else column.alias
        lines.append(f"        {selected}{comma}")
    lines += ["    from source", ")", "", "select * from renamed", ""]
    return "\n".join(lines)


def lake_source_name(folder: str) -> str:
    return f"raw__{folder}"


def default_trino_schema(source: str) -> str:
    return f"ol_warehouse_raw__{source}"


def render_yaml(table: RawTable, columns: Sequence[StagingColumn] | None = None) -> str:
    """The source entry and the staging model's entry (without the generated-file header)."""
    columns = plan_columns(table) if columns is None else columns
    trino_schema = table.trino_schema or default_trino_schema(table.source)
    schema_var = f"OL_RAW_{re.sub(r'[^0-9A-Z]+', '_', table.source.upper())}_SCHEMA"
    hive = "true" if table.hive_partitioning else "false"
    external_location = (
        "{%- set lake_root = env_var('OL_LAKE_ROOT', '../../.data/lake') "
        '| replace("\'", "\'\'") -%}\n'
        f"read_parquet('{{{{ lake_root }}}}/raw/{table.folder}/{{name}}/**/*.parquet',\n"
        f"union_by_name = true, hive_partitioning = {hive})"
    )
    pii = [column for column in columns if column.pii]
    source_columns: list[dict[str, Any]] = []
    for column in columns:
        entry: dict[str, Any] = {"name": column.raw.name, "data_type": column.raw.data_type}
        if column.pii:
            entry["description"] = (
                f"{column.pii.value[0].upper()}{column.pii.value[1:]}. PERSONAL DATA; "
                "replaced by hash_pii() in staging."
            )
            entry["config"] = {"meta": {"contains_pii": True}}
        source_columns.append(entry)
    description = f"Raw table `{table.name}` of `{table.source}` ({len(columns)} columns)."
    if pii:
        description += " PERSONAL DATA: " + ", ".join(f"`{c.raw.name}`" for c in pii)
        description += " are replaced by hash_pii() in staging."
    document = {
        "version": 2,
        "sources": [
            {
                "name": table.source,
                "database": (
                    "{{ target.database if target.type == 'duckdb'\n"
                    "else env_var('OL_RAW_CATALOG', target.database) }}"
                ),
                "schema": (
                    f"{{{{ '{lake_source_name(table.folder)}' if target.type == 'duckdb'\n"
                    f"else env_var('{schema_var}', '{trino_schema}') }}}}"
                ),
                "tables": [
                    {
                        "name": table.name,
                        "description": description,
                        "config": {
                            "external_location": external_location,
                            "meta": {"dagster": {"asset_key": [table.source, "raw", table.name]}},
                        },
                        "columns": source_columns,
                    }
                ],
            }
        ],
        "models": [
            {
                "name": model_name(table.source, table.name),
                "description": (
                    f"`{table.source}.{table.name}` renamed and cast, one row per raw row"
                    + (", personal data hashed." if pii else ".")
                ),
                "columns": [
                    {"name": column.alias, "description": column.description} for column in columns
                ],
            }
        ],
    }
    return yaml.dump(document, Dumper=_IndentDumper, sort_keys=False, width=100)


class _IndentDumper(yaml.SafeDumper):
    """Sequences indented under their key, as yamllint and the project's YAML have them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_IndentDumper.add_representer(str, _represent_str)


# ---------------------------------------------------------------------------------------------
# Generated files: header with the body's hash, never overwriting a hand edit
# ---------------------------------------------------------------------------------------------

_MARKER = re.compile(r"^(?:--|#) Generated by bin/dbt-create-staging-models\.py ")
_DIGEST = re.compile(r"^(?:--|#) sha256:(?P<digest>[0-9a-f]{64})\s*$")
HEADER_LINES = 3


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def with_header(body: str, comment: str, origin: str) -> str:
    return (
        f"{comment} Generated by {SCRIPT} from {origin}.\n"
        f"{comment} Edit freely: once the lines below differ from this digest, the generator "
        "leaves the file alone.\n"
        f"{comment} sha256:{digest(body)}\n"
        f"{body}"
    )


def split_header(text: str) -> tuple[str | None, str]:
    """(the digest recorded in the header, the body after it); (None, text) without a header."""
    lines = text.splitlines(keepends=True)
    if len(lines) < HEADER_LINES or not _MARKER.match(lines[0]):
        return None, text
    match = _DIGEST.match(lines[HEADER_LINES - 1])
    if not match:
        return None, text
    return match.group("digest"), "".join(lines[HEADER_LINES:])


def is_generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return bool(_MARKER.match(handle.readline()))
    except OSError:
        return False


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    EDITED = "left alone: edited by hand (its lines no longer match the header's hash)"
    HAND_WRITTEN = "left alone: not written by this generator (no generated-file header)"
    OVERWRITTEN = "overwritten (--force)"
    DECLARED = "skipped: the table is already declared"

    @property
    def wrote(self) -> bool:
        return self in (Outcome.CREATED, Outcome.UPDATED, Outcome.OVERWRITTEN)

    @property
    def left_alone(self) -> bool:
        return self in (Outcome.EDITED, Outcome.HAND_WRITTEN, Outcome.DECLARED)


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: Outcome
    detail: str = ""


def write_generated(
    path: Path, body: str, *, comment: str, origin: str, force: bool = False, dry_run: bool = False
) -> FileResult:
    """Write `body` (with its header) to `path` unless a person changed the file since."""
    content = with_header(body, comment, origin)
    outcome = Outcome.CREATED
    if path.exists():
        current = path.read_text(encoding="utf-8")
        recorded, current_body = split_header(current)
        if recorded is not None and digest(current_body) == recorded:
            if current_body == body:
                return FileResult(path, Outcome.UNCHANGED)
            outcome = Outcome.UPDATED
        elif not force:
            return FileResult(
                path, Outcome.EDITED if recorded is not None else Outcome.HAND_WRITTEN
            )
        else:
            outcome = Outcome.OVERWRITTEN
    if not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(content, encoding="utf-8")
        temporary.replace(path)
    return FileResult(path, outcome)


def declared_source_tables(models_dir: Path) -> dict[tuple[str, str], Path]:
    """(source, table) -> the hand-written YAML declaring it (generated files are not counted)."""
    declared: dict[tuple[str, str], Path] = {}
    for path in sorted(models_dir.rglob("*.yml")) + sorted(models_dir.rglob("*.yaml")):
        if is_generated(path):
            continue
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue
        if not isinstance(document, dict):
            continue
        for source in document.get("sources") or []:
            for table in (source or {}).get("tables") or []:
                if isinstance(table, dict) and "name" in table:
                    declared[(str(source.get("name")), str(table["name"]))] = path
    return declared


@dataclass
class GenerationReport:
    results: list[FileResult] = field(default_factory=list)

    @property
    def written(self) -> list[FileResult]:
        return [result for result in self.results if result.outcome.wrote]


def generate_files(
    tables: Iterable[RawTable],
    *,
    project_dir: Path,
    output_dir: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> GenerationReport:
    """Write the source YAML and the staging model of every table (see the module docstring)."""
    report = GenerationReport()
    declared = declared_source_tables(project_dir / "models")
    for table in tables:
        folder = output_dir or project_dir / "models" / "staging" / table.source
        name = model_name(table.source, table.name)
        yaml_path, sql_path = folder / f"_{name}.yml", folder / f"{name}.sql"
        declaring = declared.get((table.source, table.name))
        if declaring is not None:
            where = (
                declaring.relative_to(project_dir)
                if declaring.is_relative_to(project_dir)
                else declaring
            )
            for path in (yaml_path, sql_path):
                report.results.append(FileResult(path, Outcome.DECLARED, f"in {where}"))
            continue
        columns = plan_columns(table)
        origin = f"the raw table {table.source}.{table.name}"
        for path, body, comment in (
            (yaml_path, render_yaml(table, columns), "#"),
            (sql_path, render_model_sql(table, columns), "--"),
        ):
            report.results.append(
                write_generated(
                    path, body, comment=comment, origin=origin, force=force, dry_run=dry_run
                )
            )
    return report


# ---------------------------------------------------------------------------------------------
# Reading the raw tables: the lake (DuckDB targets) or information_schema (Trino targets)
# ---------------------------------------------------------------------------------------------


class RawTablesNotFoundError(LookupError):
    """No raw table matches; the message says where it looked."""


class RawTablesReadError(RuntimeError):
    """The raw tables could not be read (a Trino server that does not answer, a bad file)."""


def derive_source_name(schema: str) -> str:
    """The dbt source name for a raw schema: `raw__canvas`, `ol_warehouse_raw__canvas` and
    `canvas` give `canvas`; a schema of many systems (`ol_warehouse_production_raw`) `raw`."""
    name = schema.strip().strip("/").lower()
    if "raw__" in name:
        return snake_case(name.rsplit("raw__", 1)[1])
    stripped = re.sub(r"^ol_warehouse_", "", name)
    stripped = re.sub(r"^(?:production|qa|dev|ci)(?:_|$)", "", stripped)
    stripped = re.sub(r"(?:^|_)raw$", "", stripped)
    return snake_case(stripped) if stripped else "raw"


def lake_folder_for(schema: str) -> str:
    """The lake's raw source folder `--schema` names on DuckDB targets (`raw__canvas` ->
    `canvas`)."""
    name = schema.strip().strip("/")
    return name.rsplit("raw__", 1)[1] if "raw__" in name else name


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parquet_glob(path: Path) -> str:
    return str(path / "**" / "*.parquet").replace("'", "''")


def lake_tables(
    lake_root: Path, folder: str, *, prefix: str = "", source: str | None = None
) -> list[RawTable]:
    """The raw tables under `<lake_root>/raw/<folder>/` whose names start with `prefix`, with
    their columns as the generated source will read them (DuckDB `DESCRIBE`)."""
    source_dir = lake_root / "raw" / folder
    if not source_dir.is_dir():
        known = sorted(p.name for p in (lake_root / "raw").glob("*") if p.is_dir())
        msg = (
            f"no lake folder {source_dir}: on a DuckDB target --schema names a raw source folder "
            f"of the lake ({', '.join(known) or 'none under ' + str(lake_root / 'raw')})"
        )
        raise RawTablesNotFoundError(msg)
    tables: list[RawTable] = []
    connection = duckdb.connect()
    try:
        for table_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            if not table_dir.name.startswith(prefix) or table_dir.name.startswith((".", "_")):
                continue
            files = sorted(table_dir.rglob("*.parquet"))
            if not files:
                continue
            columns = _describe(connection, table_dir, hive=False)
            # The lake IO manager writes a partition as `dt=<key>/`. Daily partitions (dates) are
            # read as a column, as the tracking logs' and the legacy extracts' sources do; other
            # keys (a course id, a video key) are in the files already, and DuckDB's guess of
            # their type would change with the keys present: not read (as the Canvas sources).
            partitions: dict[str, set[str]] = {}
            for file in files:
                for part in file.relative_to(table_dir).parts[:-1]:
                    if "=" in part:
                        key, value = part.split("=", 1)
                        partitions.setdefault(key, set()).add(value)
            names = {column.name for column in columns}
            hive = bool(partitions) and all(
                key not in names and all(_DATE.match(value) for value in values)
                for key, values in partitions.items()
            )
            if hive:
                columns = _describe(connection, table_dir, hive=True)
            tables.append(
                RawTable(
                    source=source or folder,
                    name=table_dir.name,
                    columns=tuple(columns),
                    lake_folder=folder,
                    hive_partitioning=hive,
                )
            )
    finally:
        connection.close()
    return tables


def _describe(connection: Any, table_dir: Path, *, hive: bool) -> list[RawColumn]:
    rows = connection.execute(
        f"describe select * from read_parquet('{_parquet_glob(table_dir)}', "
        f"union_by_name = true, hive_partitioning = {'true' if hive else 'false'})"
    ).fetchall()
    return [RawColumn(str(row[0]), normalize_type(str(row[1]))) for row in rows]


class DbApiCursor(Protocol):
    def execute(self, operation: str, parameters: Sequence[Any] = ..., /) -> Any: ...
    def fetchall(self) -> Sequence[Sequence[Any]]: ...


class DbApiConnection(Protocol):
    def cursor(self) -> Any: ...
    def close(self) -> None: ...


def _like_prefix(prefix: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", prefix) + "%"


def information_schema_query(catalog: str, schema: str, prefix: str) -> tuple[str, list[str]]:
    """The Trino query listing the columns of `schema`'s tables starting with `prefix` (qmark
    parameters, as the trino client takes them) and its parameters."""
    quoted_catalog = '"' + catalog.replace('"', '""') + '"'
    sql = (
        "select table_name, column_name, data_type\n"
        f"from {quoted_catalog}.information_schema.columns\n"
        "where table_schema = ? and table_name like ? escape '\\'\n"
        "order by table_name, ordinal_position"
    )
    return sql, [schema, _like_prefix(prefix)]


def tables_from_information_schema(
    rows: Iterable[Sequence[Any]], *, source: str, schema: str, prefix: str = ""
) -> list[RawTable]:
    """Raw tables from `(table_name, column_name, data_type)` rows in column order."""
    columns: dict[str, list[RawColumn]] = {}
    for table_name, column_name, data_type in rows:
        if not str(table_name).startswith(prefix):
            continue
        columns.setdefault(str(table_name), []).append(
            RawColumn(str(column_name), normalize_type(str(data_type)))
        )
    return [
        RawTable(source=source, name=name, columns=tuple(cols), trino_schema=schema)
        for name, cols in sorted(columns.items())
    ]


def trino_tables(
    connection: DbApiConnection, *, catalog: str, schema: str, prefix: str, source: str
) -> list[RawTable]:
    sql, parameters = information_schema_query(catalog, schema, prefix)
    cursor = connection.cursor()
    cursor.execute(sql, parameters)
    return tables_from_information_schema(
        cursor.fetchall(), source=source, schema=schema, prefix=prefix
    )


# ---------------------------------------------------------------------------------------------
# The dbt profile
# ---------------------------------------------------------------------------------------------


def load_profile_target(profiles_dir: Path, target: str, profile: str = "ol_dbt") -> dict[str, Any]:
    """The `target` output of `profiles.yml`, its `{{ env_var(...) }}` values rendered the way
    dbt renders them (so the script connects with exactly the variables dbt uses)."""
    import jinja2

    path = profiles_dir / "profiles.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    outputs = (document.get(profile) or {}).get("outputs") or {}
    if target not in outputs:
        msg = (
            f"{path}: profile {profile!r} has no target {target!r} (targets: {', '.join(outputs)})"
        )
        raise KeyError(msg)

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            msg = f"{path}: target {target!r} needs the environment variable {name}"
            raise KeyError(msg)
        return value

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701
    environment.globals["env_var"] = env_var
    rendered: dict[str, Any] = {}
    for key, value in outputs[target].items():
        try:
            rendered[key] = (
                environment.from_string(value).render() if isinstance(value, str) else value
            )
        except jinja2.TemplateError as error:
            msg = f"{path}: target {target!r}, {key}: {error}"
            raise ValueError(msg) from error
    return rendered


def trino_connection(profile: Mapping[str, Any]) -> DbApiConnection:
    """A trino DB-API connection from a rendered dbt-trino profile output."""
    try:
        import trino
    except ImportError as error:  # pragma: no cover - the workspace installs it (dbt-trino)
        msg = "the trino client is not installed: run `uv sync` at the workspace root"
        raise RuntimeError(msg) from error
    auth: Any = None
    if str(profile.get("method", "none")).lower() == "ldap":
        auth = trino.auth.BasicAuthentication(str(profile["user"]), str(profile["password"]))
    connection: DbApiConnection = trino.dbapi.connect(
        host=str(profile["host"]),
        port=int(profile.get("port", 443)),
        user=str(profile.get("user", "dbt")),
        http_scheme=str(profile.get("http_scheme", "https")),
        catalog=str(profile.get("database", "")) or None,
        auth=auth,
    )
    return connection


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _default_project_dir() -> Path:
    from ol_orchestrate.lib.environment import find_repo_root

    return find_repo_root() / "src" / "ol_dbt"


def _default_target() -> str:
    from ol_orchestrate.lib.environment import load_settings

    return os.environ.get("DBT_TARGET") or load_settings().dbt_target


def _default_lake_root() -> Path:
    from ol_orchestrate.lib.environment import load_settings

    # DuckDB targets read the local lake whatever DAGSTER_ENV says (OL_LAKE_ROOT, OL_DATA_DIR).
    return Path(load_settings({**os.environ, "DAGSTER_ENV": "dev"}).lake_root)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=SCRIPT,
        description=(
            "Generate dbt sources (columns and types) and staging models from raw tables: the "
            "lake's Parquet on DuckDB targets (dev, ci), information_schema on Trino targets "
            "(qa, production). Hand-edited files are never overwritten."
        ),
        epilog=(
            "examples:\n"
            f"  uv run python {SCRIPT} generate-all --schema canvas --prefix quiz --target dev\n"
            f"  uv run python {SCRIPT} generate --schema canvas --table quizzes\n"
            f"  uv run python {SCRIPT} generate-all --schema ol_warehouse_production_raw \\\n"
            "      --prefix raw__mitlearn__app__postgres__user --target production"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--schema",
        required=True,
        help=(
            "DuckDB targets: the lake's raw source folder (`canvas` or `raw__canvas` is "
            "<lake>/raw/canvas/); Trino targets: the catalog schema of the raw tables"
        ),
    )
    common.add_argument(
        "--target",
        help="the dbt target of profiles.yml (default: DBT_TARGET, else DAGSTER_ENV's target)",
    )
    common.add_argument(
        "--source",
        help="the dbt source name (default: from --schema: `raw__canvas` -> canvas)",
    )
    common.add_argument(
        "--project-dir", type=Path, help="the dbt project (default: src/ol_dbt of the workspace)"
    )
    common.add_argument(
        "--profiles-dir",
        type=Path,
        help="where profiles.yml is (default: DBT_PROFILES_DIR, else the project)",
    )
    common.add_argument(
        "--output-dir",
        type=Path,
        help="where the files go (default: <project>/models/staging/<source>/)",
    )
    common.add_argument(
        "--lake-root",
        type=Path,
        help="DuckDB targets: the lake (default: OL_LAKE_ROOT, else the local .data/lake)",
    )
    common.add_argument(
        "--catalog", help="Trino targets: the catalog (default: OL_RAW_CATALOG, else the profile's)"
    )
    common.add_argument(
        "--force", action="store_true", help="overwrite files edited by hand (not the default)"
    )
    common.add_argument(
        "--dry-run", action="store_true", help="say what would be written, write nothing"
    )
    every = commands.add_parser(
        "generate-all",
        parents=[common],
        help="every raw table of --schema whose name starts with --prefix",
        description="Generate the source entry and staging model of every matching raw table.",
    )
    every.add_argument("--prefix", default="", help="only tables whose names start with this")
    one = commands.add_parser(
        "generate",
        parents=[common],
        help="one raw table",
        description="Generate the source entry and staging model of one raw table.",
    )
    one.add_argument("--table", required=True, help="the raw table's name")
    return parser


def read_tables(
    args: argparse.Namespace,
    *,
    profile: Mapping[str, Any],
    connect: Any = trino_connection,
) -> list[RawTable]:
    """The raw tables the command line asks for, from the lake or from Trino."""
    prefix = args.table if args.command == "generate" else args.prefix
    adapter = str(profile.get("type", ""))
    if adapter == "duckdb":
        lake_root = args.lake_root or (
            Path(os.environ["OL_LAKE_ROOT"])
            if os.environ.get("OL_LAKE_ROOT")
            else _default_lake_root()
        )
        folder = lake_folder_for(args.schema)
        tables = lake_tables(lake_root, folder, prefix=prefix, source=args.source)
        where = f"{lake_root / 'raw' / folder}"
    elif adapter == "trino":
        catalog = args.catalog or os.environ.get("OL_RAW_CATALOG") or str(profile["database"])
        source = args.source or derive_source_name(args.schema)
        where = f"{catalog}.information_schema.columns (schema {args.schema})"
        try:
            connection = connect(profile)
            try:
                tables = trino_tables(
                    connection, catalog=catalog, schema=args.schema, prefix=prefix, source=source
                )
            finally:
                connection.close()
        except Exception as error:  # the driver's errors: one line naming the server
            server = f"{profile.get('host')}:{profile.get('port')}"
            msg = (
                f"could not read {where} on Trino at {server} (profile target {args.target!r}: "
                "TRINO_HOST, TRINO_PORT, DBT_TRINO_USERNAME, DBT_TRINO_PASSWORD, "
                f"TRINO_AUTH_METHOD): {error}"
            )
            raise RawTablesReadError(msg) from error
    else:
        msg = f"target {args.target!r} is a {adapter or 'typeless'} target: only duckdb and trino"
        raise RawTablesNotFoundError(msg)
    if args.command == "generate":
        tables = [table for table in tables if table.name == args.table]
    if not tables:
        wanted = f"table {args.table!r}" if args.command == "generate" else "table"
        starting = f" starting with {prefix!r}" if prefix and args.command != "generate" else ""
        msg = f"no raw {wanted}{starting} in {where}"
        raise RawTablesNotFoundError(msg)
    return tables


def main(argv: Sequence[str] | None = None, *, connect: Any = trino_connection) -> int:
    """Exit 0 when done (files left alone included), 1 when nothing matched or a read failed,
    2 for a bad option."""
    args = build_parser().parse_args(argv)
    try:
        project_dir = (args.project_dir or _default_project_dir()).resolve()
        args.target = args.target or _default_target()
        profiles_dir = args.profiles_dir or Path(
            os.environ.get("DBT_PROFILES_DIR") or str(project_dir)
        )
        profile = load_profile_target(profiles_dir, args.target)
    except (KeyError, ValueError, OSError) as error:
        print(f"{SCRIPT}: {error}", file=sys.stderr)
        return 2
    try:
        tables = read_tables(args, profile=profile, connect=connect)
    except (RawTablesNotFoundError, RawTablesReadError) as error:
        print(f"{SCRIPT}: {error}", file=sys.stderr)
        return 1
    except duckdb.Error as error:  # an unreadable Parquet file: one line, not a traceback
        print(f"{SCRIPT}: could not read the lake: {error}", file=sys.stderr)
        return 1
    report = generate_files(
        tables,
        project_dir=project_dir,
        output_dir=args.output_dir,
        force=args.force,
        dry_run=args.dry_run,
    )
    verb = "would be " if args.dry_run else ""
    for result in report.results:
        try:
            shown: Path = result.path.relative_to(Path.cwd())
        except ValueError:
            shown = result.path
        outcome = str(result.outcome)
        if result.outcome.wrote:
            outcome = f"{verb}{outcome}"
        detail = f" {result.detail}" if result.detail else ""
        print(f"{shown}: {outcome}{detail}")
    left_alone = [result for result in report.results if result.outcome.left_alone]
    print(
        f"{len(tables)} table(s): {len(report.written)} file(s) {verb}written, "
        f"{len(left_alone)} left alone"
        + (
            "; --force overwrites edited files"
            if any(r.outcome in (Outcome.EDITED, Outcome.HAND_WRITTEN) for r in left_alone)
            else ""
        )
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
