"""Shared fixtures: the source sandbox (small institution) and an S3 server (moto) on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from ol_orchestrate.testing import free_port
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


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 API (moto's server) on 127.0.0.1; tests create their own buckets."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake AWS credentials, and none of the developer's own profile or endpoint settings."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
