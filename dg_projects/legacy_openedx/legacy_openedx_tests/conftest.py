"""Fixtures: the MariaDB server every machine runs (127.0.0.1:3306, root), an `edxapp` schema of
the sandbox institution on it and the same schema in SQLite, the sandbox (Vault emulator,
healthchecks, the legacy LMSes' Studio and forum), the resources of the mitx deployment's assets
against them (`mitx_resources`), and an S3 API (moto's server).

The MariaDB tests never skip: a server that is down fails them with a one-line reason (CI starts
it in .ci/run). Each test session writes its own database (`edxapp_test_<pid>`), so sessions
running side by side on one machine do not disturb each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto.server import ThreadedMotoServer

from ol_orchestrate.io_managers import lake_io_manager_from_settings
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.healthchecks import HealthcheckResource
from ol_orchestrate.resources.openedx_forum import ForumApiResource
from ol_orchestrate.resources.openedx_studio import OpenEdxStudioResource
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.sql_database import SqlDatabaseResource
from ol_orchestrate.testing import free_port
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.edxapp import (
    EdxappTables,
    drop_mariadb,
    edxapp_tables,
    write_mariadb,
    write_sqlite,
)
from ol_sandbox.faults import FaultConfig
from ol_sandbox.forum import api_key_for
from ol_sandbox.server import SandboxServer

MARIADB_HOST = "127.0.0.1"
MARIADB_PORT = 3306
MARIADB_USER = "root"
DEPLOYMENT = "mitx"
# The healthcheck of the mitx deployment in `mitx_resources` (its pings: sandbox.healthchecks).
MITX_CHECK = "0b5e1e43-1111-4a7b-9d1e-2b7c0c5e9f10"


def mariadb_reachable() -> str | None:
    """None when MariaDB answers; else why not."""
    import pymysql

    try:
        pymysql.connect(
            host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, connect_timeout=3
        ).close()
    except pymysql.MySQLError as error:
        return f"{type(error).__name__}: {error}"
    return None


@pytest.fixture(scope="session")
def institution() -> Institution:
    return Institution.generate(seed=42, **SIZES["small"])


@pytest.fixture(scope="session")
def tables(institution: Institution) -> EdxappTables:
    return edxapp_tables(institution, DEPLOYMENT)


@pytest.fixture(scope="session")
def mariadb_database(tables: EdxappTables) -> Iterator[str]:
    """The edxapp schema on the local MariaDB; its name."""
    problem = mariadb_reachable()
    if problem:
        pytest.fail(
            f"MariaDB on {MARIADB_HOST}:{MARIADB_PORT} is not reachable ({problem}); start it "
            "(`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`)",
            pytrace=False,
        )
    name = f"edxapp_test_{os.getpid()}"
    write_mariadb(tables, host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, database=name)
    try:
        yield name
    finally:
        drop_mariadb(host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, database=name)


@pytest.fixture(scope="session")
def mariadb_url(mariadb_database: str) -> str:
    """A SQLAlchemy URL of the schema, without credentials."""
    return f"mysql+pymysql://{MARIADB_HOST}:{MARIADB_PORT}/{mariadb_database}"


@pytest.fixture(scope="session")
def sqlite_file(tables: EdxappTables, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sqlite(tmp_path_factory.mktemp("edxapp") / "edxapp.sqlite", tables)


@pytest.fixture
def sandbox(institution: Institution) -> Iterator[SandboxServer]:
    with SandboxServer(institution, fault_config=FaultConfig(), delivery_bucket=False) as server:
        yield server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def local_secrets(tmp_path: Path) -> SecretsResource:
    """The local backend with the mitx deployment's secrets: the MariaDB login, the healthcheck's
    ping URL, Studio's OAuth2 client and the forum's API key (the sandbox's)."""
    path = tmp_path / "secrets.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "mariadb-mitx": {"creds": {"readonly": {"username": MARIADB_USER, "password": ""}}},
                "healthchecks": {"mitx": {"ping_url": f"https://hc-ping.com/{MITX_CHECK}"}},
                "openedx": {
                    "mitx": {
                        "oauth": {
                            "client_id": "sandbox-mitx",
                            "client_secret": "sandbox-secret-mitx",  # pragma: allowlist secret
                        }
                    }
                },
                "forum": {"mitx": {"api": {"api_key": api_key_for("mitx")}}},
            }
        )
    )
    return SecretsResource(backend="local", local_secrets_file=str(path))


@pytest.fixture
def mitx_resources(
    sqlite_file: Path, sandbox: SandboxServer, local_secrets: SecretsResource
) -> Callable[..., dict[str, Any]]:
    """`mitx_resources(**overrides)`: the mitx deployment's database (the SQLite schema),
    healthcheck, Studio and forum resources against the sandbox, fast retries and polls, and the
    lake IO manager of the settings in force; keyword arguments replace fields of Studio
    (`studio_*`) or the forum (`forum_*`)."""

    def build(**overrides: Any) -> dict[str, Any]:
        studio = {
            k.removeprefix("studio_"): v for k, v in overrides.items() if k.startswith("studio_")
        }
        forum = {
            k.removeprefix("forum_"): v for k, v in overrides.items() if k.startswith("forum_")
        }
        return {
            "io_manager": lake_io_manager_from_settings(get_settings()),
            "legacy_openedx_mitx_database": SqlDatabaseResource(
                url=f"sqlite:///{sqlite_file}", secrets=local_secrets
            ),
            "legacy_openedx_mitx_healthcheck": HealthcheckResource(
                secrets=local_secrets,
                secret_path="healthchecks/mitx",  # pragma: allowlist secret
                base_url=sandbox.healthchecks_url,
            ),
            "legacy_openedx_mitx_studio": OpenEdxStudioResource(
                deployment="mitx",
                studio_url=sandbox.studio_url("mitx"),
                token_url=f"{sandbox.studio_url('mitx')}/oauth2/access_token",
                secret_path="openedx/mitx/oauth",  # pragma: allowlist secret
                secrets=local_secrets,
                **{
                    "export_timeout_seconds": 30.0,
                    "export_poll_interval_seconds": 0.05,
                    "backoff_initial": 0.01,
                    **studio,
                },
            ),
            "legacy_openedx_mitx_forum": ForumApiResource(
                deployment="mitx",
                base_url=sandbox.forum_url("mitx"),
                secret_path="forum/mitx/api",  # pragma: allowlist secret
                secrets=local_secrets,
                **{"backoff_initial": 0.01, **forum},
            ),
        }

    return build
