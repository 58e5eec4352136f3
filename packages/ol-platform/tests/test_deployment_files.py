"""The deployment files agree with the dg_projects/ folders and with each other.

Docker cannot run on the development machines, so `docker compose up` is not exercised here; these
checks catch the mistakes that make it fail before any container starts.
"""

import re
import shutil
from pathlib import Path

import yaml

from ol_orchestrate.lib.environment import find_repo_root
from ol_platform.deployment_files import check, sync
from ol_platform.locations import discover_locations

ROOT = find_repo_root()


def _yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text())


def test_derived_files_list_every_location() -> None:
    problems = check(ROOT)
    assert not problems, "\n".join(str(problem) for problem in problems)
    names = [location.name for location in discover_locations(ROOT)]
    assert {"canvas", "lakehouse", "openedx"} <= set(names)


def test_every_location_is_a_dg_project_named_like_its_folder() -> None:
    for location in discover_locations(ROOT):
        assert location.module == f"{location.name}.definitions"
        assert (location.project_dir / location.name / "definitions.py").is_file()
        assert (location.project_dir / location.name / "defs" / "__init__.py").is_file()
        # One Dockerfile serves every location: no location carries its own.
        assert not (location.project_dir / "Dockerfile").exists(), location.name


def test_a_copied_folder_is_reported_by_name_and_synced(tmp_path: Path) -> None:
    for relative in ("pyproject.toml", "docker-compose.yaml", "dg_deployments"):
        source = ROOT / relative
        if source.is_dir():
            shutil.copytree(source, tmp_path / relative)
        else:
            shutil.copy(source, tmp_path / relative)
    shutil.copytree(
        ROOT / "dg_projects" / "openedx",
        tmp_path / "dg_projects" / "openedx",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    # A new location copied from an existing one, with its names changed.
    copy = tmp_path / "dg_projects" / "irx_results"
    shutil.copytree(ROOT / "dg_projects" / "openedx", copy)
    (copy / "openedx").rename(copy / "irx_results")
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("openedx", "irx_results"))

    problems = [str(problem) for problem in check(tmp_path)]
    assert any(
        "'irx_results' is not in dg's workspace" in p and 'path = "dg_projects/irx_results"' in p
        for p in problems
    ), problems
    assert any(
        p.startswith("dg_deployments/local/workspace.yaml: missing irx_results") for p in problems
    )
    assert any(
        p.startswith("dg_deployments/docker/workspace.yaml: missing irx_results") for p in problems
    )
    assert any(p.startswith("docker-compose.yaml: missing irx_results") for p in problems)
    # The folders of locations not in this copy (canvas, lakehouse) are reported as gone.
    assert any("dg_projects/canvas, which is not a code location folder" in p for p in problems)

    changed = sync(tmp_path)
    assert sorted(str(path) for path in changed) == [
        "dg_deployments/docker/workspace.yaml",
        "dg_deployments/local/workspace.yaml",
        "docker-compose.yaml",
        "pyproject.toml",
    ]
    remaining = [str(problem) for problem in check(tmp_path)]
    assert all("which is not a code location folder" in p for p in remaining), remaining
    assert sync(tmp_path) == []  # idempotent


def test_compose_builds_targets_of_the_root_dockerfile() -> None:
    compose = _yaml("docker-compose.yaml")
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), re.M))
    assert {"code-location", "platform"} <= targets
    locations = {location.name for location in discover_locations(ROOT)}
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).is_file()
            assert build["target"] in targets, name
            if build["target"] == "code-location":
                assert name in locations
                assert build["args"]["LOCATION"] == name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"
            else:
                assert source in compose["volumes"], f"{name}: {source}"
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"], f"{name} depends on unknown {dependency}"
    for name in ("webserver", "daemon"):
        assert locations <= set(compose["services"][name]["depends_on"]), name


def test_instance_configs_parse() -> None:
    local = _yaml("dg_deployments/local/dagster.yaml")
    production = _yaml("dg_deployments/production/dagster.yaml")
    assert "storage" not in local  # SQLite under DAGSTER_HOME
    assert production["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
