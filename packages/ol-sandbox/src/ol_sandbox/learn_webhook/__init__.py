"""The sandbox's MIT Learn: the webhook receiver the learning_resources location delivers to.

It verifies the `X-MITLearn-Signature` of every body (401 for an unsigned or wrongly signed one),
records what it accepts and applies it to a catalog, and can be told to fail (`fail`, `recover`).
`.routes` has the contract; the names below are the package's public API.
"""

from ol_sandbox.learn_webhook.routes import (
    LEARN_PREFIX,
    REQUIRED_FIELDS,
    SIGNATURE_HEADER,
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
    Attempt,
    CatalogWebhook,
    Delivery,
    signature,
)

__all__ = [
    "LEARN_PREFIX",
    "REQUIRED_FIELDS",
    "SIGNATURE_HEADER",
    "WEBHOOK_PATH",
    "WEBHOOK_SECRET",
    "Attempt",
    "CatalogWebhook",
    "Delivery",
    "signature",
]
