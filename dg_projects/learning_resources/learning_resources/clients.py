"""The learning catalogs' APIs, through the platform's one HTTP client (`ApiClient`).

Each source is a plain JSON, CSV or paginated API; only Sloan needs credentials (OAuth2 client
credentials, read from the secrets resource when a client is built, never at load time). Retries,
`Retry-After`, pagination and safe error messages come from `ApiClient`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from ol_orchestrate.lib.http import ApiClient, ApiError, OAuth2ClientCredentialsAuth
from ol_orchestrate.resources.secrets import SecretsResource


class LearnSourceClient(ApiClient):
    """One learning catalog's API."""

    def drf_records(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record of a Django REST Framework listing (`results`, absolute `next` links)."""
        yield from self.paginate(path, params, style="next_url")

    def json_list(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """A JSON array endpoint (a feed); anything but an array is an `ApiError`."""
        payload = self.get_json(path, params)
        if not isinstance(payload, list):
            url = self.url_for(path)
            msg = f"GET {url} answered {type(payload).__name__}, not the JSON array it serves"
            raise ApiError(msg, method="GET", endpoint=url, status=200)
        return payload

    def text(self, path: str, *, accept: str = "text/csv") -> str:
        """A text endpoint (a CSV export), decoded as the server declares (UTF-8 by default)."""
        return self.request("GET", path, headers={"Accept": accept}).text


class LearnSourceResource(dg.ConfigurableResource):
    """Where one learning catalog answers; with `secret_path`, OAuth2 client credentials
    (`client_id`, `client_secret`) at `token_url` (default `<base_url>/oauth/token`)."""

    base_url: str
    secrets: SecretsResource
    secret_path: str = ""
    token_url: str = ""
    max_retries: int = 5
    backoff_initial: float = 0.5
    timeout: float = 60.0
    page_size: int = 100

    def client(self) -> LearnSourceClient:
        auth = None
        if self.secret_path:
            auth = OAuth2ClientCredentialsAuth(
                self.token_url or f"{self.base_url.rstrip('/')}/oauth/token",
                self.secrets.get_secret_value(self.secret_path, "client_id"),
                self.secrets.get_secret_value(self.secret_path, "client_secret"),
            )
        return LearnSourceClient(
            self.base_url,
            auth,
            max_retries=self.max_retries,
            backoff_initial=self.backoff_initial,
            timeout=self.timeout,
        )
