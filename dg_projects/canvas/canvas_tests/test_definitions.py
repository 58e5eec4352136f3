"""The canvas location loads in every environment with no credentials; its graph is reviewed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ol_orchestrate.resources.canvas import CanvasApiClientFactory, CanvasClient
from ol_orchestrate.testing import (
    assert_matches_snapshot,
    asset_key_lines,
    environment,
    load_definitions,
)
from ol_sandbox.canvas import FIRST_COURSE_ID
from ol_sandbox.server import SandboxServer

SNAPSHOT = Path(__file__).with_name("asset_keys.snapshot")
TABLES = (
    "courses", "sections", "enrollments", "users", "assignments", "assignment_groups",
    "submissions", "modules", "module_items", "pages", "files", "folders", "content_exports",
)  # fmt: skip


@pytest.mark.parametrize("env", ["dev", "ci", "qa", "production"])
def test_loads_in_every_environment_without_credentials(env: str) -> None:
    # An unroutable Vault address and no token: loading must not try to read a secret.
    with environment(env, {"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}):
        defs = load_definitions("canvas.definitions")
        assert_matches_snapshot(asset_key_lines(defs), SNAPSHOT)
        assert [s.name for s in defs.sensors or ()] == [
            "canvas_mit_course_registry_sensor",
            "canvas_automation",
            "canvas_freshness_checks",
        ]
        assert not defs.schedules  # the daily refresh is the assets' on_cron condition


def test_every_table_is_a_course_partitioned_asset() -> None:
    with environment("dev"):
        defs = load_definitions("canvas.definitions")
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == {f"canvas/raw/{table}" for table in TABLES}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.partitions_def is not None
        assert node.partitions_def.name == "canvas_courses"  # type: ignore[attr-defined]
        assert node.description


@pytest.mark.parametrize(
    ("env", "base_url", "secret_path"),
    [
        ("dev", "http://127.0.0.1:8765/canvas", "canvas/api"),
        ("ci", "http://127.0.0.1:8765/canvas", "canvas/api"),
        ("qa", "https://canvas.mit.edu", "pipelines/canvas/api"),
        ("production", "https://canvas.mit.edu", "pipelines/canvas/api"),
    ],
)
def test_canvas_resource_per_environment(env: str, base_url: str, secret_path: str) -> None:
    with environment(env, {"OL_SANDBOX_URL": "", "CANVAS_BASE_URL": ""}):
        resource = load_definitions("canvas.definitions").resources["canvas_api"]
        assert resource.base_url == base_url
        assert resource.secret_path == secret_path
    with environment(env, {"CANVAS_BASE_URL": "https://canvas.example.edu/"}):
        resource = load_definitions("canvas.definitions").resources["canvas_api"]
        assert resource.base_url == "https://canvas.example.edu"


def test_the_locations_client_factory_gives_a_working_client(sandbox: SandboxServer) -> None:
    # The factory exactly as the location binds it in ci: the sandbox's Canvas, the token read from
    # the local secrets through the secrets resource, the factory's retry settings.
    with environment("ci", {"OL_SANDBOX_URL": sandbox.url, "CANVAS_BASE_URL": ""}):
        factory = load_definitions("canvas.definitions").resources["canvas_api"]
        assert isinstance(factory, CanvasApiClientFactory)
        sandbox.faults.inject("/sections", "server_error", count=1)
        with factory.get_client(backoff_initial=0.01) as client:
            assert isinstance(client, CanvasClient)
            assert client.base_url == sandbox.canvas_url
            assert client.max_retries == factory.max_retries == 5
            course = client.get_course(FIRST_COURSE_ID)
            sections = list(client.iter_sections(FIRST_COURSE_ID))
    assert str(course["id"]) == str(FIRST_COURSE_ID)
    assert len(sections) == len(sandbox.canvas.data.courses[0].sections)
    assert [r.status for r in sandbox.requests if "/sections" in r.path] == [500, 200]
