"""The sandbox's Open edX LMS: the REST APIs of every deployment of an `Institution`.

Served under `/openedx/<deployment>/` with the real paths, OAuth2 client-credentials auth and
payload shapes (see docs/contracts.md). The data is `ol_sandbox.data` (an `Institution`'s
deployments); modules: `.tokens` (credentials, issued tokens), `.payloads` (the JSON), `.routes`
(`OpenEdxApi`, the HTTP endpoints).
"""

from ol_sandbox.openedx.routes import OPENEDX_PREFIX, OpenEdxApi
from ol_sandbox.openedx.tokens import TokenStore, client_id_for, client_secret_for

__all__ = ["OPENEDX_PREFIX", "OpenEdxApi", "TokenStore", "client_id_for", "client_secret_for"]
