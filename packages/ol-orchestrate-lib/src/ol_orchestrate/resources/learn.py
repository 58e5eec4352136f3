"""MIT Learn's catalog webhooks: signed POSTs of learning resources and of their deletions.

Every webhook body is serialized once to bytes, signed with HMAC-SHA256 under the shared secret
(the secrets resource, read when a client is built, never at load time) and sent byte for byte
with the hex digest in `X-MITLearn-Signature`, so what the catalog verifies is exactly what was
signed. `LearnWebhookClient` is an `ApiClient`: 429 and 5xx answers are retried with backoff
(honouring `Retry-After`), as are connection failures (the catalog upserts by readable id, so a
repeated body changes nothing); any other 4xx is never retried and raises `WebhookRejectedError`,
or `WebhookSignatureError` naming the secret's path (never the secret) when the catalog refuses
the signature.

The webhook contract (docs/contracts.md, "MIT Learn webhooks"): `POST <base>/api/v1/webhooks/
learning_resources/` with `{"etl_source", "action": "upsert", "resources": [...]}` or
`{"etl_source", "action": "delete", "readable_ids": [...]}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import httpx

from ol_orchestrate.lib.http import ApiAuth, ApiClient, ApiError, RetryBudgetExhaustedError
from ol_orchestrate.resources.secrets import SecretsResource

SIGNATURE_HEADER = "X-MITLearn-Signature"
WEBHOOK_PATH = "/api/v1/webhooks/learning_resources/"
DEFAULT_SECRET_KEY = "secret"  # noqa: S105  # pragma: allowlist secret (the key's name)


def encode_body(payload: Any) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8, keys in the payload's order."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    """The `X-MITLearn-Signature` of `body`: hex HMAC-SHA256 under `secret`."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookRejectedError(ApiError):
    """The catalog refused a webhook with a 4xx other than 429 (not retried)."""


class WebhookSignatureError(WebhookRejectedError):
    """The catalog refused the signature (401/403): the shared secret differs from the catalog's."""


class WebhookSigner(ApiAuth):
    """Holds the shared secret: signs bodies, and keeps it out of every error message."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the webhook secret is empty")
        self._secret = secret

    def sign(self, body: bytes) -> str:
        return sign(self._secret, body)

    def secrets(self) -> tuple[str, ...]:
        return (self._secret,)

    def __repr__(self) -> str:
        return "WebhookSigner(secret=***)"


class LearnWebhookClient(ApiClient):
    """Signed webhooks to MIT Learn's catalog (see the module doc)."""

    auth: WebhookSigner

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        secret_path: str,
        secret_key: str = DEFAULT_SECRET_KEY,
        webhook_path: str = WEBHOOK_PATH,
        **api_client_kwargs: Any,
    ) -> None:
        super().__init__(base_url, WebhookSigner(secret), **api_client_kwargs)
        self.secret_path = secret_path
        self.secret_key = secret_key
        self.webhook_path = webhook_path

    def is_retryable(self, response: httpx.Response) -> bool:
        """5xx only: a 4xx other than 429 (throttling, `is_throttled`) is never retried."""
        return response.status_code >= 500

    def post_signed(self, payload: Mapping[str, Any]) -> Any:
        """POST `payload` as signed JSON; the catalog's JSON answer (None if empty)."""
        body = encode_body(payload)
        headers = {
            SIGNATURE_HEADER: self.auth.sign(body),
            "Content-Type": "application/json",
        }
        try:
            response = self.request("POST", self.webhook_path, content=body, headers=headers)
        except ApiError as error:
            retried = isinstance(error, RetryBudgetExhaustedError)  # 429s until the budget ran out
            if retried or error.status is None or not 400 <= error.status < 500:
                raise
            if error.status in (401, 403):
                msg = (
                    f"{error}. The catalog refused the webhook signature: the secret at "
                    f"{self.secret_path!r} (key {self.secret_key!r}) is not the one it "
                    "verifies with"
                )
                raise WebhookSignatureError(
                    msg,
                    method=error.method,
                    endpoint=error.endpoint,
                    status=error.status,
                    detail=error.detail,
                ) from None
            raise WebhookRejectedError(
                str(error),
                method=error.method,
                endpoint=error.endpoint,
                status=error.status,
                detail=error.detail,
            ) from None
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def upsert(self, etl_source: str, resources: Sequence[Mapping[str, Any]]) -> Any:
        return self.post_signed(
            {"etl_source": etl_source, "action": "upsert", "resources": list(resources)}
        )

    def delete(self, etl_source: str, readable_ids: Sequence[str]) -> Any:
        return self.post_signed(
            {"etl_source": etl_source, "action": "delete", "readable_ids": list(readable_ids)}
        )


class LearnWebhookResource(dg.ConfigurableResource):
    """Where MIT Learn's webhooks go and the secret that signs them; the secret is read when a
    client is built (never at load time)."""

    base_url: str
    secret_path: str
    secrets: SecretsResource
    secret_key: str = DEFAULT_SECRET_KEY
    webhook_path: str = WEBHOOK_PATH
    max_retries: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0
    timeout: float = 60.0

    def client(self, **overrides: Any) -> LearnWebhookClient:
        options: dict[str, Any] = {
            "max_retries": self.max_retries,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
            "max_retry_after": self.max_retry_after,
            "timeout": self.timeout,
            **overrides,
        }
        return LearnWebhookClient(
            self.base_url,
            self.secrets.get_secret_value(self.secret_path, self.secret_key),
            secret_path=self.secret_path,
            secret_key=self.secret_key,
            webhook_path=self.webhook_path,
            **options,
        )
