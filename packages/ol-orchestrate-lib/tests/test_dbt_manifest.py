"""The dbt manifest is parsed once and reused: tests against a throwaway DuckDB dbt project."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from ol_orchestrate.lib import dbt_manifest
from ol_orchestrate.lib.dbt_manifest import (
    DbtManifestMissingError,
    DbtParseError,
    DbtProjectNotFoundError,
    ensure_manifest,
    is_manifest_fresh,
    load_manifest_or_explain,
    manifest_path,
    prepared_target,
    project_fingerprint,
    require_manifest,
)

PROFILES = """\
tiny:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('TINY_WAREHOUSE_PATH') }}"
    other:
      type: duckdb
      path: "{{ env_var('TINY_WAREHOUSE_PATH') }}"
      schema: other_schema
"""


def write_tiny_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "dbt_project.yml").write_text(
        textwrap.dedent(
            """\
            name: tiny
            version: "1.0.0"
            profile: tiny
            model-paths: ["models"]
            macro-paths: ["macros"]
            """
        )
    )
    (root / "profiles.yml").write_text(PROFILES)
    (root / "models" / "first_model.sql").write_text("select 1 as id\n")
    (root / "models" / "schema.yml").write_text(
        textwrap.dedent(
            """\
            version: 2
            models:
              - name: first_model
                description: the first model
                columns:
                  - name: id
                    data_tests: [not_null]
            """
        )
    )
    return root


@pytest.fixture
def dbt_env(tmp_path: Path) -> dict[str, str]:
    # The profile requires this variable: proves `env=` reaches dbt's environment.
    return {"TINY_WAREHOUSE_PATH": str(tmp_path / "tiny.duckdb")}


@pytest.fixture(scope="module")
def prepared_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One parsed project; tests copy it so each parse-free test starts from a fresh manifest."""
    root = write_tiny_project(tmp_path_factory.mktemp("template") / "tiny")
    warehouse = root.parent / "tiny.duckdb"
    ensure_manifest(root, target="dev", env={"TINY_WAREHOUSE_PATH": str(warehouse)})
    return root


@pytest.fixture
def project(prepared_template: Path, tmp_path: Path) -> Path:
    destination = tmp_path / "tiny"
    # copy2 keeps mtimes, so the copied manifest still matches its fingerprint record.
    shutil.copytree(prepared_template, destination, copy_function=shutil.copy2)
    return destination


@pytest.fixture
def no_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"dbt was invoked: {args}")

    monkeypatch.setattr(dbt_manifest.subprocess, "run", fail)


def test_first_ensure_parses(tmp_path: Path, dbt_env: dict[str, str]) -> None:
    root = write_tiny_project(tmp_path / "tiny")
    assert not manifest_path(root).exists()
    assert not is_manifest_fresh(root)

    path = ensure_manifest(root, target="dev", env=dbt_env)

    assert path == root / "target" / "manifest.json"
    manifest = json.loads(path.read_text())
    assert "model.tiny.first_model" in manifest["nodes"]
    assert manifest["metadata"]["adapter_type"] == "duckdb"
    assert is_manifest_fresh(root)
    assert is_manifest_fresh(root, "dev")
    assert prepared_target(root) == "dev"
    # dbt wrote into a scratch folder that is gone; only the manifest and its record remain.
    leftovers = {p.name for p in (root / "target").iterdir()}
    assert leftovers <= {
        "manifest.json",
        "manifest.fingerprint.json",
        "partial_parse.msgpack",
        ".prepare.lock",
    }


def test_second_ensure_is_a_no_op(project: Path, no_dbt: None, dbt_env: dict[str, str]) -> None:
    path = manifest_path(project)
    before = path.stat().st_mtime_ns
    assert is_manifest_fresh(project, "dev")

    assert ensure_manifest(project, target="dev", env=dbt_env) == path

    assert path.stat().st_mtime_ns == before


def test_model_change_makes_the_manifest_stale(project: Path, dbt_env: dict[str, str]) -> None:
    (project / "models" / "first_model.sql").write_text("select 2 as id\n")
    assert not is_manifest_fresh(project)

    ensure_manifest(project, target="dev", env=dbt_env)

    manifest = json.loads(manifest_path(project).read_text())
    assert "select 2" in manifest["nodes"]["model.tiny.first_model"]["raw_code"]
    assert is_manifest_fresh(project)


def test_new_file_and_target_change_make_it_stale(project: Path) -> None:
    fingerprint = project_fingerprint(project)
    (project / "macros" / "helper.sql").write_text("{% macro helper() %}1{% endmacro %}\n")
    assert project_fingerprint(project) != fingerprint
    assert not is_manifest_fresh(project)

    (project / "macros" / "helper.sql").unlink()
    assert is_manifest_fresh(project, "dev")
    # Node schemas depend on the target, so a manifest for another target is not reused.
    assert not is_manifest_fresh(project, "other")


def test_editor_litter_does_not_change_the_fingerprint(project: Path) -> None:
    fingerprint = project_fingerprint(project)
    (project / "models" / ".first_model.sql.swp").write_text("junk")
    (project / "logs").mkdir(exist_ok=True)
    (project / "logs" / "dbt.log").write_text("not part of the project")
    assert project_fingerprint(project) == fingerprint


