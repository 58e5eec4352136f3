"""Test helpers for what runs for real: a Superset started the way `ol-platform superset`
starts it, and Debian's Chromium for browser tests.

Neither is ever skipped silently. Locally, `OL_SKIP_SUPERSET_TESTS=1` and
`OL_SKIP_BROWSER_TESTS=1` skip those tests on purpose; without them a missing Python 3.12 or
Chromium fails the test with what to install (`.ci/run` installs both and sets neither).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ol_orchestrate.lib.environment import PlatformSettings, load_settings
from ol_orchestrate.testing import free_port
from ol_platform.superset_server import SupersetServer, SupersetServerError

CHROMIUM = Path("/usr/bin/chromium")
# Chromium on a closed network: without the background-networking switches its own connections
# (component updates, sync, QUIC probes) are refused and slow every page down.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SKIP_SUPERSET = "OL_SKIP_SUPERSET_TESTS"
SKIP_BROWSER = "OL_SKIP_BROWSER_TESTS"


def _skip_requested(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in ("1", "true", "yes")


def local_settings(data_dir: Path, **overrides: str) -> PlatformSettings:
    """dev settings for a data folder of its own (the rest as a fresh shell would have them)."""
    return load_settings({"DAGSTER_ENV": "dev", "OL_DATA_DIR": str(data_dir), **overrides})


@contextmanager
def running_superset(data_dir: Path) -> Iterator[SupersetServer]:
    """A real Superset for `data_dir` on a free port (installed first if this machine has none
    cached), stopped afterwards."""
    if _skip_requested(SKIP_SUPERSET):
        pytest.skip(f"{SKIP_SUPERSET} is set: Superset tests skipped on purpose")
    server = SupersetServer(local_settings(data_dir), port=free_port())
    try:
        server.start()
    except SupersetServerError as error:
        pytest.fail(f"could not start Superset (`uv run ol-platform superset` shows why): {error}")
    try:
        yield server
    finally:
        server.stop()


def chromium_executable() -> str:
    """Debian's Chromium, or a failure saying how to install it (never a downloaded browser)."""
    if _skip_requested(SKIP_BROWSER):
        pytest.skip(f"{SKIP_BROWSER} is set: browser tests skipped on purpose")
    path = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not path:
        pytest.fail(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` (as .ci/run does)")
    return str(path)
