"""The local Dagster instance (`.data/dagster_home`) shared by `materialize` and the UI."""

from __future__ import annotations

import os
import shutil

import dagster as dg

from ol_orchestrate.lib.environment import PlatformSettings


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
    return dg.DagsterInstance.get()
