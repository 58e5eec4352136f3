"""MIT Learn's webhook receiver (`CatalogWebhook`), served under `/mit_learn/`:

- `POST api/v1/webhooks/learning_resources/` with header `X-MITLearn-Signature`: the hex
  HMAC-SHA256 of the exact body bytes under the shared secret (`WEBHOOK_SECRET`, also in
  dg_deployments/local/secrets.yaml at `learn/webhook`). The body is JSON:
  `{"etl_source", "action": "upsert", "resources": [<LearningResource>, ...]}` or
  `{"etl_source", "action": "delete", "readable_ids": [...]}`. An unsigned or wrongly signed body
  is refused with 401 `{"detail": "Invalid signature."}` before it is parsed; a malformed one with
  400 naming the problem; an accepted one answers 200 `{"status": "ok", "action", "etl_source",
  "count"}`, is recorded (`.deliveries`) and applied to the catalog (`.resources`).
- `GET api/v1/webhooks/deliveries/`: what was accepted, in order; `GET api/v1/learning_resources/`:
  the catalog as the deliveries left it.

`fail(status, after=, count=, retry_after=)` makes it answer `status` (503 by default, 429 with
`Retry-After` when given) to POSTs after `after` more accepted ones, `count` times or until
`recover()`: an outage in the middle of a delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ol_sandbox.routing import Request, Response

LEARN_PREFIX = "mit_learn"
WEBHOOK_PATH = "api/v1/webhooks/learning_resources"
SIGNATURE_HEADER = "X-MITLearn-Signature"
# SANDBOX-ONLY shared secret (also in dg_deployments/local/secrets.yaml, learn/webhook).
WEBHOOK_SECRET = "sandbox-learn-webhook-secret"  # noqa: S105  # pragma: allowlist secret
REQUIRED_FIELDS = ("readable_id", "title", "url", "resource_type", "etl_source")


def signature(secret: str, body: bytes) -> str:
    """The signature a body must carry: hex HMAC-SHA256 of its bytes."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One accepted webhook."""

    etl_source: str
    action: str  # "upsert" | "delete"
    readable_ids: tuple[str, ...]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    def to_json(self) -> dict[str, Any]:
        return {
            "etl_source": self.etl_source,
            "action": self.action,
            "readable_ids": list(self.readable_ids),
        }


@dataclass(frozen=True)
class Attempt:
    """One POST the receiver saw, accepted or not."""

    status: int
    etl_source: str | None
    action: str | None
    count: int


