"""The sandbox's HashiCorp Vault: dynamic database credentials for the legacy LMS database.

Served under `/vault/` (`VaultApi`): token lookup, `GET <mount>/creds/<role>` (a MariaDB user
really created for the lease, read-only on the role's database), lease renewal and revocation
(the user really dropped), and expiry on the emulator's clock. One role per legacy deployment
by default: `mariadb-<deployment>/creds/readonly` on database `edxapp` of 127.0.0.1:3306.
"""

from ol_sandbox.vault.routes import (
    DEFAULT_ROLE,
    VAULT_PREFIX,
    VAULT_SANDBOX_TOKEN,
    DatabaseRole,
    Lease,
    LeaseEvent,
    MariaDbServer,
    VaultApi,
)

__all__ = [
    "DEFAULT_ROLE",
    "VAULT_PREFIX",
    "VAULT_SANDBOX_TOKEN",
    "DatabaseRole",
    "Lease",
    "LeaseEvent",
    "MariaDbServer",
    "VaultApi",
]
