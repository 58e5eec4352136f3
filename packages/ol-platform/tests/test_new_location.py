"""A new code location is one folder: scaffolded into a copy of the workspace, it is picked up by
dg, the local and docker workspaces, the compose stack and `ol-platform materialize` with nothing
else edited by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from ol_orchestrate.lib.environment import find_repo_root
from ol_platform.deployment_files import check
from ol_platform.locations import discover_locations, registered_project_paths

ROOT = find_repo_root()
BIN = Path(sys.executable).parent
# What a checkout holds besides its own files: never part of the copy.
NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", ".data", ".mypy_cache", ".ruff_cache", "__pycache__", "logs", "ol_dbt-*"
)

CATALOG_ASSET = '''"""A demo raw table: three rows."""

import dagster as dg

from ol_orchestrate.lib.automation import DAILY_API, raw_asset_automation


@dg.asset(
    key=["demo", "raw", "catalog"],
    group_name="demo",
    kinds={"demo"},
    description="Three demo rows.",
    **raw_asset_automation(DAILY_API),
)
def catalog() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 3})
'''


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this workspace with `ol-platform locations new demo` run in it (and the dbt
    manifest as prepared here, so nothing re-parses)."""
    copy = tmp_path_factory.mktemp("workspace") / "ol-data-platform"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED)
    before = {path: path.read_bytes() for path in copy.rglob("*") if path.is_file()}
    completed = _ol_platform(copy, "locations", "new", "demo")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (copy / "dg_projects" / "demo" / "demo" / "defs" / "catalog.py").write_text(CATALOG_ASSET)
    changed = {
        path.relative_to(copy).as_posix()
        for path in copy.rglob("*")
        if path.is_file() and before.get(path) != path.read_bytes()
    }
    outside = sorted(path for path in changed if not path.startswith("dg_projects/demo/"))
    # Only the derived files change outside the new folder; the dg workspace entry is one line.
    assert outside == [
        "dg_deployments/docker/workspace.yaml",
        "dg_deployments/local/workspace.yaml",
        "docker-compose.yaml",
        "pyproject.toml",
    ]
    return copy


def _env(copy: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "OL_PLATFORM_ROOT": str(copy), "PYTHONPATH": "", **extra}


def _ol_platform(copy: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ol_platform.cli", *args],
        cwd=copy,
        env=_env(copy, **env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_dg_and_the_deployment_files_pick_it_up(workspace: Path) -> None:
    assert "dg_projects/demo" in registered_project_paths(workspace)
    assert "demo" in {location.name for location in discover_locations(workspace)}
    assert check(workspace) == []

    local = yaml.safe_load((workspace / "dg_deployments/local/workspace.yaml").read_text())
    assert {
        "module_name": "demo.definitions",
        "location_name": "demo",
        "working_directory": "../../dg_projects/demo",
    } in [entry["python_module"] for entry in local["load_from"]]
    docker = yaml.safe_load((workspace / "dg_deployments/docker/workspace.yaml").read_text())
    assert {"host": "demo", "port": 4000, "location_name": "demo"} in [
        entry["grpc_server"] for entry in docker["load_from"]
    ]
    compose = yaml.safe_load((workspace / "docker-compose.yaml").read_text())
    service = compose["services"]["demo"]
    assert service["build"] == {
        "context": ".",
        "target": "code-location",
        "args": {"LOCATION": "demo", "DAGSTER_ENV": "dev"},
    }
    assert "demo" in compose["services"]["webserver"]["depends_on"]
    assert "demo" in compose["services"]["daemon"]["depends_on"]


@pytest.mark.slow
def test_dg_check_defs_loads_it(workspace: Path) -> None:
    completed = subprocess.run(
        [str(BIN / "dg"), "check", "defs", "--use-active-venv"],
        cwd=workspace,
        env=_env(workspace),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "All definitions loaded successfully" in completed.stdout + completed.stderr


@pytest.mark.slow
def test_materialize_runs_it(workspace: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    completed = _ol_platform(
        workspace,
        "materialize",
        "--size",
        "small",
        "--location",
        "demo",
        OL_DATA_DIR=str(data),
        DAGSTER_HOME=str(data / "dagster_home"),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "demo" in completed.stdout
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    try:
        record = instance.get_latest_materialization_event(dg.AssetKey(["demo", "raw", "catalog"]))
    finally:
        instance.dispose()
    assert record is not None


def test_an_unknown_location_is_a_clear_error(tmp_path: Path) -> None:
    completed = _ol_platform(ROOT, "materialize", "--location", "nope", OL_DATA_DIR=str(tmp_path))
    assert completed.returncode != 0
    assert "unknown code location(s) nope" in completed.stdout + completed.stderr
