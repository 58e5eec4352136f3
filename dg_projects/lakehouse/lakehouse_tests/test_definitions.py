"""The lakehouse location loads in every environment from the prepared manifest alone.

The graph is compared with reviewed snapshots, one per warehouse engine (the dbt assets' kinds
are `duckdb` in dev/ci and `trino` in qa/production). After an intended change to the graph,
regenerate them with `UPDATE_SNAPSHOTS=1 uv run pytest dg_projects/lakehouse` and commit them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ol_orchestrate.lib.automation import is_raw_key
from ol_orchestrate.lib.dbt_manifest import DbtManifestMissingError, is_manifest_fresh
from ol_orchestrate.testing import (
    assert_matches_snapshot,
    asset_key_lines,
    environment,
    load_definitions,
)

HERE = Path(__file__).parent
SNAPSHOTS = {
    "duckdb": HERE / "asset_keys.duckdb.snapshot",
    "trino": HERE / "asset_keys.trino.snapshot",
}
# Nothing may be reached while loading: an unroutable Vault, no token, no Superset credentials.
NO_CREDENTIALS = {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}


def _refuse_subprocess(*args: Any, **kwargs: Any) -> None:
    raise AssertionError(f"a subprocess was started while loading: {args[:1]}")


@pytest.fixture
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading must not run dbt (or anything else)."""
    monkeypatch.setattr(subprocess, "Popen", _refuse_subprocess)
    monkeypatch.setattr(subprocess, "run", _refuse_subprocess)
    monkeypatch.setattr(subprocess, "check_output", _refuse_subprocess)


@pytest.mark.parametrize(
    ("env", "engine"),
    [("dev", "duckdb"), ("ci", "duckdb"), ("qa", "trino"), ("production", "trino")],
)
def test_loads_in_every_environment_without_credentials(
    env: str, engine: str, no_subprocess: None
) -> None:
    with environment(env, NO_CREDENTIALS):
        defs = load_definitions("lakehouse.definitions")
        assert_matches_snapshot(asset_key_lines(defs), SNAPSHOTS[engine])
        resources = dict(defs.resources or {})
        assert resources["dbt"].target == env
        assert resources["superset"].is_configured is False
        assert {"secrets", "io_manager", "dbt", "superset"} <= set(resources)


def test_every_model_and_mart_is_an_asset(prepared_manifest: dict[str, Any]) -> None:
    with environment("dev"):
        defs = load_definitions("lakehouse.definitions")
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    models = [n for n in prepared_manifest["nodes"].values() if n["resource_type"] == "model"]
    assert models, "the dbt project has no models"
    for model in models:
        assert any(key.endswith(f"/{model['name']}") for key in keys), model["name"]
    # dbt data tests are asset checks on the models they test (the Airbyte tables' checks are
    # the platform's freshness checks).
    tests = [n for n in prepared_manifest["nodes"].values() if n["resource_type"] == "test"]
    dbt_checks = [k for k in graph.asset_check_keys if not is_raw_key(k.asset_key)]
    assert len(dbt_checks) == len(tests)


def test_build_job_covers_dbt_and_superset() -> None:
    with environment("dev"):
        defs = load_definitions("lakehouse.definitions")
    job = defs.resolve_job_def("build_warehouse_and_publish")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert "openedx/marts/dim_openedx__course_run" in selected
    assert "superset/dataset/dim_openedx__course_run" in selected
    assert not any(key.startswith("openedx/raw/") for key in selected)


def test_superset_url_configures_publishing() -> None:
    with environment("qa", {**NO_CREDENTIALS, "SUPERSET_URL": "https://bi-qa.example.org/"}):
        defs = load_definitions("lakehouse.definitions")
        superset = dict(defs.resources or {})["superset"]
    assert superset.base_url == "https://bi-qa.example.org"
    assert superset.database_name == "Trino"


def test_missing_manifest_explains_how_to_prepare(
    tmp_path: Path, dev_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "workspace"
    shutil.copytree(
        dev_project.project_dir,
        root / "src" / "ol_dbt",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    try:
        with (
            environment("dev", {"OL_PLATFORM_ROOT": str(root)}),
            pytest.raises(DbtManifestMissingError, match="uv run ol-platform prepare"),
        ):
            load_definitions("lakehouse.definitions")
        # Under `dagster dev` / `dg` (DAGSTER_IS_DEV_CLI) the same load prepares it
        # (`prepare_if_dev`), and the next load only checks the fingerprint: no dbt.
        monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")
        with environment("dev", {"OL_PLATFORM_ROOT": str(root)}):
            load_definitions("lakehouse.definitions")
        assert is_manifest_fresh(root / "src" / "ol_dbt", "dev")
        with monkeypatch.context() as patch:
            patch.setattr(subprocess, "run", _refuse_subprocess)
            with environment("dev", {"OL_PLATFORM_ROOT": str(root)}):
                defs = load_definitions("lakehouse.definitions")
        assert defs.resolve_asset_graph().get_all_asset_keys()
    finally:
        monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
        # Leave a loadable module behind for the other tests.
        with environment("dev"):
            assert isinstance(load_definitions("lakehouse.definitions"), dg.Definitions)


def test_corrupt_manifest_explains_how_to_prepare(tmp_path: Path, dev_project: Any) -> None:
    project_dir = tmp_path / "workspace" / "src" / "ol_dbt"
    shutil.copytree(
        dev_project.project_dir,
        project_dir,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    (project_dir / "target").mkdir()
    (project_dir / "target" / "manifest.json").write_text("{not json")
    try:
        with (
            environment("dev", {"OL_PLATFORM_ROOT": str(project_dir.parents[1])}),
            pytest.raises(DbtManifestMissingError, match=r"could not be read.*ol-platform prepare"),
        ):
            load_definitions("lakehouse.definitions")
    finally:
        with environment("dev"):
            assert isinstance(load_definitions("lakehouse.definitions"), dg.Definitions)
