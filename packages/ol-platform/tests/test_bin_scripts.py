"""The developer scripts in bin/, run the way the platform guide runs them (from the repo root).

`dbt-create-staging-models.py` runs against a lake of Parquet written here and a copy of the dbt
project's configuration and macros (never the real models folder); what it generates is built by
dbt on DuckDB and compiled for Trino. Its Trino path is driven with a fake DB-API connection (no
Trino server exists here). `uv-operations.py` runs with a bare `python -S` (standard library
only), with --dry-run or a fake `uv` first on PATH, so nothing reaches the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
import yaml

from ol_platform import dbt_staging

REPO = Path(__file__).resolve().parents[3]
DBT_PROJECT = REPO / "src" / "ol_dbt"
STAGING_SCRIPT = "bin/dbt-create-staging-models.py"
UV_SCRIPT = "bin/uv-operations.py"
PII_SALT = "test-salt"


# ---------------------------------------------------------------------------------------------
# Fixtures: a raw lake, a scratch dbt project, running the scripts and dbt
# ---------------------------------------------------------------------------------------------


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def write_lake(lake: Path) -> None:
    """raw/canvas/{quizzes, quiz_submissions, assignments}, as the lake IO manager lays them out."""
    for course, ids in (("101", [1, 2]), ("102", [3])):  # one object per course (dt=<course id>)
        _write(
            lake / "raw" / "canvas" / "quizzes" / f"dt={course}" / "data.parquet",
            pa.table(
                {
                    "course_id": [course] * len(ids),
                    "id": pa.array(ids, pa.int64()),
                    "title": [f"Quiz {i}" for i in ids],
                    "points_possible": pa.array([10.0] + [None] * (len(ids) - 1), pa.float64()),
                    "published": [True] * len(ids),
                    "created_at": ["2024-01-02T03:04:05+02:00"] + [None] * (len(ids) - 1),
                    "due_at": pa.array(
                        [dt.datetime(2024, 2, 1, 12, tzinfo=dt.UTC)] * len(ids),
                        pa.timestamp("us", tz="UTC"),
                    ),
                    "tags": pa.array([["graded"]] * len(ids), pa.list_(pa.string())),
                }
            ),
        )
    # a daily partition: its date is a column of the table only through the folder
    _write(
        lake / "raw" / "canvas" / "quiz_submissions" / "dt=2024-01-02" / "data.parquet",
        pa.table(
            {
                "id": pa.array([7, 8], pa.int32()),
                "user_email": ["Ada@Example.org", None],
                "username": ["ada", ""],
                "First Name": ["Ada", "Grace"],
                "ip_address": ["10.0.0.1", "10.0.0.2"],
                "score": pa.array([3, 4], pa.uint32()),
            }
        ),
    )
    _write(lake / "raw" / "canvas" / "assignments" / "data.parquet", pa.table({"id": ["a1"]}))


def make_project(root: Path) -> Path:
    """The dbt project's configuration and macros with an empty models folder."""
    project = root / "ol_dbt"
    project.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_PROJECT / name, project / name)
    for folder in ("macros", "data_tests"):
        shutil.copytree(DBT_PROJECT / folder, project / folder)
    (project / "models").mkdir()
    return project


