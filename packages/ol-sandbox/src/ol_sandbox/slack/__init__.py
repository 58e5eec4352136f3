"""The sandbox's Slack: the Web API methods and incoming webhooks the failure alerts post to.

Served under `/slack/`: `api/chat.postMessage`, `api/auth.test` and `api/conversations.history`
with Slack's bearer-token auth, `{"ok": false, "error": ...}` answers and block validation (at
most 50 blocks, Slack's text limits), and incoming webhooks under `webhook/services/...`. Every
message accepted is recorded (`SlackApi.messages`; `GET /slack/messages` shows them), so tests
and a local Dagster UI show exactly what a channel would have received.
"""

from ol_sandbox.slack.routes import (
    MAX_BLOCKS,
    SLACK_PREFIX,
    SLACK_SANDBOX_TOKEN,
    SLACK_SANDBOX_WEBHOOK_PATH,
    SlackApi,
    SlackMessage,
    block_problems,
)

__all__ = [
    "MAX_BLOCKS",
    "SLACK_PREFIX",
    "SLACK_SANDBOX_TOKEN",
    "SLACK_SANDBOX_WEBHOOK_PATH",
    "SlackApi",
    "SlackMessage",
    "block_problems",
]
