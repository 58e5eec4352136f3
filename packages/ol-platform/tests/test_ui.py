"""`ol-platform ui` serves the Dagster UI on 127.0.0.1 with every code location loaded and the
lineage from the raw Open edX assets (openedx location) into the dbt models (lakehouse location)
and on to the Superset datasets; in a browser, a materialization launched from the UI runs."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


DATASET = ["superset", "dataset", "fct_openedx__daily_enrollments"]
MATERIALIZATIONS_QUERY = """query ($path: [String!]!) { assetOrError(assetKey: {path: $path}) {
  ... on Asset { assetMaterializations(limit: 1) { runId
    metadataEntries { label ... on TextMetadataEntry { text } } } } } }"""


def _graphql_vars(port: int, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


@pytest.mark.slow
@pytest.mark.browser
def test_the_ui_in_a_browser(ui_port: int, browser: Any, screenshots: Path) -> None:
    """Every location loaded, the lineage from raw assets to a Superset dataset drawn, and one
    materialization launched from the UI, as a user would."""
    import re

    base = f"http://127.0.0.1:{ui_port}"
    page = browser.new_page(viewport={"width": 1800, "height": 1100})

    page.goto(f"{base}/locations")
    expected = sorted(loc.name for loc in discover_locations(find_repo_root()))
    loaded = page.get_by_text("Loaded", exact=True)
    loaded.first.wait_for(timeout=60_000)
    deadline = time.monotonic() + 60
    while loaded.count() < len(expected):  # one status tag per location
        assert time.monotonic() < deadline, page.inner_text("body")
        time.sleep(0.5)
    text = page.inner_text("body")
    assert all(f"{name}.definitions" in text for name in expected), text
    assert not page.get_by_text(re.compile(r"^(Error|Failed|Loading failed)$")).count(), text
    page.screenshot(path=str(screenshots / "locations.png"), full_page=True)

    # Lineage: raw Open edX enrollments -> staging -> ... -> the mart -> its Superset dataset.
    page.goto(
        f"{base}/assets/{'/'.join(DATASET)}?view=lineage&lineageScope=upstream&lineageDepth=6"
    )
    page.get_by_text("xpro_enrollments", exact=True).first.wait_for(timeout=60_000)
    for node in ("stg_…__enrollments", "fct_open…rollments", "warehouse"):
        assert page.get_by_text(node, exact=True).count(), node
    page.screenshot(path=str(screenshots / "lineage.png"))

    # Launch a materialization of the dataset from its page (its upstream was never built here,
    # so the UI asks to confirm).
    page.goto(f"{base}/assets/{'/'.join(DATASET)}")
    page.locator("button").filter(has_text=re.compile(r"^Materialize$")).first.click()
    page.get_by_role("button", name="Confirm").click()
    deadline = time.monotonic() + 240
    while True:
        asset = _graphql_vars(ui_port, MATERIALIZATIONS_QUERY, {"path": DATASET})["assetOrError"]
        if asset["assetMaterializations"]:
            break
        assert time.monotonic() < deadline, "the run launched from the UI did not materialize"
        time.sleep(2)
    (materialization,) = asset["assetMaterializations"]
    status = {e["label"]: e.get("text") for e in materialization["metadataEntries"]}
    assert status["status"] == "skipped"  # no Superset runs for this UI's data folder
    page.reload()  # the asset page now shows the materialization's metadata
    page.get_by_text("skipped", exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=str(screenshots / "materialized.png"), full_page=True)
    page.close()
