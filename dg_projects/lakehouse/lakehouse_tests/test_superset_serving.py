"""The serving copy Superset reads: the published marts only, replaced atomically, never
touching the warehouse dbt writes except to read it, waiting out a build that holds it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from lakehouse.superset import serving as serving_module
from lakehouse.superset.serving import publish_serving_copy


def _warehouse(path: Path, rows: int = 3, extra_column: bool = False) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute("create schema if not exists staging")
        extra = ", 'x' as added" if extra_column else ""
        connection.execute(
            f"create or replace table marts.fct_a as select range as id{extra} from range({rows})"
        )
        connection.execute("create or replace table marts.dim_b as select 1 as id")
        connection.execute("create or replace table staging.stg_c as select 'secret' as s")


def _tables(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "select schema_name || '.' || table_name from duckdb_tables() order by 1"
        ).fetchall()
        return {
            name: connection.execute(f"select count(*) from {name}").fetchone()[0]  # type: ignore[index]
            for (name,) in names
        }


def test_copies_the_published_marts_only(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "warehouse.serving.duckdb"
    _warehouse(warehouse)

    rows, missing = publish_serving_copy(
        warehouse, serving, [("marts", "fct_a"), ("marts", "dim_b"), ("marts", "fct_not_built")]
    )

    assert rows == {"marts.fct_a": 3, "marts.dim_b": 1}
    assert missing == ["marts.fct_not_built"]
    assert _tables(serving) == {"marts.dim_b": 1, "marts.fct_a": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb", serving.name]


def test_a_new_copy_replaces_the_old_while_a_reader_keeps_its_file(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "warehouse.serving.duckdb"
    _warehouse(warehouse, rows=3)
    publish_serving_copy(warehouse, serving, [("marts", "fct_a")])
    reader = duckdb.connect(str(serving), read_only=True)  # a Superset query in flight
    try:
        _warehouse(warehouse, rows=5, extra_column=True)  # the next build, a new column
        publish_serving_copy(warehouse, serving, [("marts", "fct_a")])

        assert reader.execute("select count(*) from marts.fct_a").fetchone() == (3,)
        # Superset's next query (another process) opens the new file.
        fresh = subprocess.run(
            [sys.executable, "-c",
             "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
             "print(c.execute('select count(*), max(added) from marts.fct_a').fetchone())",
             str(serving)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert fresh.stdout.strip() == "(5, 'x')"
    finally:
        reader.close()
    # DuckDB shares an open database within a process: once the last query closed, the new file.
    with duckdb.connect(str(serving), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.fct_a").fetchone() == (5,)


def test_a_failed_copy_leaves_the_old_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "warehouse.serving.duckdb"
    _warehouse(warehouse)
    publish_serving_copy(warehouse, serving, [("marts", "fct_a")])
    before = serving.read_bytes()

    with pytest.raises(FileNotFoundError, match="build the dbt models first"):
        publish_serving_copy(tmp_path / "missing.duckdb", serving, [("marts", "fct_a")])

    def fail_replace(source: object, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(serving_module.os, "replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        publish_serving_copy(warehouse, serving, [("marts", "fct_a"), ("marts", "dim_b")])
    monkeypatch.undo()

    assert serving.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb", serving.name]


def test_waits_for_a_build_that_holds_the_warehouse(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "warehouse.serving.duckdb"
    _warehouse(warehouse)
    # Another process (dbt) holds the warehouse read-write for two seconds.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(2); c.close()", str(warehouse)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        rows, _ = publish_serving_copy(warehouse, serving, [("marts", "fct_a")], wait=30)
        assert rows == {"marts.fct_a": 3}
        assert time.monotonic() - start > 0.5
    finally:
        holder.wait(timeout=30)
    # A build that holds it longer than the wait: the copy fails (and the asset with it).
    blocker = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(5)", str(warehouse)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert blocker.stdout is not None
        blocker.stdout.readline()
        with pytest.raises(duckdb.IOException):
            publish_serving_copy(warehouse, serving, [("marts", "fct_a")], wait=0.5)
    finally:
        blocker.kill()
        blocker.wait()
