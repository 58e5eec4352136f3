"""`SecretsResource`: the one secrets interface assets use, whatever the environment."""

from __future__ import annotations

import logging
from typing import Any, Literal, Self

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr, model_validator

from ol_orchestrate.lib.environment import PlatformSettings, get_settings
from ol_orchestrate.resources.secrets.common import SecretNotFoundError
from ol_orchestrate.resources.secrets.lease import DynamicCredentialsLease
from ol_orchestrate.resources.secrets.local import LocalSecretsBackend
from ol_orchestrate.resources.secrets.vault import AUTH_METHODS, VaultResource


class SecretsResource(ConfigurableResource):
    """Secrets for assets: `get_secret(path)` / `get_secret_value(path, key)`.

    `backend` picks the local file/environment (dev, ci) or Vault (qa, production); the Vault
    backend is the nested `vault` resource. Nothing is read when the resource is built; build it
    with `SecretsResource.from_settings(settings)`.
    """

    backend: Literal["local", "vault"] = Field(default="local", description="local | vault")
    local_secrets_file: str | None = Field(
        default=None,
        description="YAML secrets file for the local backend; default: the settings' file",
    )
    vault: VaultResource | None = Field(
        default=None, description="The Vault resource of the vault backend (nested resource)"
    )

    _local: LocalSecretsBackend | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        # `vault=None` is the default: leave it out, so Dagster records no (None) nested resource.
        if "vault" in data and data["vault"] is None:
            del data["vault"]
        super().__init__(**data)

    @model_validator(mode="after")
    def _vault_backend_needs_vault(self) -> Self:
        if self.backend == "vault" and self.vault is None:
            msg = (
                "the vault secrets backend needs its Vault resource: "
                "SecretsResource(backend='vault', vault=VaultResource(vault_addr=...))"
            )
            raise ValueError(msg)
        return self

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> SecretsResource:
        """The resource for an environment's settings (reads nothing)."""
        backend = settings.secrets_backend
        if backend not in ("local", "vault"):
            msg = (
                f"unknown secrets backend {backend!r} "
                "(OL_SECRETS_BACKEND); expected 'local' or 'vault'"
            )
            raise ValueError(msg)
        if settings.vault_auth_method not in AUTH_METHODS:
            msg = (
                f"unknown Vault auth method {settings.vault_auth_method!r} "
                "(VAULT_AUTH_METHOD); expected token, approle or kubernetes"
            )
            raise ValueError(msg)
        vault = None
        if backend == "vault":
            vault = VaultResource(
                vault_addr=settings.vault_addr,
                auth_method=settings.vault_auth_method,  # type: ignore[arg-type]
                vault_role=settings.vault_role,
                kv_mount=settings.vault_kv_mount,
                kv_version=settings.vault_kv_version,
            )
        return cls(
            backend=backend,  # type: ignore[arg-type]
            local_secrets_file=str(settings.local_secrets_file),
            vault=vault,
        )

    def _local_backend(self) -> LocalSecretsBackend:
        if self._local is None:
            secrets_file = self.local_secrets_file
            if secrets_file is None:
                secrets_file = str(get_settings().local_secrets_file)
            self._local = LocalSecretsBackend(secrets_file)
        return self._local

    def _vault_resource(self) -> VaultResource:
        if self.vault is None:  # the validator prevents it; a clear error all the same
            msg = "the vault secrets backend has no Vault resource (SecretsResource.vault)"
            raise ValueError(msg)
        return self.vault

    def get_secret(self, path: str) -> dict[str, str]:
        """All key/value pairs of the secret at `path`."""
        if self.backend == "vault":
            return self._vault_resource().get_secret(path)
        return self._local_backend().get_secret(path)

    def get_secret_value(self, path: str, key: str) -> str:
        """One value of the secret at `path`."""
        secret = self.get_secret(path)
        if key not in secret:
            backend = (
                f"vault {self._vault_resource().kv_mount}"
                if self.backend == "vault"
                else self._local_backend().description
            )
            raise SecretNotFoundError(path.strip("/"), key, backend=backend)
        return secret[key]

    def read_dynamic_credentials(self, path: str) -> dict[str, str]:
        """Dynamic credentials (Vault database engine); locally, the static secret at `path`."""
        if self.backend == "vault":
            return self._vault_resource().read_dynamic_credentials(path)
        return self._local_backend().get_secret(path)

    def renew_lease(self, lease_id: str, increment: int | None = None) -> int:
        """Extend a dynamic credentials lease; its new duration in seconds (Vault only: the
        local backend's static credentials have no lease, and this returns 0)."""
        if self.backend == "vault":
            return self._vault_resource().renew_lease(lease_id, increment)
        return 0

    def revoke_lease(self, lease_id: str) -> None:
        """End a dynamic credentials lease now (Vault only; nothing to do locally)."""
        if self.backend == "vault":
            self._vault_resource().revoke_lease(lease_id)

    def dynamic_credentials(
        self, path: str, *, log: logging.Logger | None = None, **options: Any
    ) -> DynamicCredentialsLease:
        """`with secrets.dynamic_credentials(path) as lease:` — credentials read on entry, the
        lease renewed in the background while the block runs and revoked when it ends
        (`DynamicCredentialsLease`; `options`: `renew_fraction`, `increment`)."""
        return DynamicCredentialsLease(self, path, log=log, **options)