def test_manual_dbt_run_overwriting_the_manifest_makes_it_stale(project: Path) -> None:
    path = manifest_path(project)
    path.write_text(path.read_text() + " ")
    assert not is_manifest_fresh(project)


def test_target_change_reparses_with_that_target(project: Path, dbt_env: dict[str, str]) -> None:
    ensure_manifest(project, target="other", env=dbt_env)

    manifest = json.loads(manifest_path(project).read_text())
    assert manifest["nodes"]["model.tiny.first_model"]["schema"] == "other_schema"
    assert prepared_target(project) == "other"


def test_force_reparses(project: Path, dbt_env: dict[str, str]) -> None:
    path = manifest_path(project)
    before = path.stat().st_mtime_ns
    ensure_manifest(project, target="dev", force=True, env=dbt_env)
    assert path.stat().st_mtime_ns != before


def test_failed_parse_keeps_the_old_manifest(project: Path, dbt_env: dict[str, str]) -> None:
    path = manifest_path(project)
    old = path.read_bytes()
    (project / "models" / "broken.sql").write_text("select {{ ref('no_such_model') }}\n")

    with pytest.raises(DbtParseError) as excinfo:
        ensure_manifest(project, target="dev", env=dbt_env)

    message = str(excinfo.value)
    assert "dbt parse --target dev" in message
    assert "no_such_model" in message  # the tail of dbt's own output
    assert excinfo.value.returncode != 0
    assert path.read_bytes() == old
    assert not is_manifest_fresh(project)
    assert not any(p.name.startswith(".parse-") for p in (project / "target").iterdir())


def test_missing_profile_variable_is_a_parse_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TINY_WAREHOUSE_PATH", raising=False)
    root = write_tiny_project(tmp_path / "tiny")
    with pytest.raises(DbtParseError, match="TINY_WAREHOUSE_PATH"):
        ensure_manifest(root, target="dev")
    assert not manifest_path(root).exists()


def test_not_a_dbt_project(tmp_path: Path) -> None:
    with pytest.raises(DbtProjectNotFoundError, match=r"dbt_project\.yml"):
        ensure_manifest(tmp_path)


def test_load_manifest_or_explain_without_a_manifest(tmp_path: Path) -> None:
    root = write_tiny_project(tmp_path / "tiny")
    with pytest.raises(DbtManifestMissingError) as excinfo:
        load_manifest_or_explain(root)
    assert "uv run ol-platform prepare" in str(excinfo.value)
    assert str(manifest_path(root)) in str(excinfo.value)


def test_require_manifest_gives_the_path_without_reading_or_parsing(
    project: Path, no_dbt: None
) -> None:
    assert require_manifest(project) == manifest_path(project)
    manifest_path(project).unlink()
    with pytest.raises(DbtManifestMissingError, match="uv run ol-platform prepare"):
        require_manifest(project)


def test_load_manifest_or_explain_does_not_run_dbt(project: Path, no_dbt: None) -> None:
    manifest = load_manifest_or_explain(project)
    assert "model.tiny.first_model" in manifest["nodes"]


def test_load_warns_but_loads_a_stale_manifest(
    project: Path, no_dbt: None, caplog: pytest.LogCaptureFixture
) -> None:
    (project / "models" / "first_model.sql").write_text("select 3 as id\n")
    with caplog.at_level("WARNING", logger=dbt_manifest.__name__):
        manifest = load_manifest_or_explain(project)
    assert "model.tiny.first_model" in manifest["nodes"]
    assert "out of date" in caplog.text


def test_corrupt_manifest_is_explained(project: Path) -> None:
    manifest_path(project).write_text("{not json")
    with pytest.raises(DbtManifestMissingError, match="ol-platform prepare"):
        load_manifest_or_explain(project)


def test_command_line_prepares_the_manifest(tmp_path: Path, dbt_env: dict[str, str]) -> None:
    root = write_tiny_project(tmp_path / "tiny")
    completed = subprocess.run(
        [
            dbt_manifest.sys.executable,
            "-m",
            "ol_orchestrate.lib.dbt_manifest",
            "--target",
            "dev",
            str(root),
        ],
        env={**dbt_manifest.os.environ, **dbt_env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(manifest_path(root))
    assert is_manifest_fresh(root, "dev")


def test_configured_resource_paths_are_fingerprinted(tmp_path: Path) -> None:
    root = write_tiny_project(tmp_path / "tiny")
    with (root / "dbt_project.yml").open("a") as handle:
        handle.write('test-paths: ["data_tests"]\n')
    (root / "data_tests").mkdir()
    (root / "tests").mkdir()
    fingerprint = project_fingerprint(root)

    # tests/ is no longer a dbt folder here (it could hold a pytest suite).
    (root / "tests" / "test_something.py").write_text("def test(): pass\n")
    assert project_fingerprint(root) == fingerprint

    (root / "data_tests" / "assert_nothing.sql").write_text("select 1 where false\n")
    assert project_fingerprint(root) != fingerprint
