"""Fixtures for the sandbox's own tests: a small institution, a running server, a raw client.

Tests talk to the server through the stdlib (`http.client`), so they see exactly what is on the
wire (short bodies, resets) without a client library smoothing anything over.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def institution() -> Institution:
    return Institution.generate(seed=42, **SIZES["small"])


@pytest.fixture
def server(institution: Institution) -> Iterator[SandboxServer]:
    with SandboxServer(institution, fault_config=FaultConfig()) as running:
        yield running


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _call(
    url: str,
    method: str = "GET",
    *,
    params: Mapping[str, Any] | None = None,
    form: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on a fresh connection (stdlib only, like the sandbox)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if params:
        target += ("&" if "?" in target else "?") + urlencode(params)
    body = urlencode(form).encode() if form is not None else None
    all_headers = dict(headers or {})
    if body is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=all_headers)
        response = conn.getresponse()
        return Reply(response.status, dict(response.headers), response.read())
    finally:
        conn.close()


def _get_token(server: SandboxServer, deployment: str = "mitxonline") -> str:
    reply = _call(
        f"{server.openedx_url(deployment)}/oauth2/access_token",
        "POST",
        form={
            "grant_type": "client_credentials",
            "client_id": f"sandbox-{deployment}",
            "client_secret": f"sandbox-secret-{deployment}",
            "token_type": "jwt",
        },
    )
    assert reply.status == 200, reply.body
    return str(reply.json()["access_token"])


@pytest.fixture
def call() -> Any:
    """`call(url, method="GET", *, params=None, form=None, headers=None) -> Reply`."""
    return _call


@pytest.fixture
def token(server: SandboxServer) -> str:
    """A valid JWT for the `mitxonline` deployment of `server`."""
    return _get_token(server)


@pytest.fixture
def get_token() -> Any:
    """`get_token(server, deployment="mitxonline") -> str`."""
    return _get_token
