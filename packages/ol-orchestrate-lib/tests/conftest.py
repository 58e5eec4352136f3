"""Shared fixtures: the source sandbox (small institution) on a free local port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def sandbox_institution() -> Institution:
    return Institution.generate(seed=42, **SIZES["small"])


@pytest.fixture
def sandbox(sandbox_institution: Institution) -> Iterator[SandboxServer]:
    """A running sandbox with no random faults (tests inject the faults they want)."""
    with SandboxServer(sandbox_institution, fault_config=FaultConfig()) as server:
        yield server
