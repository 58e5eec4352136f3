"""The one secrets interface assets use, whatever the environment.

Assets ask `SecretsResource.get_secret(path)` (or `get_secret_value(path, key)`); the resource
reads from the backend chosen in `PlatformSettings.secrets_backend`:

- ``local`` (dev and ci): `LocalSecretsBackend` (`.local`), a YAML file (default
  ``dg_deployments/local/secrets.yaml``, ``OL_SECRETS_FILE``) with ``OL_SECRET__<PATH>__<KEY>``
  environment variables as fallback.
- ``vault`` (qa and production): `VaultResource` (`.vault`), nested in `SecretsResource` as its
  `vault` field (a Dagster nested resource).

Building the resource reads nothing: the file is parsed, and Vault is contacted, on the first
`get_secret`, so code locations load without credentials. A missing path or key raises
`SecretNotFoundError` (`.common`), whose message names the path, the key and the backend but
never a value.

Modules: `common` (errors and value conversion, imports nothing of the package), `local` and
`vault` (the backends, import `common`), `lease` (`DynamicCredentialsLease`: a Vault dynamic
credentials lease renewed while work runs and revoked after; imports `vault`), `resource`
(`SecretsResource`, imports the rest).
"""

from ol_orchestrate.resources.secrets.common import SecretNotFoundError, stringify_secret
from ol_orchestrate.resources.secrets.lease import DynamicCredentialsLease, LeaseExpiredError
from ol_orchestrate.resources.secrets.local import (
    ENV_PREFIX,
    LocalSecretsBackend,
    env_var_name,
    env_var_prefix,
)
from ol_orchestrate.resources.secrets.resource import SecretsResource
from ol_orchestrate.resources.secrets.vault import (
    DEFAULT_KUBERNETES_JWT_PATH,
    VaultAuthenticationError,
    VaultError,
    VaultPermissionError,
    VaultResource,
)

__all__ = [
    "DEFAULT_KUBERNETES_JWT_PATH",
    "ENV_PREFIX",
    "DynamicCredentialsLease",
    "LeaseExpiredError",
    "LocalSecretsBackend",
    "SecretNotFoundError",
    "SecretsResource",
    "VaultAuthenticationError",
    "VaultError",
    "VaultPermissionError",
    "VaultResource",
    "env_var_name",
    "env_var_prefix",
    "stringify_secret",
]
