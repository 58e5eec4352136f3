"""The deployment files agree with each other: every code location is served, built and listed.

Docker cannot run on the development machines, so `docker compose up` is not exercised here; these
checks catch the mistakes that make it fail before any container starts.
"""

import yaml

from ol_orchestrate.lib.environment import find_repo_root
from ol_platform.locations import read_workspace

ROOT = find_repo_root()


def _yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text())


def test_every_local_location_is_a_project_with_a_dockerfile() -> None:
    for location in read_workspace(ROOT / "dg_deployments" / "local" / "workspace.yaml"):
        project = ROOT / "dg_projects" / location.name
        assert (project / "pyproject.toml").is_file(), location.name
        assert (project / "Dockerfile").is_file(), location.name
        assert location.module == f"{location.name}.definitions"


def test_docker_workspace_serves_every_location_from_a_compose_service() -> None:
    compose = _yaml("docker-compose.yaml")
    services = compose["services"]
    local = {loc.name for loc in read_workspace(ROOT / "dg_deployments/local/workspace.yaml")}
    grpc = [
        entry["grpc_server"] for entry in _yaml("dg_deployments/docker/workspace.yaml")["load_from"]
    ]
    assert {entry["location_name"] for entry in grpc} == local
    for entry in grpc:
        service = services[entry["host"]]
        assert service["build"]["dockerfile"] == f"dg_projects/{entry['location_name']}/Dockerfile"


def test_compose_builds_reference_existing_dockerfiles_and_volumes() -> None:
    compose = _yaml("docker-compose.yaml")
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"
            else:
                assert source in compose["volumes"], f"{name}: {source}"
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"], f"{name} depends on unknown {dependency}"


def test_instance_configs_parse() -> None:
    local = _yaml("dg_deployments/local/dagster.yaml")
    production = _yaml("dg_deployments/production/dagster.yaml")
    assert "storage" not in local  # SQLite under DAGSTER_HOME
    assert production["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
