"""Fixtures shared by the platform's tests: Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ol_platform.testing import CHROMIUM_ARGS, chromium_executable


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (`/usr/bin/chromium`, never a downloaded browser), per module: while
    Playwright's sync API is open an event loop runs on the main thread, and every later
    `asyncio.run()` (Dagster's automation evaluation, state refreshes) would fail."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A folder for the test's screenshots, under pytest's temporary output."""
    return tmp_path_factory.mktemp(f"screenshots-{request.node.name}"[:60])
