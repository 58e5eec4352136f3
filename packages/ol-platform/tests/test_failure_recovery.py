"""Nothing is lost after a crash, a fault or a second command: the next run restores the data.

Each reproduction runs `ol-platform materialize --size small` in its own data folder, breaks it
(kill -9 at a point of the run, or sandbox faults), runs it again, and compares the marts row for
row with a clean run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml
from rich.console import Console

from ol_orchestrate.lib.environment import find_repo_root
from ol_orchestrate.testing import persistent_instance
from ol_platform.lock import data_folder_lock
from ol_platform.materialize import fail_orphaned_runs, materialize_location

ROOT = find_repo_root()
SECRETS_FILE = ROOT / "dg_deployments" / "local" / "secrets.yaml"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DAGSTER_ENV": "dev", "OL_DATA_DIR": str(data_dir), **extra}
    for name in ("OL_LAKE_ROOT", "OL_WAREHOUSE_PATH", "DAGSTER_HOME", "OL_SANDBOX_URL"):
        env.pop(name, None)
    if "OL_SANDBOX_FAULTS" not in extra:
        env.pop("OL_SANDBOX_FAULTS", None)
    return {**env, "PYTHONUNBUFFERED": "1"}


def _materialize(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ol_platform.cli", "materialize", "--size", "small"],
        cwd=ROOT,
        env=_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _kill_when(data_dir: Path, marker: str, delay: float) -> str:
    """Start materialize, kill -9 its process group `delay` s after a line contains `marker`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ol_platform.cli", "materialize", "--size", "small"],
        cwd=ROOT,
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                time.sleep(delay)
                break
        else:
            pytest.fail(f"{marker!r} never appeared:\n{''.join(seen)[-3000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    return "".join(seen)


def _marts(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        # The platform-health marts describe the runs themselves (ids, times, the killed run),
        # which differ between any two commands by design.
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'marts' and not starts_with(table_name, 'fct_platform__') "
            "order by table_name"
        ).fetchall()
        # Everything but when things happened: the extraction time and a content export's
        # creation time (the sandbox's clock, like Canvas's) differ between any two runs.
        return {
            name: connection.execute(
                "select columns(lambda c: c not like '%retrieved_at' "
                "and c not like '%exported_at') "
                f'from "{schema}"."{name}" order by all'
            ).fetchall()
            for schema, name in tables
        }


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple]]]:
    data_dir = tmp_path_factory.mktemp("clean")
    completed = _materialize(data_dir)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    return data_dir, _marts(data_dir)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("marker", "delay"),
    [
        ("Sandbox (small", 0.0),  # while the sandbox writes the landing area
        ("canvas 10002: run", 0.5),  # during a course partition's run
        ("openedx 2026-01-0", 0.3),  # during a tracking-log day's run
        ("lakehouse: run", 4.0),  # during the dbt build
    ],
    ids=["landing", "canvas-partition", "tracking-log-day", "dbt"],
)
def test_kill_then_rerun_gives_the_clean_marts(
    clean: tuple[Path, dict[str, list[tuple]]], tmp_path: Path, marker: str, delay: float
) -> None:
    _kill_when(tmp_path, marker, delay)
    rerun = _materialize(tmp_path)
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    assert _marts(tmp_path) == clean[1]


@pytest.mark.slow
def test_a_course_that_failed_under_faults_lands_on_the_next_run(
    clean: tuple[Path, dict[str, list[tuple]]], tmp_path: Path
) -> None:
    faulty = _materialize(tmp_path, OL_SANDBOX_FAULTS="rate_limit=0.3,server_error=0.3,seed=3")
    assert faulty.returncode in (0, 1), faulty.stdout[-4000:] + faulty.stderr[-4000:]
    if faulty.returncode == 1:
        assert "FAILED in" in faulty.stdout
        assert "Traceback" not in faulty.stdout + faulty.stderr
    healed = _materialize(tmp_path)
    assert healed.returncode == 0, healed.stdout[-4000:] + healed.stderr[-4000:]
    assert _marts(tmp_path) == clean[1]


@pytest.mark.slow
def test_no_sandbox_secret_is_written_anywhere_in_the_data_folder(
    clean: tuple[Path, dict[str, list[tuple]]],
) -> None:
    secrets: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, str) and len(node) >= 8:
            secrets.add(node)

    collect(yaml.safe_load(SECRETS_FILE.read_text()))
    assert secrets
    leaks = []
    for path in clean[0].rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaks += [f"{path}: {s}" for s in secrets if s.encode() in data]
    assert not leaks, leaks


def test_a_second_command_on_the_data_folder_exits_at_once_naming_the_holder(
    tmp_path: Path,
) -> None:
    with data_folder_lock(tmp_path, "test"):
        started = time.monotonic()
        completed = _materialize(tmp_path)
    assert completed.returncode == 3
    assert f"pid {os.getpid()}" in completed.stdout
    assert "in use by `ol-platform test`" in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr
    assert time.monotonic() - started < 60


def test_runs_a_killed_command_left_started_are_marked_failed() -> None:
    @dg.asset(key=["demo", "raw", "thing"])
    def thing() -> None: ...

    with persistent_instance() as instance:
        job = dg.Definitions(assets=[thing]).resolve_implicit_global_asset_job_def()
        run = instance.create_run_for_job(job, run_id="0" * 32)
        instance.handle_run_event(
            run.run_id,
            dg.DagsterEvent(
                event_type_value=dg.DagsterEventType.RUN_START.value, job_name=job.name
            ),
        )
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # type: ignore[union-attr]
        assert fail_orphaned_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
        assert fail_orphaned_runs(instance) == []


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with persistent_instance() as instance:
        yield instance


def test_a_sensor_whose_source_is_down_fails_its_location_in_one_line(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    @dg.asset(key=["demo", "raw", "thing"])
    def thing() -> None: ...

    @dg.sensor(asset_selection=[thing])
    def registry(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        msg = "GET https://canvas.example/api/v1/accounts/1/courses: gave up after 5 attempts"
        raise RuntimeError(msg) from ConnectionError("connection refused")

    defs = dg.Definitions(assets=[thing], sensors=[registry])
    result = materialize_location("demo", defs, instance, Console(file=None), tmp_path)
    assert not result.success
    assert result.sensor_errors == {
        "registry": "RuntimeError: GET https://canvas.example/api/v1/accounts/1/courses: "
        "gave up after 5 attempts"
    }


def test_a_failed_build_never_shows_the_previous_builds_mart_counts(tmp_path: Path) -> None:
    from io import StringIO

    from ol_orchestrate.lib.environment import load_settings
    from ol_platform.materialize import LocationResult, MaterializeReport, print_summary
    from ol_platform.runs import RunOutcome

    failed_dbt = LocationResult(
        "lakehouse",
        runs=[RunOutcome("lakehouse", "f" * 32, success=False, failed_steps=["ol_dbt"])],
    )
    report = MaterializeReport([failed_dbt], None, load_settings({"OL_DATA_DIR": str(tmp_path)}))
    out = StringIO()
    print_summary(report, Console(file=out, width=200))
    text = out.getvalue()
    assert "not rebuilt by this command" in text
    assert "Marts" not in text
    assert "failed lakehouse (run ffffffff): ol_dbt" in text
    assert "FAILED in: lakehouse" in text
