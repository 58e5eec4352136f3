"""The secrets resource: local file + environment backend, and Vault over real HTTP.

Vault is exercised against a small HTTP server in this file that speaks the parts of the Vault
API hvac uses (KV v1/v2 reads, AppRole and Kubernetes login, token lookup, a database secrets
engine), so authentication and token handling go through hvac and the network for real.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import ConfigurableResource, Definitions, asset, materialize
from dagster._core.remote_representation.external_data import RepositorySnap

import ol_orchestrate.resources.secrets as secrets_package
from ol_orchestrate.lib.environment import load_settings
from ol_orchestrate.resources.secrets import (
    LocalSecretsBackend,
    SecretNotFoundError,
    SecretsResource,
    VaultAuthenticationError,
    VaultError,
    VaultPermissionError,
    VaultResource,
    env_var_name,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------------------------
# A fake Vault that speaks HTTP
# --------------------------------------------------------------------------------------------


@dataclass
class SeenRequest:
    method: str
    path: str
    token: str | None
    body: dict[str, Any]


@dataclass
class FakeVault:
    kv2: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    kv1: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    approle: dict[str, str] = field(default_factory=dict)  # role_id -> secret_id
    approle_mount: str = "approle"
    kubernetes: dict[str, str] = field(default_factory=dict)  # role -> jwt
    kubernetes_mount: str = "kubernetes"
    tokens: set[str] = field(default_factory=set)
    denied_paths: set[str] = field(default_factory=set)
    requests: list[SeenRequest] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    dynamic_leases: int = 0
    url: str = ""

    def issue_token(self) -> str:
        token = f"hvs.issued-{uuid.uuid4().hex[:12]}"
        self.tokens.add(token)
        self.issued.append(token)
        return token

    def logins(self) -> list[SeenRequest]:
        return [r for r in self.requests if "/login" in r.path]

    def reads(self) -> list[SeenRequest]:
        return [r for r in self.requests if "/login" not in r.path and "lookup" not in r.path]

    def handle(self, method: str, path: str, token: str | None, body: dict[str, Any]):
        self.requests.append(SeenRequest(method, path, token, body))
        parts = path.removeprefix("/v1/").split("/")
        if method == "POST" and path == f"/v1/auth/{self.approle_mount}/login":
            if self.approle.get(body.get("role_id", "")) == body.get("secret_id") is not None:
                return 200, self._auth_response()
            return 400, {"errors": ["invalid role or secret ID"]}
        if method == "POST" and path == f"/v1/auth/{self.kubernetes_mount}/login":
            if self.kubernetes.get(body.get("role", "")) == body.get("jwt") is not None:
                return 200, self._auth_response()
            return 403, {"errors": ["permission denied"]}
        if token not in self.tokens:
            return 403, {"errors": ["permission denied"]}
        if method == "GET" and path == "/v1/auth/token/lookup-self":
            return 200, {"data": {"id": token, "policies": ["default"], "ttl": 3600}}
        if method != "GET":
            return 405, {"errors": ["unsupported"]}
        mount, rest = parts[0], parts[1:]
        if "/".join(rest[1:]) in self.denied_paths:
            return 403, {"errors": ["permission denied"]}
        if mount in self.kv2 and rest[:1] == ["data"]:
            secret = self.kv2[mount].get("/".join(rest[1:]))
            if secret is None:
                return 404, {"errors": []}
            meta = {"version": 3, "created_time": "2025-01-01T00:00:00Z", "deletion_time": ""}
            return 200, {"data": {"data": secret, "metadata": meta}, "lease_duration": 0}
        if mount in self.kv1:
            secret = self.kv1[mount].get("/".join(rest))
            if secret is None:
                return 404, {"errors": []}
            return 200, {"data": secret, "lease_duration": 2764800}
        if mount == "database" and rest[:1] == ["creds"] and len(rest) == 2:
            self.dynamic_leases += 1
            n = self.dynamic_leases
            return 200, {
                "lease_id": f"database/creds/{rest[1]}/lease-{n}",
                "lease_duration": 3600,
                "renewable": True,
                "data": {"username": f"v-{rest[1]}-{n}", "password": f"dyn-pass-{n}"},
            }
        return 404, {"errors": []}

    def _auth_response(self) -> dict[str, Any]:
        token = self.issue_token()
        return {
            "auth": {
                "client_token": token,
                "accessor": "acc",
                "policies": ["default", "dagster"],
                "lease_duration": 3600,
                "renewable": True,
            }
        }


def _handler_for(vault: FakeVault) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _respond(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            path = self.path.split("?", 1)[0]
            status, payload = vault.handle(method, path, self.headers.get("X-Vault-Token"), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._respond("GET")

        def do_POST(self) -> None:
            self._respond("POST")

        def do_PUT(self) -> None:
            self._respond("PUT")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def vault() -> Iterator[FakeVault]:
    fake = FakeVault(
        kv2={
            "secret-data": {
                "pipelines/openedx/mitxonline/oauth": {
                    "client_id": "prod-client",
                    "client_secret": "prod-secret-value",  # pragma: allowlist secret
                },
                "pipelines/numbers": {"port": 3306, "enabled": True},
            }
        },
        kv1={
            "secret-legacy": {
                "edxorg/s3": {
                    "access_key": "AKIAFAKE",
                    "secret_key": "kv1-sv",  # pragma: allowlist secret
                }
            }
        },
        approle={"role-123": "secret-id-456"},
        kubernetes={"dagster": "eyJ.fake.jwt"},
        tokens={"root-token"},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# Local backend
# --------------------------------------------------------------------------------------------


def _write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_repo_secrets_file_holds_the_sandbox_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OL_SECRETS_FILE", raising=False)
    monkeypatch.delenv("OL_SECRETS_BACKEND", raising=False)
    settings = load_settings({"DAGSTER_ENV": "dev"})
    assert settings.local_secrets_file == REPO_ROOT / "dg_deployments" / "local" / "secrets.yaml"
    secrets = SecretsResource.from_settings(settings)
    for deployment in ("mitxonline", "xpro"):
        assert secrets.get_secret(settings.secret_path(f"openedx/{deployment}/oauth")) == {
            "client_id": f"sandbox-{deployment}",
            "client_secret": f"sandbox-secret-{deployment}",
        }
    text = settings.local_secrets_file.read_text(encoding="utf-8")
    assert "sandbox" in text.splitlines()[0].lower()
    secret_lines = [line for line in text.splitlines() if "client_secret:" in line]
    assert secret_lines
    assert all("pragma: allowlist secret" in line for line in secret_lines)


def test_local_file_nested_paths_and_value_types(tmp_path: Path) -> None:
    file = _write_yaml(
        tmp_path / "secrets.yaml",
        {"a": {"b-c": {"d": {"user": "u1", "port": 5432, "ssl": True}, "other": "x"}}},
    )
    backend = LocalSecretsBackend(file, environ={})
    assert backend.get_secret("a/b-c/d") == {"user": "u1", "port": "5432", "ssl": "true"}
    assert backend.get_secret("/a/b-c/d/") == {"user": "u1", "port": "5432", "ssl": "true"}
    # an intermediate node returns only its own scalar leaves
    assert backend.get_secret("a/b-c") == {"other": "x"}


def test_local_env_fallback(tmp_path: Path) -> None:
    file = _write_yaml(tmp_path / "secrets.yaml", {"canvas": {"api": {"token": "from-file"}}})
    assert env_var_name("canvas/api", "base-url") == "OL_SECRET__CANVAS__API__BASE_URL"
    assert (
        env_var_name("openedx/mitx-online/oauth", "client_id")
        == "OL_SECRET__OPENEDX__MITX_ONLINE__OAUTH__CLIENT_ID"
    )
    # TOKEN: the file wins; BASE_URL: fills a key the file lacks; HMAC_KEY: only in the
    # environment; EXTRA__DEEPER belongs to a deeper path, not to learn/webhook.
    environ = {
        "OL_SECRET__CANVAS__API__TOKEN": "from-env",  # pragma: allowlist secret
        "OL_SECRET__CANVAS__API__BASE_URL": "https://canvas.example",  # pragma: allowlist secret
        "OL_SECRET__LEARN__WEBHOOK__HMAC_KEY": "k1",  # pragma: allowlist secret
        "OL_SECRET__LEARN__WEBHOOK__EXTRA__DEEPER": "deeper",  # pragma: allowlist secret
        "OL_SECRET__OPENEDX__MITX_ONLINE__OAUTH__CLIENT_ID": "cid",
    }
    backend = LocalSecretsBackend(file, environ=environ)
    assert backend.get_secret("canvas/api") == {
        "token": "from-file",
        "base_url": "https://canvas.example",
    }
    assert backend.get_secret("learn/webhook") == {"hmac_key": "k1"}
    assert backend.get_secret("openedx/mitx-online/oauth") == {"client_id": "cid"}


def test_local_env_fallback_through_the_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OL_SECRET__SUPERSET__API__PASSWORD", "pw-from-env")
    resource = SecretsResource(backend="local", local_secrets_file=str(tmp_path / "absent.yaml"))
    assert resource.get_secret_value("superset/api", "password") == "pw-from-env"


def test_local_missing_path_and_key_name_the_path_not_values(tmp_path: Path) -> None:
    file = _write_yaml(
        tmp_path / "secrets.yaml",
        {"svc": {"cred": {"user": "alice", "password": "hunter2-sv"}}},  # pragma: allowlist secret
    )
    resource = SecretsResource(backend="local", local_secrets_file=str(file))

    with pytest.raises(SecretNotFoundError) as missing_path:
        resource.get_secret("svc/nope")
    assert isinstance(missing_path.value, KeyError)
    message = str(missing_path.value)
    assert "svc/nope" in message
    assert str(file) in message  # names the backend
    assert message == missing_path.value.message  # no KeyError quoting

    with pytest.raises(SecretNotFoundError) as missing_key:
        resource.get_secret_value("svc/cred", "token")
    message = str(missing_key.value)
    assert "svc/cred" in message
    assert "'token'" in message
    assert "hunter2-sv" not in message
    assert "alice" not in message
    assert missing_key.value.path == "svc/cred"
    assert missing_key.value.key == "token"


def test_local_file_is_read_on_first_use_not_at_construction(tmp_path: Path) -> None:
    file = tmp_path / "later.yaml"
    resource = SecretsResource(backend="local", local_secrets_file=str(file))
    backend = LocalSecretsBackend(file, environ={})
    # the file does not exist yet: nothing has been read
    _write_yaml(file, {"x": {"y": {"k": "v"}}})
    assert resource.get_secret("x/y") == {"k": "v"}
    assert backend.get_secret("x/y") == {"k": "v"}


def test_local_file_must_be_a_mapping(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        LocalSecretsBackend(file, environ={}).get_secret("x")


# --------------------------------------------------------------------------------------------
# Vault
# --------------------------------------------------------------------------------------------


def test_vault_token_auth_reads_kv2(vault: FakeVault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    resource = VaultResource(vault_addr=vault.url, auth_method="token", kv_mount="secret-data")
    # the token comes from the environment at call time, not at construction
    monkeypatch.setenv("VAULT_TOKEN", "root-token")
    secret = resource.get_secret("pipelines/openedx/mitxonline/oauth")
    assert secret == {"client_id": "prod-client", "client_secret": "prod-secret-value"}
    assert resource.get_secret("pipelines/numbers") == {"port": "3306", "enabled": "true"}

    paths = [(r.method, r.path, r.token) for r in vault.requests]
    assert paths[0] == ("GET", "/v1/auth/token/lookup-self", "root-token")
    assert ("GET", "/v1/secret-data/data/pipelines/openedx/mitxonline/oauth", "root-token") in paths
    assert [p for p in paths if "lookup" in p[1]] == [paths[0]]  # client cached


def test_vault_bad_token_is_a_clear_auth_error(vault: FakeVault) -> None:
    resource = VaultResource(
        vault_addr=vault.url, auth_method="token", vault_token="hvs.wrong-token-xyz"
    )
    with pytest.raises(VaultAuthenticationError) as err:
        resource.get_secret("pipelines/openedx/mitxonline/oauth")
    message = str(err.value)
    assert "token auth" in message
    assert vault.url in message
    assert "403" in message
    assert "wrong-token" not in message
    assert vault.reads() == []


def test_vault_missing_token_is_a_clear_auth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    resource = VaultResource(vault_addr="http://127.0.0.1:1", auth_method="token")
    with pytest.raises(VaultAuthenticationError, match="VAULT_TOKEN"):
        resource.get_secret("x")


def test_vault_approle_login_then_kv1(vault: FakeVault) -> None:
    resource = VaultResource(
        vault_addr=vault.url,
        auth_method="approle",
        role_id="role-123",
        secret_id="secret-id-456",
        kv_mount="secret-legacy",
        kv_version=1,
    )
    expected = {"access_key": "AKIAFAKE", "secret_key": "kv1-sv"}  # pragma: allowlist secret
    assert resource.get_secret("edxorg/s3") == expected
    assert resource.get_secret("edxorg/s3")["access_key"] == "AKIAFAKE"

    logins = vault.logins()
    assert len(logins) == 1
    assert logins[0].path == "/v1/auth/approle/login"
    assert logins[0].body == {"role_id": "role-123", "secret_id": "secret-id-456"}
    assert logins[0].token is None
    issued = vault.issued[0]
    reads = vault.reads()
    assert [r.path for r in reads] == ["/v1/secret-legacy/edxorg/s3"] * 2
    assert all(r.token == issued for r in reads)


def test_vault_approle_credentials_from_env_at_call_time(
    vault: FakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_ROLE_ID", raising=False)
    monkeypatch.delenv("VAULT_SECRET_ID", raising=False)
    resource = SecretsResource(
        backend="vault",
        vault=VaultResource(vault_addr=vault.url, auth_method="approle", kv_mount="secret-data"),
    )
    monkeypatch.setenv("VAULT_ROLE_ID", "role-123")
    monkeypatch.setenv("VAULT_SECRET_ID", "secret-id-456")
    value = resource.get_secret_value("pipelines/openedx/mitxonline/oauth", "client_id")
    assert value == "prod-client"
    assert vault.reads()[-1].token == vault.issued[0]


def test_vault_approle_bad_secret_id(vault: FakeVault) -> None:
    resource = VaultResource(
        vault_addr=vault.url, auth_method="approle", role_id="role-123", secret_id="bad-sid-789"
    )
    with pytest.raises(VaultAuthenticationError) as err:
        resource.get_secret("anything")
    message = str(err.value)
    assert "approle auth" in message
    assert vault.url in message
    assert "invalid role or secret ID" in message
    assert "bad-sid-789" not in message


def test_vault_kubernetes_login(vault: FakeVault, tmp_path: Path) -> None:
    vault.kubernetes_mount = "k8s-ol"
    jwt_file = tmp_path / "token"
    jwt_file.write_text("eyJ.fake.jwt\n", encoding="utf-8")
    resource = VaultResource(
        vault_addr=vault.url,
        auth_method="kubernetes",
        vault_role="dagster",
        kubernetes_jwt_path=str(jwt_file),
        auth_mount="k8s-ol",
        kv_mount="secret-data",
    )
    assert resource.get_secret("pipelines/openedx/mitxonline/oauth")["client_id"] == "prod-client"
    logins = vault.logins()
    assert [(r.path, r.body) for r in logins] == [
        ("/v1/auth/k8s-ol/login", {"role": "dagster", "jwt": "eyJ.fake.jwt"})
    ]
    assert vault.reads()[0].token == vault.issued[0]


def test_vault_kubernetes_wrong_role_and_missing_jwt(vault: FakeVault, tmp_path: Path) -> None:
    jwt_file = tmp_path / "token"
    jwt_file.write_text("eyJ.fake.jwt", encoding="utf-8")
    wrong_role = VaultResource(
        vault_addr=vault.url,
        auth_method="kubernetes",
        vault_role="other",
        kubernetes_jwt_path=str(jwt_file),
    )
    with pytest.raises(VaultAuthenticationError) as err:
        wrong_role.get_secret("x")
    assert "kubernetes auth" in str(err.value)
    assert vault.url in str(err.value)
    assert "eyJ.fake.jwt" not in str(err.value)

    missing = VaultResource(
        vault_addr=vault.url,
        auth_method="kubernetes",
        vault_role="dagster",
        kubernetes_jwt_path=str(tmp_path / "absent"),
    )
    with pytest.raises(VaultAuthenticationError, match="service-account token"):
        missing.get_secret("x")


def test_vault_missing_paths_raise_secret_not_found(vault: FakeVault) -> None:
    kv2 = VaultResource(
        vault_addr=vault.url, auth_method="token", vault_token="root-token", kv_mount="secret-data"
    )
    with pytest.raises(SecretNotFoundError) as err:
        kv2.get_secret("pipelines/nope")
    assert "pipelines/nope" in str(err.value)
    assert "vault" in str(err.value)
    assert "root-token" not in str(err.value)

    kv1 = VaultResource(
        vault_addr=vault.url,
        auth_method="token",
        vault_token="root-token",
        kv_mount="secret-legacy",
        kv_version=1,
    )
    with pytest.raises(SecretNotFoundError, match="edxorg/nope"):
        kv1.get_secret("edxorg/nope")

    resource = SecretsResource(
        backend="vault",
        vault=VaultResource(
            vault_addr=vault.url,
            auth_method="token",
            vault_token="root-token",
            kv_mount="secret-data",
        ),
    )
    with pytest.raises(SecretNotFoundError) as key_err:
        resource.get_secret_value("pipelines/openedx/mitxonline/oauth", "password")
    assert "pipelines/openedx/mitxonline/oauth" in str(key_err.value)
    assert "'password'" in str(key_err.value)
    assert "prod-secret-value" not in str(key_err.value)


def test_vault_reauthenticates_once_when_the_token_expires(vault: FakeVault) -> None:
    resource = VaultResource(
        vault_addr=vault.url,
        auth_method="approle",
        role_id="role-123",
        secret_id="secret-id-456",
        kv_mount="secret-data",
    )
    resource.get_secret("pipelines/numbers")
    vault.tokens.clear()  # the lease expired
    assert resource.get_secret("pipelines/numbers")["port"] == "3306"
    assert len(vault.logins()) == 2
    assert vault.reads()[-1].token == vault.issued[1]

    vault.denied_paths.add("pipelines/numbers")
    with pytest.raises(VaultPermissionError) as err:
        resource.get_secret("pipelines/numbers")
    assert "secret-data/pipelines/numbers" in str(err.value)
    assert isinstance(err.value, VaultError)
    assert len(vault.logins()) == 3  # one fresh login, then a clear error


def test_vault_dynamic_database_credentials(vault: FakeVault) -> None:
    resource = SecretsResource(
        backend="vault",
        vault=VaultResource(vault_addr=vault.url, auth_method="token", vault_token="root-token"),
    )
    first = resource.read_dynamic_credentials("database/creds/edxapp-readonly")
    second = resource.read_dynamic_credentials("database/creds/edxapp-readonly")
    assert first["username"] == "v-edxapp-readonly-1"
    assert first["password"] == "dyn-pass-1"  # pragma: allowlist secret
    assert first["lease_id"] == "database/creds/edxapp-readonly/lease-1"
    assert first["lease_duration"] == "3600"
    assert second["username"] == "v-edxapp-readonly-2"  # a new lease per call
    with pytest.raises(SecretNotFoundError, match="database/creds/unknown/x"):
        resource.read_dynamic_credentials("database/creds/unknown/x")


def test_construction_touches_no_network_vault_or_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    unroutable = "http://127.0.0.1:1"
    vault_resource = VaultResource(vault_addr=unroutable, auth_method="token", vault_token="t")
    secrets = SecretsResource(
        backend="vault",
        vault=VaultResource(vault_addr=unroutable, auth_method="token", vault_token="t"),
    )
    settings = load_settings(
        {
            "DAGSTER_ENV": "production",
            "VAULT_ADDR": unroutable,
            "OL_SECRETS_FILE": str(tmp_path / "absent.yaml"),
        }
    )
    from_settings = SecretsResource.from_settings(settings)
    assert from_settings.backend == "vault"
    assert from_settings.vault is not None
    assert from_settings.vault.vault_addr == unroutable
    assert from_settings.vault.auth_method == "kubernetes"
    assert from_settings.vault.vault_role == "dagster"
    assert from_settings.vault.kv_mount == "secret-data"
    assert from_settings.vault.kv_version == 2
    # failures only come when a secret is read
    with pytest.raises(VaultAuthenticationError, match="cannot reach Vault"):
        vault_resource.get_secret("x")
    with pytest.raises(VaultAuthenticationError, match=r"127\.0\.0\.1:1"):
        secrets.get_secret("x")
    with pytest.raises(VaultAuthenticationError, match="kubernetes auth"):
        from_settings.get_secret("x")


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="kv_version"):
        VaultResource(vault_addr="http://127.0.0.1:1", kv_version=3)
    settings = load_settings({"OL_SECRETS_BACKEND": "env"})  # pragma: allowlist secret
    with pytest.raises(ValueError, match="OL_SECRETS_BACKEND"):
        SecretsResource.from_settings(settings)
    settings = load_settings({"DAGSTER_ENV": "qa", "VAULT_AUTH_METHOD": "ldap"})
    with pytest.raises(ValueError, match="VAULT_AUTH_METHOD"):
        SecretsResource.from_settings(settings)
    # the vault backend without its nested Vault resource is a configuration error
    with pytest.raises(ValueError, match="needs its Vault resource"):
        SecretsResource(backend="vault")


def test_local_backend_has_no_nested_vault(tmp_path: Path) -> None:
    settings = load_settings(
        {"DAGSTER_ENV": "dev", "OL_SECRETS_FILE": str(tmp_path / "absent.yaml")}
    )
    from_settings = SecretsResource.from_settings(settings)
    assert from_settings.backend == "local"
    assert from_settings.vault is None
    assert from_settings.nested_resources == {}
    # an explicit `vault=None` is the default: no (None) nested resource for Dagster to record
    assert SecretsResource(backend="local", vault=None).nested_resources == {}


def test_secrets_resource_in_a_dagster_run(vault: FakeVault) -> None:
    seen: dict[str, str] = {}

    @asset
    def uses_secret(secrets: SecretsResource) -> None:
        seen["client_id"] = secrets.get_secret_value(
            "pipelines/openedx/mitxonline/oauth", "client_id"
        )

    resource = SecretsResource(
        backend="vault",
        vault=VaultResource(
            vault_addr=vault.url,
            auth_method="approle",
            role_id="role-123",
            secret_id="secret-id-456",
            kv_mount="secret-data",
        ),
    )
    assert vault.requests == []
    result = materialize([uses_secret], resources={"secrets": resource})
    assert result.success
    assert seen == {"client_id": "prod-client"}
    assert [r.path for r in vault.logins()] == ["/v1/auth/approle/login"]


class NeedsSecrets(ConfigurableResource):
    """Like the locations' API resources: nests the secrets resource."""

    secrets: SecretsResource

    def client_id(self) -> str:
        return self.secrets.get_secret_value("pipelines/openedx/mitxonline/oauth", "client_id")


