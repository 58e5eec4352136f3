"""Fixtures for the dbt tests: one `dbt build` on DuckDB and one Trino compile per session.

dbt runs in a subprocess (it chdirs into the project and keeps adapter state per process), with
every path it writes (target, logs, warehouse, lake) under pytest's tmp folders, so parallel
test runs and a developer's own `.data/` never collide.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _load_sibling_package(name: str) -> ModuleType:
    # pytest runs with --import-mode=importlib, which puts no test folder on sys.path: load the
    # package by its path, under a name of its own (its modules import each other relatively).
    module_name = f"ol_dbt_tests_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    folder = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(
        module_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


raw_lake = _load_sibling_package("raw_lake")

# Variables that would point dbt somewhere other than the tmp folders of the test session.
_SCRUBBED_PREFIXES = ("DBT_", "TRINO_", "OL_")


def dbt_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(
        {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
            "PYTHONUTF8": "1",
        }
    )
    env.update(overrides)
    return env


@dataclass(frozen=True)
class DbtInvocation:
    returncode: int
    output: str
    target_path: Path

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.target_path / "manifest.json").read_text())

    @property
    def run_results(self) -> dict[str, Any]:
        return json.loads((self.target_path / "run_results.json").read_text())


def run_dbt(args: list[str], *, work_dir: Path, env: dict[str, str]) -> DbtInvocation:
    target_path = work_dir / "target"
    command = [
        sys.executable,
        "-m",
        "dbt.cli.main",
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(work_dir / "logs"),
    ]
    completed = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return DbtInvocation(completed.returncode, completed.stdout + completed.stderr, target_path)


@dataclass(frozen=True)
class DuckDbBuild:
    invocation: DbtInvocation
    lake_root: Path
    warehouse_path: Path


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> DuckDbBuild:
    """`dbt build --target ci` over a freshly written raw lake (models, data and unit tests)."""
    work_dir = tmp_path_factory.mktemp("dbt_ci")
    lake_root = work_dir / "lake"
    raw_lake.write_raw_lake(lake_root)
    warehouse_path = work_dir / "warehouse.duckdb"
    env = dbt_env(
        OL_LAKE_ROOT=str(lake_root),
        OL_WAREHOUSE_PATH=str(warehouse_path),
        OL_PII_SALT=raw_lake.PII_SALT,
    )
    invocation = run_dbt(["build", "--target", "ci"], work_dir=work_dir, env=env)
    return DuckDbBuild(invocation, lake_root, warehouse_path)


@pytest.fixture(scope="module")
def warehouse(duckdb_build: DuckDbBuild) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the warehouse the shared build wrote (the build must pass)."""
    assert duckdb_build.invocation.returncode == 0, duckdb_build.invocation.output[-6000:]
    connection = duckdb.connect(str(duckdb_build.warehouse_path), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def canvas_empty_lake_build(tmp_path_factory: pytest.TempPathFactory) -> DuckDbBuild:
    """`dbt build --target ci` of the Canvas models over a lake no Canvas course has reached."""
    work_dir = tmp_path_factory.mktemp("dbt_ci_canvas_empty")
    lake_root = work_dir / "lake"
    lake_root.mkdir()
    warehouse_path = work_dir / "warehouse.duckdb"
    env = dbt_env(OL_LAKE_ROOT=str(lake_root), OL_WAREHOUSE_PATH=str(warehouse_path))
    selection = [f"path:models/{layer}/canvas" for layer in ("staging", "intermediate", "marts")]
    # cautious: no test that also reads models outside Canvas (the combined marts' checks)
    invocation = run_dbt(
        ["build", "--target", "ci", "--indirect-selection", "cautious", "--select", *selection],
        work_dir=work_dir,
        env=env,
    )
    return DuckDbBuild(invocation, lake_root, warehouse_path)


@pytest.fixture(scope="session")
def combined_empty_lake_build(tmp_path_factory: pytest.TempPathFactory) -> DuckDbBuild:
    """`dbt build --target ci` of the combined marts and everything upstream of them over a lake
    where no source has landed (a platform whose data is missing adds nothing)."""
    work_dir = tmp_path_factory.mktemp("dbt_ci_combined_empty")
    lake_root = work_dir / "lake"
    lake_root.mkdir()
    warehouse_path = work_dir / "warehouse.duckdb"
    env = dbt_env(OL_LAKE_ROOT=str(lake_root), OL_WAREHOUSE_PATH=str(warehouse_path))
    selection = ["+dim_combined__learner", "+fct_combined__course_enrollment"]
    selection.append("+fct_combined__course_engagement")
    # cautious: no test of a model outside the selection (the dims the marts' tests point to)
    args = ["build", "--target", "ci", "--indirect-selection", "cautious", "--select", *selection]
    invocation = run_dbt(args, work_dir=work_dir, env=env)
    return DuckDbBuild(invocation, lake_root, warehouse_path)


@pytest.fixture(scope="session")
def trino_compile(tmp_path_factory: pytest.TempPathFactory) -> DbtInvocation:
    """`dbt compile --target production --no-populate-cache`: no server, no variables."""
    work_dir = tmp_path_factory.mktemp("dbt_production")
    return run_dbt(
        ["compile", "--target", "production", "--no-populate-cache"],
        work_dir=work_dir,
        env=dbt_env(),
    )


@pytest.fixture(scope="session")
def raw_fixture() -> ModuleType:
    """The raw-lake fixture module (its constants name the rows the marts must reflect)."""
    return raw_lake
