"""The local Dagster instance (`.data/dagster_home`) shared by `materialize` and the UI."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import dagster as dg
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ol_orchestrate.lib.environment import PlatformSettings

_UNSYNCED_HOMES: set[str] = set()


def prepare_dagster_home(settings: PlatformSettings) -> None:
    """Create DAGSTER_HOME with the local instance config and point this process at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(settings.repo_root / "dg_deployments" / "local" / "dagster.yaml", config)
    os.environ["DAGSTER_HOME"] = str(home)


def local_instance(settings: PlatformSettings) -> dg.DagsterInstance:
    prepare_dagster_home(settings)
    skip_fsync_under(settings.dagster_home)
    return dg.DagsterInstance.get()


def skip_fsync_under(home: Path) -> None:
    """Let this process write the SQLite files under `home` (a local instance's storage) without
    waiting for each commit to reach the disk (`PRAGMA synchronous=OFF`).

    Dagster's SQLite storage opens a connection and commits once or twice per event; waiting for
    the disk made a run's bookkeeping most of its time on a loaded machine (a day of tracking
    logs: 0.9 s per run, 60-90 ms per recorded day; benchmarks/README.md). A crash of this process
    loses nothing (the operating system has the writes); an operating-system crash or power loss
    can lose the last writes or damage the run history, which is a local cache: delete
    `.data/dagster_home` and run `ol-platform materialize` again (the lake is untouched, every
    partition is assessed afresh). Deployed instances use Postgres and are not affected.
    """
    _UNSYNCED_HOMES.add(str(Path(home).resolve()))
    if not event.contains(Engine, "connect", _skip_fsync):
        event.listen(Engine, "connect", _skip_fsync)


def _skip_fsync(connection: Any, _record: Any) -> None:
    if not isinstance(connection, sqlite3.Connection):
        return
    row = connection.execute("pragma database_list").fetchone()
    path = str(row[2]) if row and row[2] else ""
    if any(path.startswith(home + os.sep) for home in _UNSYNCED_HOMES):
        connection.execute("pragma synchronous=OFF")
