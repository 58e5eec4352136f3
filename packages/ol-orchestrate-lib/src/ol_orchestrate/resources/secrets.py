"""The one secrets interface assets use, whatever the environment.

Assets ask `SecretsResource.get_secret(path)` (or `get_secret_value(path, key)`); the resource
reads from the backend chosen in `PlatformSettings.secrets_backend`:

- ``local`` (dev and ci): a YAML file (default ``dg_deployments/local/secrets.yaml``,
  ``OL_SECRETS_FILE``) holding a nested mapping whose path segments are the ``/``-separated
  parts of the secret path and whose leaf is a mapping of key -> value::

      openedx:
        mitxonline:
          oauth:
            client_id: sandbox-mitxonline
            client_secret: sandbox-secret-mitxonline

  Keys missing from the file fall back to environment variables named
  ``OL_SECRET__<PATH>__<KEY>``: ``PATH`` is the secret path upper-cased with ``/`` replaced by
  ``__`` and ``-`` by ``_``; ``KEY`` is the key upper-cased with ``-`` replaced by ``_``. For
  example ``openedx/mitxonline/oauth`` key ``client_id`` is
  ``OL_SECRET__OPENEDX__MITXONLINE__OAUTH__CLIENT_ID``. Keys found only in the environment
  are returned lower-cased.
- ``vault`` (qa and production): `VaultResource` (``ol_orchestrate.resources.vault``).

Building the resource reads nothing: the file is parsed, and Vault is contacted, on the first
`get_secret`, so code locations load without credentials. A missing path or key raises
`SecretNotFoundError`, whose message names the path, the key and the backend but never a value.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr, field_validator

if TYPE_CHECKING:
    from ol_orchestrate.lib.environment import PlatformSettings
    from ol_orchestrate.resources.vault import VaultResource

ENV_PREFIX = "OL_SECRET__"


class SecretNotFoundError(KeyError):
    """A secret path (or a key in it) does not exist in the configured backend."""

    def __init__(self, path: str, key: str | None = None, *, backend: str) -> None:
        self.path = path
        self.key = key
        self.backend = backend
        what = f"key {key!r} of secret {path!r}" if key else f"secret {path!r}"
        self.message = f"{what} not found in {backend}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.message


def stringify_secret(data: Mapping[str, Any]) -> dict[str, str]:
    """Secret values as strings: scalars via `str`, booleans, nulls and containers as JSON."""
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str):
            out[str(key)] = value
        elif value is None or isinstance(value, bool | dict | list):
            out[str(key)] = json.dumps(value)
        else:
            out[str(key)] = str(value)
    return out


def env_var_prefix(path: str) -> str:
    """`OL_SECRET__<PATH>__` for a secret path (see the module docstring)."""
    segment = path.strip("/").upper().replace("-", "_").replace("/", "__")
    return f"{ENV_PREFIX}{segment}__"


def env_var_name(path: str, key: str) -> str:
    """The environment variable the local backend consults for `key` of `path`."""
    return env_var_prefix(path) + key.upper().replace("-", "_")


class LocalSecretsBackend:
    """Secrets from a YAML file, with environment-variable fallback (dev and ci).

    The file is read on first use; a file that does not exist is treated as empty so that
    environment variables alone suffice (e.g. in CI).
    """

    def __init__(
        self, secrets_file: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None
    ) -> None:
        self.secrets_file = Path(secrets_file) if secrets_file is not None else None
        self._environ = environ
        self._tree: Mapping[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        where = str(self.secrets_file) if self.secrets_file else "no file"
        return f"local secrets ({where} or {ENV_PREFIX}* environment variables)"

    def _load(self) -> Mapping[str, Any]:
        with self._lock:
            if self._tree is None:
                tree: Any = {}
                if self.secrets_file is not None and self.secrets_file.is_file():
                    with self.secrets_file.open(encoding="utf-8") as fh:
                        tree = yaml.safe_load(fh) or {}
                if not isinstance(tree, Mapping):
                    msg = f"{self.secrets_file}: expected a mapping at the top level"
                    raise ValueError(msg)
                self._tree = tree
            return self._tree

    def _from_file(self, path: str) -> Mapping[str, Any] | None:
        node: Any = self._load()
        for segment in path.split("/"):
            if not isinstance(node, Mapping) or segment not in node:
                return None
            node = node[segment]
        if not isinstance(node, Mapping):
            return None
        # A leaf is a mapping of scalar values; nested mappings are deeper secret paths.
        leaf = {k: v for k, v in node.items() if not isinstance(v, Mapping)}
        return leaf or None

    def _from_env(self, path: str) -> dict[str, str]:
        environ = os.environ if self._environ is None else self._environ
        prefix = env_var_prefix(path)
        found: dict[str, str] = {}
        for name, value in environ.items():
            if name.startswith(prefix):
                key = name[len(prefix) :]
                if key and "__" not in key:
                    found[key.lower()] = value
        return found

    def get_secret(self, path: str) -> dict[str, str]:
        path = path.strip("/")
        merged = stringify_secret(self._from_file(path) or {})
        # The file wins; the environment supplies the keys the file lacks.
        in_file = {env_var_name(path, key) for key in merged}
        for key, value in self._from_env(path).items():
            if env_var_name(path, key) not in in_file:
                merged[key] = value
        if not merged:
            raise SecretNotFoundError(path, backend=self.description)
        return merged


class SecretsResource(ConfigurableResource):
    """Secrets for assets: `get_secret(path)` / `get_secret_value(path, key)`.

    `backend` picks the local file/environment (dev, ci) or Vault (qa, production). Nothing is
    read when the resource is built; build it with `SecretsResource.from_settings(settings)`.
    """

    backend: Literal["local", "vault"] = Field(default="local", description="local | vault")
    local_secrets_file: str | None = Field(
        default=None,
        description="YAML secrets file for the local backend; default: the settings' file",
    )
    vault_addr: str | None = Field(default=None, description="Vault address")
    vault_auth_method: Literal["token", "approle", "kubernetes"] = Field(
        default="kubernetes", description="token | approle | kubernetes"
    )
    vault_token: str | None = Field(default=None, description="default: $VAULT_TOKEN")
    vault_role_id: str | None = Field(default=None, description="default: $VAULT_ROLE_ID")
    vault_secret_id: str | None = Field(default=None, description="default: $VAULT_SECRET_ID")
    vault_role: str | None = Field(default=None, description="Vault role (Kubernetes auth)")
    vault_kubernetes_jwt_path: str | None = Field(
        default=None, description="Service-account token file (Kubernetes auth)"
    )
    vault_auth_mount: str | None = Field(default=None, description="Auth mount point")
    vault_kv_mount: str = Field(default="secret", description="KV mount point")
    vault_kv_version: int = Field(default=2, description="KV engine version: 1 or 2")
    vault_verify_tls: bool = Field(default=True, description="Verify Vault's TLS certificate")

    _local: LocalSecretsBackend | None = PrivateAttr(default=None)
    _vault: VaultResource | None = PrivateAttr(default=None)

    @field_validator("vault_kv_version")
    @classmethod
    def _check_kv_version(cls, value: int) -> int:
        if value not in (1, 2):
            msg = f"vault_kv_version must be 1 or 2, got {value!r}"
            raise ValueError(msg)
        return value

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> SecretsResource:
        """The resource for an environment's settings (reads nothing)."""
        if settings.secrets_backend not in ("local", "vault"):
            msg = (
                f"unknown secrets backend {settings.secrets_backend!r} "
                "(OL_SECRETS_BACKEND); expected 'local' or 'vault'"
            )
            raise ValueError(msg)
        if settings.vault_auth_method not in ("token", "approle", "kubernetes"):
            msg = (
                f"unknown Vault auth method {settings.vault_auth_method!r} "
                "(VAULT_AUTH_METHOD); expected token, approle or kubernetes"
            )
            raise ValueError(msg)
        return cls(
            backend=settings.secrets_backend,  # type: ignore[arg-type]
            local_secrets_file=str(settings.local_secrets_file),
            vault_addr=settings.vault_addr,
            vault_auth_method=settings.vault_auth_method,  # type: ignore[arg-type]
            vault_role=settings.vault_role,
            vault_kv_mount=settings.vault_kv_mount,
            vault_kv_version=settings.vault_kv_version,
        )

    def _local_backend(self) -> LocalSecretsBackend:
        if self._local is None:
            secrets_file = self.local_secrets_file
            if secrets_file is None:
                from ol_orchestrate.lib.environment import get_settings

                secrets_file = str(get_settings().local_secrets_file)
            self._local = LocalSecretsBackend(secrets_file)
        return self._local

    def vault(self) -> VaultResource:
        """The Vault resource behind the `vault` backend (not yet authenticated)."""
        if self._vault is None:
            from ol_orchestrate.resources.vault import (
                DEFAULT_KUBERNETES_JWT_PATH,
                VaultResource,
            )

            if not self.vault_addr:
                msg = "the vault secrets backend needs vault_addr (VAULT_ADDR)"
                raise ValueError(msg)
            self._vault = VaultResource(
                vault_addr=self.vault_addr,
                auth_method=self.vault_auth_method,
                vault_token=self.vault_token,
                role_id=self.vault_role_id,
                secret_id=self.vault_secret_id,
                vault_role=self.vault_role,
                kubernetes_jwt_path=self.vault_kubernetes_jwt_path or DEFAULT_KUBERNETES_JWT_PATH,
                auth_mount=self.vault_auth_mount,
                kv_mount=self.vault_kv_mount,
                kv_version=self.vault_kv_version,
                verify_tls=self.vault_verify_tls,
            )
        return self._vault

    def get_secret(self, path: str) -> dict[str, str]:
        """All key/value pairs of the secret at `path`."""
        if self.backend == "vault":
            return self.vault().get_secret(path)
        return self._local_backend().get_secret(path)

    def get_secret_value(self, path: str, key: str) -> str:
        """One value of the secret at `path`."""
        secret = self.get_secret(path)
        if key not in secret:
            backend = (
                f"vault {self.vault_kv_mount}"
                if self.backend == "vault"
                else self._local_backend().description
            )
            raise SecretNotFoundError(path.strip("/"), key, backend=backend)
        return secret[key]

    def read_dynamic_credentials(self, path: str) -> dict[str, str]:
        """Dynamic credentials (Vault database engine); locally, the static secret at `path`."""
        if self.backend == "vault":
            return self.vault().read_dynamic_credentials(path)
        return self._local_backend().get_secret(path)
