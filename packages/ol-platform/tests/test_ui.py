"""`ol-platform ui` serves the Dagster UI on 127.0.0.1 with every code location loaded and the
lineage from the raw Open edX assets (openedx location) into the dbt models (lakehouse location)."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from ol_orchestrate.lib.environment import find_repo_root
from ol_orchestrate.testing import free_port
from ol_platform.locations import discover_locations

LOCATIONS_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
LINEAGE_QUERY = """{ assetNodes(
  assetKeys: [{path: ["openedx", "staging", "stg_openedx__enrollments"]}]
) { repository { location { name } } dependencyKeys { path } } }"""


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


@pytest.fixture(scope="module")
def ui_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "DAGSTER_ENV": "dev", "OL_DATA_DIR": str(tmp_path_factory.mktemp("ui"))}
    env.pop("DAGSTER_HOME", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ol_platform.cli", "ui", "--port", str(port), "--size", "small"],
        cwd=find_repo_root(),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, "ol-platform ui exited early"
            try:
                entries = _graphql(port, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
                if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the UI did not load every location in time"
            time.sleep(1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.slow
def test_every_location_loads_in_the_ui(ui_port: int) -> None:
    entries = _graphql(ui_port, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
    expected = {loc.name for loc in discover_locations(find_repo_root())}
    assert {entry["name"] for entry in entries} == expected
    for entry in entries:
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry


@pytest.mark.slow
def test_lineage_crosses_from_ingestion_into_dbt(ui_port: int) -> None:
    (node,) = _graphql(ui_port, LINEAGE_QUERY)["assetNodes"]
    assert node["repository"]["location"]["name"] == "lakehouse"
    assert {tuple(dep["path"]) for dep in node["dependencyKeys"]} == {
        ("openedx", "raw", "mitxonline_enrollments"),
        ("openedx", "raw", "xpro_enrollments"),
    }
