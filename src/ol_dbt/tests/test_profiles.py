"""The targets of profiles.yml as the developer guide uses them: `-t dev` is the embedded DuckDB,
and a developer's own target on the shared Trino (dev_qa, dev_production) writes every layer to
schemas carrying DBT_SCHEMA_SUFFIX, logs in with DBT_TRINO_USERNAME / DBT_TRINO_PASSWORD, and
compiles with no server and no variables.

dbt runs in a subprocess through its CLI (the way the guide runs it), with an environment
scrubbed of DBT_*/TRINO_*/OL_* so a developer's own .env never changes the outcome.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
LAYERS = {"staging", "intermediate", "marts"}


def _env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DBT_", "TRINO_", "OL_"))
    }
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_USE_COLORS="false", PYTHONUTF8="1")
    env.update(overrides)
    return env


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    target_path: Path

    def manifest(self) -> dict[str, Any]:
        assert self.returncode == 0, self.output[-6000:]
        return json.loads((self.target_path / "manifest.json").read_text())


def _dbt(args: list[str], work_dir: Path, env: dict[str, str]) -> Run:
    target_path = work_dir / "target"
    paths = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    paths += ["--log-path", str(work_dir / "logs")]
    if args[0] != "debug":  # `dbt debug` writes no artifacts and refuses --target-path
        paths += ["--target-path", str(target_path)]
    completed = subprocess.run(
        [sys.executable, "-m", "dbt.cli.main", *args, *paths],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Run(completed.returncode, completed.stdout + completed.stderr, target_path)


def _model_schemas(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (node["database"], node["schema"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def test_dev_target_is_the_embedded_duckdb(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    for args in (["debug", "-t", "dev"], ["debug"]):  # `-t dev` and the profile's default
        run = _dbt(args, tmp_path, _env(OL_WAREHOUSE_PATH=str(warehouse)))
        assert run.returncode == 0, run.output[-4000:]
        assert "adapter type: duckdb" in run.output
        assert f"path: {warehouse}" in run.output
        assert "All checks passed!" in run.output


@pytest.fixture(scope="module")
def personal_parse(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`dbt parse --target dev_production` as a developer whose .env sets the guide's variables."""
    env = _env(
        DBT_SCHEMA_SUFFIX="Alice-Smith",
        DBT_TRINO_USERNAME="alice@example.org",
        DBT_TRINO_PASSWORD="not-a-secret",  # pragma: allowlist secret
    )
    return _dbt(["parse", "--target", "dev_production"], tmp_path_factory.mktemp("dev_prod"), env)


def test_personal_target_writes_suffixed_schemas(personal_parse: Run) -> None:
    manifest = personal_parse.manifest()
    assert manifest["metadata"]["adapter_type"] == "trino"
    assert _model_schemas(manifest) == {
        ("ol_data_lake", f"ol_warehouse_production_alice_smith_{layer}") for layer in LAYERS
    }


def test_personal_target_reads_the_deployments_raw_tables(personal_parse: Run) -> None:
    # Only what dbt writes is suffixed: sources stay the shared raw schemas.
    sources = personal_parse.manifest()["sources"].values()
    assert sources
    assert {source["database"] for source in sources} == {"ol_data_lake"}
    assert all(source["schema"].startswith("ol_warehouse_raw") for source in sources)
    assert not [source for source in sources if "alice" in source["schema"]]


def test_personal_target_logs_in_with_the_guides_variables(tmp_path: Path) -> None:
    # `dbt debug` prints the rendered connection, then fails to reach a closed loopback port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    env = _env(
        TRINO_HOST="127.0.0.1",
        TRINO_PORT=str(closed_port),
        DBT_SCHEMA_SUFFIX="alice",
        DBT_TRINO_USERNAME="alice@example.org",
        DBT_TRINO_PASSWORD="not-a-secret",  # pragma: allowlist secret
        TRINO_USER="service-account",
    )
    run = _dbt(["debug", "--target", "dev_qa"], tmp_path, env)
    assert "user: alice@example.org" in run.output, run.output[-4000:]
    assert "schema: ol_warehouse_qa_alice\n" in run.output
    assert "Connection test: [ERROR]" in run.output
    assert "not-a-secret" not in run.output


def test_personal_target_compiles_with_no_server_and_no_variables(tmp_path: Path) -> None:
    run = _dbt(["compile", "--target", "dev_qa", "--no-populate-cache"], tmp_path, _env())
    manifest = run.manifest()
    assert _model_schemas(manifest) == {
        ("ol_data_lake", f"ol_warehouse_qa_dev_{layer}") for layer in LAYERS
    }
    mart = manifest["nodes"]["model.ol_dbt.fct_openedx__daily_enrollments"]["compiled_code"]
    assert '"ol_data_lake"."ol_warehouse_qa_dev_intermediate"' in mart


def test_deployment_targets_ignore_the_suffix() -> None:
    # qa/production write the deployments' schemas (test_trino_compile.py checks production's).
    outputs = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["ol_dbt"]["outputs"]
    assert outputs["dev"]["type"] == outputs["ci"]["type"] == "duckdb"
    for name in ("qa", "production", "dev_qa", "dev_production"):
        assert outputs[name]["type"] == "trino"
        assert "DBT_TRINO_USERNAME" in outputs[name]["user"]
        assert "DBT_TRINO_PASSWORD" in outputs[name]["password"]
        assert ("DBT_SCHEMA_SUFFIX" in outputs[name]["schema"]) == name.startswith("dev_")
