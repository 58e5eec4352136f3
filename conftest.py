"""Test-session defaults: the embedded (ci) environment, with its data in a throwaway folder.

Tests never write into a developer's `.data/`; each test that needs its own lake or warehouse
takes a `tmp_path` on top of this.
"""

from __future__ import annotations

import os
import tempfile


def pytest_configure() -> None:
    os.environ["DAGSTER_ENV"] = "ci"
    os.environ.setdefault("OL_DATA_DIR", tempfile.mkdtemp(prefix="ol-platform-tests-"))
    os.environ.pop("SUPERSET_URL", None)