def script_env(**overrides: str) -> dict[str, str]:
    """The environment without anything pointing dbt or the platform elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DBT_", "TRINO_", "OL_", "DAGSTER_"))
    }
    env.update({"DAGSTER_ENV": "ci", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    env.update(overrides)
    return env


def run_staging(args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`uv run python bin/dbt-create-staging-models.py ...` (this interpreter is that python)."""
    return subprocess.run(
        [sys.executable, STAGING_SCRIPT, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_dbt(project: Path, args: Sequence[str], env: dict[str, str]) -> str:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]
    return completed.stdout


@dataclass(frozen=True)
class Workspace:
    lake: Path
    project: Path
    env: dict[str, str]

    @property
    def staging(self) -> Path:
        return self.project / "models" / "staging" / "canvas"

    def generate_all(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_staging(
            [
                "generate-all",
                "--schema",
                "canvas",
                "--prefix",
                "quiz",
                "--target",
                "ci",
                "--project-dir",
                str(self.project),
                *extra,
            ],
            self.env,
        )


def _workspace(root: Path) -> Workspace:
    lake = root / "lake"
    write_lake(lake)
    env = script_env(OL_LAKE_ROOT=str(lake))
    return Workspace(lake, make_project(root), env)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return _workspace(tmp_path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One `generate-all` over the test lake, shared by the read-only tests."""
    workspace = _workspace(tmp_path_factory.mktemp("generated"))
    completed = workspace.generate_all()
    assert completed.returncode == 0, completed.stderr
    return workspace


def _sources(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    (source,) = document["sources"]
    (table,) = source["tables"]
    return {"source": source, "table": table, "models": document["models"]}


def _files(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------------------------------------
# dbt-create-staging-models.py
# ---------------------------------------------------------------------------------------------


def test_staging_script_help_runs_with_uv_run() -> None:
    uv = shutil.which("uv")
    command = [uv, "run", "--no-sync", "python"] if uv else [sys.executable]
    for args in ([], ["generate-all"], ["generate"]):
        completed = subprocess.run(
            [*command, STAGING_SCRIPT, *args, "--help"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert "usage: bin/dbt-create-staging-models.py" in completed.stdout
    assert "--schema" in completed.stdout
    assert "--table" in completed.stdout


def test_generate_all_writes_a_source_and_a_model_per_matching_table(
    generated: Workspace,
) -> None:
    names = sorted(p.name for p in generated.staging.iterdir())
    assert names == [
        "_stg_canvas__quiz_submissions.yml",
        "_stg_canvas__quizzes.yml",
        "stg_canvas__quiz_submissions.sql",
        "stg_canvas__quizzes.sql",
    ]  # `assignments` does not start with the prefix

    quizzes = _sources(generated.staging / "_stg_canvas__quizzes.yml")
    assert quizzes["source"]["name"] == "canvas"
    assert quizzes["table"]["name"] == "quizzes"
    assert [(c["name"], c["data_type"]) for c in quizzes["table"]["columns"]] == [
        ("course_id", "varchar"),
        ("id", "bigint"),
        ("title", "varchar"),
        ("points_possible", "double"),
        ("published", "boolean"),
        ("created_at", "varchar"),
        ("due_at", "timestamp with time zone"),
        ("tags", "varchar[]"),
    ]  # dt=<course id> is not read: the course id is in the files
    assert quizzes["table"]["config"]["meta"]["dagster"]["asset_key"] == [
        "canvas",
        "raw",
        "quizzes",
    ]
    assert "hive_partitioning = false" in quizzes["table"]["config"]["external_location"]
    assert [m["name"] for m in quizzes["models"]] == ["stg_canvas__quizzes"]

    submissions = _sources(generated.staging / "_stg_canvas__quiz_submissions.yml")
    columns = {c["name"]: c for c in submissions["table"]["columns"]}
    assert {name: c["data_type"] for name, c in columns.items()} == {
        "id": "integer",
        "user_email": "varchar",
        "username": "varchar",
        "First Name": "varchar",
        "ip_address": "varchar",
        "score": "bigint",  # uint32 widened to a type Trino has
        "dt": "date",  # the daily partition, read from the folder
    }
    assert "hive_partitioning = true" in submissions["table"]["config"]["external_location"]
    personal = {
        name
        for name, c in columns.items()
        if c.get("config", {}).get("meta", {}).get("contains_pii")
    }
    assert personal == {"user_email", "username", "First Name", "ip_address"}


def test_generated_model_follows_the_staging_conventions(generated: Workspace) -> None:
    sql = (generated.staging / "stg_canvas__quizzes.sql").read_text()
    body = sql.split("\n", 3)[3]
    assert body.startswith(
        "with source as (\n    select * from {{ lake_source_or_empty('canvas', 'quizzes') }}\n),"
    )
    assert "renamed as (" in body
    assert body.rstrip().endswith("select * from renamed")
    for line in (
        "cast(id as bigint) as quiz_id,",
        "cast(title as varchar) as quiz_title,",
        "cast(published as boolean) as quiz_is_published,",
        "{{ cast_timestamp('created_at') }} as created_at,",
        "{{ to_utc_timestamp('due_at') }} as due_at,",
    ):
        assert line in body
    submissions = (generated.staging / "stg_canvas__quiz_submissions.sql").read_text()
    assert "{{ hash_pii(\"lower(nullif(user_email, ''))\") }} as user_email_hash," in submissions
    assert "{{ hash_pii(\"nullif(username, '')\") }} as user_username_hash," in submissions
    assert "as first_name_hash," in submissions
    assert "{{ hash_pii(\"nullif(ip_address, '')\") }} as user_ip_address_hash," in submissions


def test_generated_models_build_on_duckdb_and_hash_personal_data(
    generated: Workspace, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**generated.env, "OL_WAREHOUSE_PATH": str(warehouse), "OL_PII_SALT": PII_SALT}
    run_dbt(generated.project, ["run", "--target", "ci"], env)

    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        quizzes = connection.execute(
            "select course_id, quiz_id, quiz_title, points_possible, quiz_is_published, "
            "created_at, due_at, tags from staging.stg_canvas__quizzes order by quiz_id"
        ).fetchall()
        cursor = connection.execute(
            "select * from staging.stg_canvas__quiz_submissions order by quiz_submission_id"
        )
        header = [d[0] for d in cursor.description]
        submissions = [dict(zip(header, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()

    assert [row[:5] for row in quizzes] == [
        ("101", 1, "Quiz 1", 10.0, True),
        ("101", 2, "Quiz 2", None, True),
        ("102", 3, "Quiz 3", 10.0, True),
    ]
    # the ISO string with an offset is parsed and converted to UTC; the zoned timestamp too
    assert quizzes[0][5] == dt.datetime(2024, 1, 2, 1, 4, 5)
    assert quizzes[1][5] is None
    assert quizzes[0][6] == dt.datetime(2024, 2, 1, 12, 0)
    assert quizzes[0][7] == ["graded"]

    def salted(value: str) -> str:
        return hashlib.sha256(f"{PII_SALT}{value}".encode()).hexdigest()

    assert header == [
        "quiz_submission_id",
        "user_email_hash",
        "user_username_hash",
        "first_name_hash",
        "user_ip_address_hash",
        "score",
        "dt",
    ]
    first, second = submissions
    assert first["user_email_hash"] == salted("ada@example.org")  # case-folded, then hashed
    assert first["user_username_hash"] == salted("ada")
    assert first["first_name_hash"] == salted("Ada")
    assert first["user_ip_address_hash"] == salted("10.0.0.1")
    assert second["user_email_hash"] is None
    assert second["user_username_hash"] is None  # a blank username is no user
    assert first["dt"] == dt.date(2024, 1, 2)
    raw_values = {"Ada@Example.org", "ada", "Ada", "Grace", "10.0.0.1", "10.0.0.2"}
    assert not raw_values & {str(v) for row in submissions for v in row.values()}


def test_generated_models_compile_for_trino(generated: Workspace, tmp_path: Path) -> None:
    env = {key: value for key, value in generated.env.items() if key != "OL_LAKE_ROOT"}
    run_dbt(
        generated.project,
        [
            "compile",
            "--target",
            "production",
            "--no-populate-cache",
            "--target-path",
            str(tmp_path / "target"),
        ],
        env,
    )
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    compiled = {
        node["name"]: node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    assert set(compiled) == {"stg_canvas__quizzes", "stg_canvas__quiz_submissions"}
    for name, sql in compiled.items():
        assert "read_parquet" not in sql, name
        assert [s for s in sqlglot.parse(sql, read="trino") if s is not None], name
    assert '"ol_data_lake"."ol_warehouse_raw__canvas"."quizzes"' in compiled["stg_canvas__quizzes"]
    assert "to_hex(sha256(to_utf8(" in compiled["stg_canvas__quiz_submissions"]


def test_second_run_without_changes_rewrites_nothing(workspace: Workspace) -> None:
    first = workspace.generate_all()
    assert first.returncode == 0, first.stderr
    before = _files(workspace.staging)

    second = workspace.generate_all()

    assert second.returncode == 0, second.stderr
    assert _files(workspace.staging) == before  # same bytes, same modification times
    assert second.stdout.count(": unchanged") == 4
    assert "0 file(s) written" in second.stdout


def test_a_changed_raw_table_updates_its_generated_files(workspace: Workspace) -> None:
    assert workspace.generate_all().returncode == 0
    submissions_before = (workspace.staging / "stg_canvas__quiz_submissions.sql").read_text()
    _write(
        workspace.lake / "raw" / "canvas" / "quizzes" / "dt=103" / "data.parquet",
        pa.table({"course_id": ["103"], "id": pa.array([9], pa.int64()), "allowed_attempts": [2]}),
    )

    completed = workspace.generate_all()

    assert completed.returncode == 0, completed.stderr
    assert "stg_canvas__quizzes.sql: updated" in completed.stdout
    assert (
        "cast(allowed_attempts as bigint) as allowed_attempts"
        in (workspace.staging / "stg_canvas__quizzes.sql").read_text()
    )
    assert (
        workspace.staging / "stg_canvas__quiz_submissions.sql"
    ).read_text() == submissions_before


def test_a_hand_edited_model_is_not_overwritten(workspace: Workspace) -> None:
    assert workspace.generate_all().returncode == 0
    model = workspace.staging / "stg_canvas__quizzes.sql"
    edited = model.read_text().replace("as quiz_title", "as quiz_name")
    model.write_text(edited)
    hand_written = workspace.staging / "stg_canvas__quiz_submissions.sql"
    hand_written.write_text("select 1 as written_by_a_person\n")  # no generated-file header
    # a raw change that would otherwise regenerate the model
    _write(
        workspace.lake / "raw" / "canvas" / "quizzes" / "dt=103" / "data.parquet",
        pa.table({"course_id": ["103"], "id": pa.array([9], pa.int64()), "allowed_attempts": [2]}),
    )

    completed = workspace.generate_all()

    assert completed.returncode == 0, completed.stderr
    assert model.read_text() == edited
    assert hand_written.read_text() == "select 1 as written_by_a_person\n"
    assert "stg_canvas__quizzes.sql: left alone: edited by hand" in completed.stdout
    assert (
        "stg_canvas__quiz_submissions.sql: left alone: not written by this generator"
        in completed.stdout
    )
    assert "--force" in completed.stdout
    # its YAML was still generated, so it follows the lake
    assert "allowed_attempts" in (workspace.staging / "_stg_canvas__quizzes.yml").read_text()

    forced = workspace.generate_all("--force")

    assert forced.returncode == 0, forced.stderr
    assert "stg_canvas__quizzes.sql: overwritten (--force)" in forced.stdout
    assert "as quiz_title" in model.read_text()
    assert "allowed_attempts" in model.read_text()


def test_a_table_declared_by_hand_is_skipped(workspace: Workspace) -> None:
    hand_written = workspace.project / "models" / "staging" / "canvas" / "_canvas__sources.yml"
    hand_written.parent.mkdir(parents=True)
    hand_written.write_text(
        "version: 2\nsources:\n  - name: canvas\n    tables:\n      - name: quiz_submissions\n"
    )

    completed = workspace.generate_all()

    assert completed.returncode == 0, completed.stderr
    assert (
        "skipped: the table is already declared in models/staging/canvas/_canvas__sources.yml"
        in (completed.stdout)
    )
    assert not (workspace.staging / "stg_canvas__quiz_submissions.sql").exists()
    assert (workspace.staging / "stg_canvas__quizzes.sql").exists()


def test_generate_writes_one_table_and_dry_run_writes_nothing(workspace: Workspace) -> None:
    common = ["--schema", "raw__canvas", "--target", "ci", "--project-dir", str(workspace.project)]
    dry = run_staging(["generate", "--table", "quizzes", "--dry-run", *common], workspace.env)
    assert dry.returncode == 0, dry.stderr
    assert "stg_canvas__quizzes.sql: would be created" in dry.stdout
    assert not workspace.staging.exists()

    completed = run_staging(["generate", "--table", "quizzes", *common], workspace.env)

    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in workspace.staging.iterdir()) == [
        "_stg_canvas__quizzes.yml",
        "stg_canvas__quizzes.sql",
    ]


def test_nothing_to_read_is_a_clear_error(workspace: Workspace) -> None:
    unknown = run_staging(
        [
            "generate-all",
            "--schema",
            "moodle",
            "--target",
            "ci",
            "--project-dir",
            str(workspace.project),
        ],
        workspace.env,
    )
    assert unknown.returncode == 1
    assert "no lake folder" in unknown.stderr
    assert "canvas" in unknown.stderr  # names the folders there are
    assert "Traceback" not in unknown.stderr

    no_match = workspace.generate_all("--prefix", "nothing_like_this")
    assert no_match.returncode == 1
    assert "no raw table starting with 'nothing_like_this'" in no_match.stderr

    bad_target = workspace.generate_all("--target", "staging")
    assert bad_target.returncode == 2
    assert "no target 'staging'" in bad_target.stderr


# --- the Trino path, against a fake DB-API connection -----------------------------------------


class FakeCursor:
    def __init__(self, rows: list[tuple[str, str, str]], log: list[tuple[str, Any]]) -> None:
        self.rows, self.log = rows, log

    def execute(self, operation: str, parameters: Sequence[Any] = ()) -> None:
        self.log.append((operation, list(parameters)))

    def fetchall(self) -> list[tuple[str, str, str]]:
        # every row of the schema, as a server reading `_` as a wildcard would match them
        return self.rows


class FakeConnection:
    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        self.rows = rows
        self.log: list[tuple[str, Any]] = []
        self.closed = False

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.rows, self.log)

    def close(self) -> None:
        self.closed = True


INFORMATION_SCHEMA_ROWS = [
    ("raw__mitlearn__app__postgres__user_profile", "id", "bigint"),
    ("raw__mitlearn__app__postgres__user_profile", "name", "varchar(255)"),
    ("raw__mitlearn__app__postgres__user_profile", "email", "varchar"),
    ("raw__mitlearn__app__postgres__user_profile", "is_active", "boolean"),
    ("raw__mitlearn__app__postgres__user_profile", "updated_on", "timestamp(6) with time zone"),
    ("raw__mitlearn__app__postgres__user_profile", "scores", "array(double)"),
    ("raw__mitlearn__app__postgres__user_profile", "balance", "decimal(10, 2)"),
    ("rawx_mitlearn__app__postgres__user", "id", "bigint"),  # `_` matched as a wildcard
    ("raw__mitlearn__app__postgres__course", "id", "bigint"),
]


def test_trino_target_reads_information_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    for name in list(os.environ):
        if name.startswith(("TRINO_", "OL_RAW_", "DBT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRINO_HOST", "trino.example.org")
    monkeypatch.setenv("TRINO_AUTH_METHOD", "ldap")
    monkeypatch.setenv("TRINO_USER", "analyst")
    monkeypatch.setenv("TRINO_PASSWORD", "not-a-secret")  # pragma: allowlist secret
    connection = FakeConnection(INFORMATION_SCHEMA_ROWS)
    profiles: list[dict[str, Any]] = []

    def connect(profile: dict[str, Any]) -> FakeConnection:
        profiles.append(profile)
        return connection

    code = dbt_staging.main(
        [
            "generate-all",
            "--schema",
            "ol_warehouse_production_raw",
            "--prefix",
            "raw__mitlearn__app__postgres__user",
            "--target",
            "production",
            "--project-dir",
            str(project),
        ],
        connect=connect,
    )

    assert code == 0, capsys.readouterr().err
    # the profile's own variables, rendered the way dbt renders them
    (profile,) = profiles
    assert profile["type"] == "trino"
    assert profile["host"] == "trino.example.org"
    assert profile["port"] == "443"
    assert profile["method"] == "ldap"
    assert profile["user"] == "analyst"
    assert profile["database"] == "ol_data_lake"
    assert connection.closed
    ((sql, parameters),) = connection.log
    assert 'from "ol_data_lake".information_schema.columns' in sql
    assert parameters == [
        "ol_warehouse_production_raw",
        "raw\\_\\_mitlearn\\_\\_app\\_\\_postgres\\_\\_user%",
    ]
    assert sqlglot.parse_one(sql.replace("?", "'x'"), read="trino") is not None

    folder = project / "models" / "staging" / "raw"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "_stg_raw__mitlearn__app__postgres__user_profile.yml",
        "stg_raw__mitlearn__app__postgres__user_profile.sql",
    ]
    generated = _sources(folder / "_stg_raw__mitlearn__app__postgres__user_profile.yml")
    assert [(c["name"], c["data_type"]) for c in generated["table"]["columns"]] == [
        ("id", "bigint"),
        ("name", "varchar"),
        ("email", "varchar"),
        ("is_active", "boolean"),
        ("updated_on", "timestamp with time zone"),
        ("scores", "array(double)"),
        ("balance", "decimal(10,2)"),
    ]
    assert (
        "env_var('OL_RAW_RAW_SCHEMA', 'ol_warehouse_production_raw')"
        in generated["source"]["schema"]
    )
    sql_model = (folder / "stg_raw__mitlearn__app__postgres__user_profile.sql").read_text()
    for line in (
        "cast(id as bigint) as user_profile_id,",
        "{{ hash_pii(\"nullif(name, '')\") }} as user_profile_name_hash,",
        "{{ hash_pii(\"lower(nullif(email, ''))\") }} as user_email_hash,",
        "cast(is_active as boolean) as user_profile_is_active,",
        "{{ to_utc_timestamp('updated_on') }} as updated_on,",
        "scores,",
        "cast(balance as decimal(10,2)) as balance",
    ):
        assert line in sql_model


def test_an_unreachable_trino_is_one_line_naming_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRINO_HOST", "trino.invalid")
    monkeypatch.setenv("TRINO_PORT", "8443")

    def connect(profile: dict[str, Any]) -> FakeConnection:
        raise ConnectionError("connection refused")

    code = dbt_staging.main(
        [
            "generate-all",
            "--schema",
            "ol_warehouse_raw__canvas",
            "--target",
            "qa",
            "--project-dir",
            str(make_project(tmp_path)),
        ],
        connect=connect,
    )

    assert code == 1
    error = capsys.readouterr().err
    assert "on Trino at trino.invalid:8443" in error
    assert "connection refused" in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    "value",
    ["course_id", "nullif(email, '')", "nullif(\"First Name\", '')", "a\\b", 'it\'s "both"'],
)
def test_macro_arguments_survive_jinja(value: str) -> None:
    import jinja2

    literal = dbt_staging._jinja_string(value)
    environment = jinja2.Environment(autoescape=False)  # noqa: S701 - SQL, not HTML
    assert environment.from_string(f"{{{{ {literal} }}}}").render() == value


def test_information_schema_mapping() -> None:
    sql, parameters = dbt_staging.information_schema_query('cat"alog', "raw", "a_b%")
    assert 'from "cat""alog".information_schema.columns' in sql
    assert "escape '\\'" in sql
    assert parameters == ["raw", "a\\_b\\%%"]
    tables = dbt_staging.tables_from_information_schema(
        [("t2", "b", "VARCHAR(10)"), ("t1", "a", "timestamp(3)"), ("t1", "c", "real")],
        source="s",
        schema="raw",
    )
    assert [(t.name, [(c.name, c.data_type) for c in t.columns]) for t in tables] == [
        ("t1", [("a", "timestamp"), ("c", "real")]),
        ("t2", [("b", "varchar")]),
    ]


@pytest.mark.parametrize(
    ("column", "table", "personal"),
    [
        ("email", "users", True),
        ("user_email", "enrollments", True),
        ("username", "enrollments", True),
        ("login_id", "users", True),
        ("first_name", "auth_userprofile", True),
        ("sortable_name", "users", True),
        ("name", "auth_userprofile", True),
        ("name", "courses", False),
        ("course_name", "courses", False),
        ("display_name", "course_blocks", False),
        ("ip", "tracking_logs", True),
        ("client_ip", "tracking_logs", True),
        ("phone_number", "users", True),
        ("year_of_birth", "auth_userprofile", True),
        ("sis_user_id", "users", True),
        ("ship_date", "orders", False),
        ("course_id", "enrollments", False),
    ],
)
def test_personal_columns_are_recognised(column: str, table: str, personal: bool) -> None:
    assert (dbt_staging.pii_kind(column, table) is not None) is personal


# ---------------------------------------------------------------------------------------------
# uv-operations.py
# ---------------------------------------------------------------------------------------------


def workspace_member_paths() -> list[str]:
    """The members as the root pyproject.toml declares them (read here independently)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    return [
        folder.relative_to(REPO).as_posix()
        for pattern in config["members"]
        for folder in sorted(REPO.glob(pattern))
        if (folder / "pyproject.toml").is_file()
    ]


def run_uv_operations(
    args: Sequence[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python bin/uv-operations.py ...` with no site-packages: the standard library only."""
    if env is None:  # `uv run` exports UV (its own path), which the script would prefer
        env = {key: value for key, value in os.environ.items() if key != "UV"}
    return subprocess.run(
        [sys.executable, "-S", UV_SCRIPT, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_uv_operations_help() -> None:
    completed = run_uv_operations(["--help"])
    assert completed.returncode == 0, completed.stderr
    for option in ("sync", "lock", "--continue-on-error", "--upgrade", "--dry-run"):
        assert option in completed.stdout


def test_uv_operations_dry_run_lists_every_member() -> None:
    members = workspace_member_paths()
    assert {"packages/ol-platform", "dg_projects/canvas", "dg_projects/lakehouse"} <= set(members)

    sync = run_uv_operations(["sync", "--continue-on-error", "--dry-run"])

    assert sync.returncode == 0, sync.stderr
    planned = [line for line in sync.stdout.splitlines() if line.startswith("==> ")]
    assert len(planned) == len(members) + 1
    assert planned[0].endswith("workspace root: uv sync")
    for line, member in zip(planned[1:], members, strict=True):
        name = tomllib.loads((REPO / member / "pyproject.toml").read_text())["project"]["name"]
        assert line.endswith(f"{member}: uv sync --package {name} --inexact"), line

    lock = run_uv_operations(["lock", "--upgrade", "--dry-run", "--", "--offline"])

    assert lock.returncode == 0, lock.stderr
    planned = [line for line in lock.stdout.splitlines() if line.startswith("==> ")]
    assert planned[0].endswith("workspace root: uv lock --upgrade --offline")
    assert len(planned) == len(members) + 1
    assert all("--locked --dry-run --offline" in line for line in planned[1:])


@pytest.fixture
def fake_uv(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A `uv` first on PATH that logs its arguments and fails for the ol-sandbox member."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "uv.log"
    uv = bin_dir / "uv"
    uv.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        'case " $* " in *" --package ol-sandbox "*) echo "fake uv: no" >&2; exit 3;; esac\n'
        "exit 0\n"
    )
    uv.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("UV", None)
    return env, log


def test_uv_operations_continue_on_error_runs_every_member(
    fake_uv: tuple[dict[str, str], Path],
) -> None:
    env, log = fake_uv
    members = workspace_member_paths()

    completed = run_uv_operations(["sync", "--continue-on-error"], env)

    assert completed.returncode == 1
    calls = log.read_text().splitlines()
    assert len(calls) == len(members) + 1  # the root and every member, the failure included
    assert calls[0] == "sync"
    assert "packages/ol-sandbox" in completed.stderr
    assert "uv sync failed for: packages/ol-sandbox" in completed.stderr
    summary = completed.stdout.split("uv sync:", 1)[1]
    assert "FAILED (exit 3" in summary
    assert summary.count(" ok (") == len(members)


def test_uv_operations_stops_at_the_first_failure_by_default(
    fake_uv: tuple[dict[str, str], Path],
) -> None:
    env, log = fake_uv
    members = workspace_member_paths()
    failing = members.index("packages/ol-sandbox")

    completed = run_uv_operations(["lock", "--upgrade"], env)

    assert completed.returncode == 1
    calls = log.read_text().splitlines()
    assert calls[0] == "lock --upgrade"
    assert len(calls) == failing + 2  # the root, the members before it, and the failing one
    assert "uv lock failed for: packages/ol-sandbox" in completed.stderr
    assert "--continue-on-error" in completed.stderr
    assert completed.stdout.count("not run") == len(members) - failing - 1