class CatalogWebhook:
    """The receiver (see the module doc). Thread-safe."""

    def __init__(self, secret: str = WEBHOOK_SECRET) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._attempts: list[Attempt] = []
        self._resources: dict[str, dict[str, dict[str, Any]]] = {}
        self._fail_status: int | None = None
        self._fail_after = 0
        self._fail_count: int | None = None
        self._retry_after: str | None = None

    # -- knobs --------------------------------------------------------------------------------

    def fail(
        self,
        status: int = 503,
        *,
        after: int = 0,
        count: int | None = None,
        retry_after: float | str | None = None,
    ) -> None:
        """Answer `status` to POSTs once `after` more have been accepted: `count` times, or
        until `recover()` when None."""
        with self._lock:
            self._fail_status = status
            self._fail_after = after
            self._fail_count = count
            self._retry_after = None if retry_after is None else str(retry_after)

    def recover(self) -> None:
        with self._lock:
            self._fail_status = None
            self._fail_count = None

    def clear(self) -> None:
        """Forget deliveries, attempts and the catalog (the knobs stay)."""
        with self._lock:
            self._deliveries.clear()
            self._attempts.clear()
            self._resources.clear()

    # -- what it received ---------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def attempts(self) -> list[Attempt]:
        with self._lock:
            return list(self._attempts)

    def upserted(self, etl_source: str | None = None) -> list[str]:
        """Readable ids of every accepted upsert (of one source) in delivery order, repeats kept."""
        return [
            readable_id
            for delivery in self.deliveries
            if delivery.action == "upsert" and etl_source in (None, delivery.etl_source)
            for readable_id in delivery.readable_ids
        ]

    def deleted(self, etl_source: str | None = None) -> list[str]:
        return [
            readable_id
            for delivery in self.deliveries
            if delivery.action == "delete" and etl_source in (None, delivery.etl_source)
            for readable_id in delivery.readable_ids
        ]

    def resources(self, etl_source: str | None = None) -> dict[str, dict[str, Any]]:
        """The catalog: readable id -> the resource as last delivered (of one source, or all)."""
        with self._lock:
            if etl_source is not None:
                return dict(self._resources.get(etl_source, {}))
            return {rid: r for by_id in self._resources.values() for rid, r in by_id.items()}

    # -- HTTP ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        route = "/".join(s for s in request.path.split("/") if s)
        if route == WEBHOOK_PATH:
            if request.method != "POST":
                return Response.json(405, {"detail": "Method not allowed."}, {"Allow": "POST"})
            return self.receive(request)
        if route == "api/v1/webhooks/deliveries" and request.method == "GET":
            return Response.json(200, [d.to_json() for d in self.deliveries])
        if route == "api/v1/learning_resources" and request.method == "GET":
            return Response.json(200, list(self.resources().values()))
        return Response.json(404, {"detail": "Not found."})

    def receive(self, request: Request) -> Response:
        with self._lock:
            outage = self._outage()
        if outage is not None:
            self._attempt(outage.status, None)
            return outage
        sent = request.headers.get(SIGNATURE_HEADER.lower(), "").strip()
        if not sent or not hmac.compare_digest(sent, signature(self.secret, request.body)):
            self._attempt(401, None)
            return Response.json(401, {"detail": "Invalid signature."})
        try:
            payload = json.loads(request.body)
        except ValueError:
            self._attempt(400, None)
            return Response.json(400, {"detail": "The body is not JSON."})
        problem, delivery = _parse(payload, request.body)
        if delivery is None:
            self._attempt(400, payload if isinstance(payload, Mapping) else None)
            return Response.json(400, {"detail": problem})
        with self._lock:
            self._deliveries.append(delivery)
            by_id = self._resources.setdefault(delivery.etl_source, {})
            if delivery.action == "upsert":
                for resource in payload["resources"]:
                    by_id[resource["readable_id"]] = resource
            else:
                for readable_id in delivery.readable_ids:
                    by_id.pop(readable_id, None)
            if self._fail_after > 0:
                self._fail_after -= 1
        self._attempt(200, payload)
        return Response.json(
            200,
            {
                "status": "ok",
                "action": delivery.action,
                "etl_source": delivery.etl_source,
                "count": len(delivery.readable_ids),
            },
        )

    def _outage(self) -> Response | None:
        if self._fail_status is None or self._fail_after > 0:
            return None
        if self._fail_count is not None:
            if self._fail_count <= 0:
                self._fail_status = None
                return None
            self._fail_count -= 1
        headers = {"Retry-After": self._retry_after} if self._retry_after else {}
        return Response.json(self._fail_status, {"detail": "The catalog is unavailable."}, headers)

    def _attempt(self, status: int, payload: Mapping[str, Any] | None) -> None:
        action = payload.get("action") if payload else None
        items = (payload.get("resources") or payload.get("readable_ids") or []) if payload else []
        with self._lock:
            self._attempts.append(
                Attempt(
                    status,
                    str(payload.get("etl_source")) if payload else None,
                    str(action) if action else None,
                    len(items) if isinstance(items, list) else 0,
                )
            )


def _parse(payload: Any, body: bytes) -> tuple[str, Delivery | None]:
    """Why a webhook body is malformed, or the delivery it is."""
    if not isinstance(payload, Mapping):
        return "The body must be a JSON object.", None
    etl_source = payload.get("etl_source")
    if not isinstance(etl_source, str) or not etl_source:
        return "etl_source is required.", None
    action = payload.get("action")
    if action == "upsert":
        resources = payload.get("resources")
        if not isinstance(resources, list):
            return "resources must be a list.", None
        ids = []
        for position, resource in enumerate(resources):
            if not isinstance(resource, Mapping):
                return f"resources[{position}] must be an object.", None
            missing = [name for name in REQUIRED_FIELDS if not resource.get(name)]
            if missing:
                return f"resources[{position}]: {', '.join(missing)} required.", None
            if resource["etl_source"] != etl_source:
                return f"resources[{position}]: etl_source differs from the webhook's.", None
            ids.append(str(resource["readable_id"]))
        return "", Delivery(etl_source, "upsert", tuple(ids), body)
    if action == "delete":
        readable_ids = payload.get("readable_ids")
        if not isinstance(readable_ids, list) or not all(
            isinstance(rid, str) and rid for rid in readable_ids
        ):
            return "readable_ids must be a list of strings.", None
        return "", Delivery(etl_source, "delete", tuple(readable_ids), body)
    return "action must be upsert or delete.", None
