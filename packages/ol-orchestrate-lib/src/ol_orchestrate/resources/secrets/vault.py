"""HashiCorp Vault access for qa and production, on `hvac`.

Code locations must load with no credentials, so `VaultResource` does nothing when it is built
(not even import `hvac`): it authenticates on the first read (token, AppRole or Kubernetes
service-account auth), keeps the authenticated client for later reads, and re-authenticates once
if Vault starts refusing the cached token (an expired lease). Secrets are read from a KV v1 or v2
mount; database secrets engines (the legacy Open edX MySQL credentials) go through
`read_dynamic_credentials`.

Errors name the auth method, the Vault address and the secret path, never a token, a secret ID
or a secret value. Assets should use `SecretsResource` (`ol_orchestrate.resources.secrets`),
which nests this resource as its `vault` field and hides whether secrets come from Vault or from
the local development file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import requests
from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr, field_validator

from ol_orchestrate.resources.secrets.common import SecretNotFoundError, stringify_secret

if TYPE_CHECKING:
    import hvac
    import hvac.exceptions

DEFAULT_KUBERNETES_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

AuthMethod = Literal["token", "approle", "kubernetes"]
AUTH_METHODS: tuple[str, ...] = get_args(AuthMethod)

_DEFAULT_AUTH_MOUNTS: Mapping[str, str] = {"approle": "approle", "kubernetes": "kubernetes"}


class VaultError(RuntimeError):
    """Vault could not be reached or refused a request (never carries a credential)."""


class VaultAuthenticationError(VaultError):
    """Logging in to Vault failed; the message names the auth method and the address."""


class VaultPermissionError(VaultError):
    """Vault refused to read a path even with a freshly authenticated token."""


class VaultResource(ConfigurableResource):
    """Reads secrets from Vault; authenticates lazily on the first read."""

    vault_addr: str = Field(description="Vault address, e.g. https://vault-qa.odl.mit.edu")
    auth_method: AuthMethod = Field(
        default="kubernetes", description="token | approle | kubernetes"
    )
    vault_token: str | None = Field(
        default=None, description="Token for `token` auth; default: $VAULT_TOKEN at first use"
    )
    role_id: str | None = Field(
        default=None, description="AppRole role ID; default: $VAULT_ROLE_ID at first use"
    )
    secret_id: str | None = Field(
        default=None, description="AppRole secret ID; default: $VAULT_SECRET_ID at first use"
    )
    vault_role: str | None = Field(default=None, description="Vault role for Kubernetes auth")
    kubernetes_jwt_path: str = Field(
        default=DEFAULT_KUBERNETES_JWT_PATH, description="Service-account token file"
    )
    auth_mount: str | None = Field(
        default=None, description="Auth mount point; default: `approle` / `kubernetes`"
    )
    kv_mount: str = Field(default="secret", description="KV secrets engine mount point")
    kv_version: int = Field(default=2, description="KV engine version: 1 or 2")
    verify_tls: bool = Field(default=True, description="Verify Vault's TLS certificate")
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per Vault request")

    _client: Any = PrivateAttr(default=None)  # the authenticated hvac.Client, once logged in

    @field_validator("kv_version")
    @classmethod
    def _check_kv_version(cls, value: int) -> int:
        if value not in (1, 2):
            msg = f"kv_version must be 1 or 2, got {value!r}"
            raise ValueError(msg)
        return value

    # -- authentication -------------------------------------------------------------------

    def _describe(self) -> str:
        return f"{self.auth_method} auth at {self.vault_addr}"

    def _auth_failed(self, reason: str) -> VaultAuthenticationError:
        return VaultAuthenticationError(f"Vault login failed ({self._describe()}): {reason}")

    def _login(self) -> hvac.Client:
        import hvac
        import hvac.exceptions

        client = hvac.Client(
            url=self.vault_addr, verify=self.verify_tls, timeout=self.timeout_seconds
        )
        mount = self.auth_mount or _DEFAULT_AUTH_MOUNTS.get(self.auth_method, "")
        try:
            if self.auth_method == "token":
                token = self.vault_token or os.environ.get("VAULT_TOKEN", "").strip()
                if not token:
                    raise self._auth_failed("no token: set vault_token or VAULT_TOKEN")
                client.token = token
                client.lookup_token()  # proves the token is valid before any read
            elif self.auth_method == "approle":
                role_id = self.role_id or os.environ.get("VAULT_ROLE_ID", "").strip()
                secret_id = self.secret_id or os.environ.get("VAULT_SECRET_ID", "").strip()
                if not role_id or not secret_id:
                    raise self._auth_failed(
                        "role_id/secret_id missing: set them or VAULT_ROLE_ID/VAULT_SECRET_ID"
                    )
                client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)
            elif self.auth_method == "kubernetes":
                if not self.vault_role:
                    raise self._auth_failed("vault_role is required for Kubernetes auth")
                try:
                    jwt = Path(self.kubernetes_jwt_path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    reason = (
                        f"cannot read the service-account token at {self.kubernetes_jwt_path} "
                        f"({exc.strerror or type(exc).__name__})"
                    )
                    raise self._auth_failed(reason) from None
                client.auth.kubernetes.login(role=self.vault_role, jwt=jwt, mount_point=mount)
            else:  # pragma: no cover - pydantic rejects other values
                raise self._auth_failed(f"unknown auth method {self.auth_method!r}")
        except hvac.exceptions.VaultError as exc:
            raise self._auth_failed(_hvac_reason(exc)) from None
        except requests.RequestException as exc:
            raise self._auth_failed(f"cannot reach Vault ({type(exc).__name__})") from None
        if not client.token:
            raise self._auth_failed("Vault returned no client token")
        return client

    def get_client(self) -> hvac.Client:
        """The authenticated hvac client (logs in on first use, then reuses it)."""
        if self._client is None:
            self._client = self._login()
        return self._client

    def _with_reauth(self, what: str, read: Callable[[hvac.Client], Any]) -> Any:
        """Run `read(client)`; on 403 log in again once (the cached lease may have expired)."""
        import hvac.exceptions

        for attempt in (1, 2):
            client = self.get_client()
            try:
                return read(client)
            except hvac.exceptions.Forbidden:
                self._client = None
                if attempt == 2:
                    msg = f"Vault denied reading {what} ({self._describe()})"
                    raise VaultPermissionError(msg) from None
            except hvac.exceptions.VaultError as exc:
                msg = f"Vault error reading {what} ({self._describe()}): {_hvac_reason(exc)}"
                raise VaultError(msg) from None
            except requests.RequestException as exc:
                msg = (
                    f"cannot reach Vault reading {what} ({self._describe()}): {type(exc).__name__}"
                )
                raise VaultError(msg) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reads --------------------------------------------------------------------------------

    def get_secret(self, path: str) -> dict[str, str]:
        """Key/value pairs of the KV secret at `path` (relative to `kv_mount`)."""
        import hvac.exceptions

        path = path.strip("/")
        where = f"{self.kv_mount}/{path}"

        def read(client: hvac.Client) -> dict[str, Any] | None:
            try:
                if self.kv_version == 2:
                    response = client.secrets.kv.v2.read_secret_version(
                        path=path, mount_point=self.kv_mount, raise_on_deleted_version=False
                    )
                    data = (response or {}).get("data") or {}
                    return data.get("data")  # None for a deleted version
                response = client.secrets.kv.v1.read_secret(path=path, mount_point=self.kv_mount)
                return (response or {}).get("data")
            except hvac.exceptions.InvalidPath:
                return None

        data = self._with_reauth(where, read)
        if data is None:
            raise SecretNotFoundError(path, backend=f"vault kv v{self.kv_version} {where}")
        return stringify_secret(data)

    def read_dynamic_credentials(self, path: str) -> dict[str, str]:
        """Read a dynamic-secrets endpoint (e.g. `database/creds/<role>`): its `data` mapping.

        Each call asks Vault for a new lease; the result is not cached. Lease metadata is added
        under `lease_id` and `lease_duration` when Vault returns them.
        """
        path = path.strip("/")
        response = self._with_reauth(path, lambda client: client.read(path))
        if not response or response.get("data") is None:
            raise SecretNotFoundError(path, backend=f"vault dynamic {path}")
        result = stringify_secret(response["data"])
        for field_name in ("lease_id", "lease_duration"):
            if response.get(field_name) not in (None, ""):
                result.setdefault(field_name, str(response[field_name]))
        return result

    def renew_lease(self, lease_id: str, increment: int | None = None) -> int:
        """Extend a lease (`sys/leases/renew`) by `increment` seconds (Vault's default when None);
        returns the lease's new duration in seconds, which Vault caps at the role's max TTL.

        A lease Vault no longer knows (expired, revoked) or will not renew raises `VaultError`.
        """
        response = self._with_reauth(
            f"lease {lease_id}",
            lambda client: client.sys.renew_lease(lease_id=lease_id, increment=increment),
        )
        return int((response or {}).get("lease_duration") or 0)

    def revoke_lease(self, lease_id: str) -> None:
        """End a lease now (`sys/leases/revoke`): Vault drops the credentials it issued."""
        self._with_reauth(
            f"lease {lease_id}", lambda client: client.sys.revoke_lease(lease_id=lease_id)
        )


def _hvac_reason(exc: hvac.exceptions.VaultError) -> str:
    """A short, credential-free description of an hvac error."""
    errors = getattr(exc, "errors", None)
    detail = "; ".join(str(e) for e in errors) if isinstance(errors, list) and errors else ""
    status = {
        "InvalidRequest": "400",
        "Unauthorized": "401",
        "Forbidden": "403",
        "InvalidPath": "404",
    }.get(type(exc).__name__, "")
    parts = [type(exc).__name__ + (f" (HTTP {status})" if status else "")]
    if detail:
        parts.append(detail)
    return ": ".join(parts)