def test_secrets_nested_in_another_resource_in_a_dagster_run(vault: FakeVault) -> None:
    """Locations nest `secrets` in their own resources: Vault is then nested two levels deep."""
    seen: list[str] = []

    @asset
    def uses_api(api: NeedsSecrets) -> None:
        seen.append(api.client_id())
        seen.append(api.client_id())

    secrets = SecretsResource(
        backend="vault",
        vault=VaultResource(
            vault_addr=vault.url,
            auth_method="token",
            vault_token="root-token",
            kv_mount="secret-data",
        ),
    )
    result = materialize(
        [uses_api], resources={"api": NeedsSecrets(secrets=secrets), "secrets": secrets}
    )
    assert result.success
    assert seen == ["prod-client", "prod-client"]
    # one token lookup (the login), then the two reads with the cached client
    assert [r.path for r in vault.requests].count("/v1/auth/token/lookup-self") == 1
    assert len(vault.reads()) == 2


@pytest.mark.parametrize("auth_method", ["token", "approle", "kubernetes"])
def test_vault_backend_loads_in_definitions_without_credentials(
    auth_method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code location with the vault backend loads with no token and no reachable Vault."""
    for name in ("VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    unroutable = "http://127.0.0.1:1"
    settings = load_settings(
        {
            "DAGSTER_ENV": "production",
            "VAULT_ADDR": unroutable,
            "VAULT_AUTH_METHOD": auth_method,
            "OL_SECRETS_FILE": str(tmp_path / "absent.yaml"),
        }
    )
    secrets = SecretsResource.from_settings(settings)
    assert secrets.vault is not None

    @asset
    def needs_secret(secrets: SecretsResource) -> None:
        secrets.get_secret("pipelines/anything")

    defs = Definitions(assets=[needs_secret], resources={"secrets": secrets})
    Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    # What a code server sends the webserver: builds every resource's config and nesting.
    snap = RepositorySnap.from_def(repo)

    # The Vault fields appear once: on the nested Vault resource, not on the secrets resource.
    vault_fields = set(VaultResource.model_fields)
    assert {"vault_addr", "auth_method", "kv_mount", "vault_token"} <= vault_fields
    assert set(SecretsResource.model_fields) == {"backend", "local_secrets_file", "vault"}
    secrets_def = repo.get_top_level_resources()["secrets"]
    assert _config_fields(secrets_def) == {"backend", "local_secrets_file"}
    assert dict(secrets_def.nested_resources) == {"vault": secrets.vault}
    assert _config_fields(secrets.vault.get_resource_definition()) == vault_fields
    assert set(repo.get_top_level_resources()) == {"secrets"}  # Vault is not promoted
    [secrets_snap] = [r for r in snap.resources if r.name == "secrets"]
    assert {f.name for f in secrets_snap.config_field_snaps} == {"backend", "local_secrets_file"}
    assert {k: n.name for k, n in secrets_snap.nested_resources.items()} == {
        "vault": "VaultResource"
    }

    # Nothing was read while loading; the missing credentials only surface on a read.
    with pytest.raises(VaultAuthenticationError, match=f"{auth_method} auth"):
        secrets.get_secret("pipelines/anything")


def _config_fields(resource_def: Any) -> set[str]:
    return set(resource_def.config_schema.as_field().config_type.fields)


def test_importing_the_secrets_package_does_not_import_hvac() -> None:
    """hvac is imported on the first Vault login, not when a code location loads."""
    code = (
        "import sys; import ol_orchestrate.resources.secrets as s; "
        "s.SecretsResource(backend='vault', vault=s.VaultResource(vault_addr='http://x')); "
        "print('hvac' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


def test_the_secrets_package_has_no_import_cycle() -> None:
    """`common` imports nothing of the package, the backends only `common`, `lease` only `vault`,
    `resource` the rest."""
    package = Path(secrets_package.__file__).parent
    prefix = "ol_orchestrate.resources.secrets."
    imports: dict[str, set[str]] = {}
    for module in package.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{module.name}: relative import"
                names.add(node.module or "")
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        imports[module.stem] = {n.removeprefix(prefix) for n in names if n.startswith(prefix)}
        assert "ol_orchestrate.resources.vault" not in names
    assert imports["common"] == set()
    assert imports["local"] == {"common"}
    assert imports["vault"] == {"common"}
    assert imports["lease"] == {"vault"}
    assert imports["resource"] == {"common", "local", "vault", "lease"}
    assert set(imports) == {"__init__", "common", "local", "vault", "lease", "resource"}
