"""The alerts as Slack messages (Block Kit, within Slack's limits) and Sentry events.

A run failure message carries the location, job, partition, step, error type and first line,
retry number, links to the run and its assets in the environment's Dagster UI, and the Sentry
event id; a check-failure message is a header block plus one block per failed check (at most
`MAX_CHECK_BLOCKS`, so a message stays under Slack's 50 blocks). Every piece of text is already
scrubbed of secrets by the descriptions it comes from, and escaped for Slack here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ol_orchestrate.lib.alerts.dedup import Occurrences
from ol_orchestrate.lib.alerts.failures import (
    INTERRUPTIONS,
    RUN_STEP,
    CheckEvaluation,
    RunFailure,
)

# Slack's limits on one message (https://api.slack.com/reference/block-kit/blocks).
SLACK_MAX_BLOCKS = 50
MAX_CHECK_BLOCKS = SLACK_MAX_BLOCKS - 1  # one header block, then one block per check
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_FIELD_CHARS = 2000
MAX_FALLBACK_CHARS = 3000
# Lines a digest lists before it only counts.
MAX_DIGEST_LINES = 40


@dataclass(frozen=True)
class SlackMessage:
    """A message for `chat.postMessage` or a webhook: fallback `text` and Block Kit `blocks`."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DagsterLinks:
    """URLs into an environment's Dagster UI (none when the base URL is empty)."""

    base_url: str = ""

    def _url(self, path: str) -> str | None:
        base = self.base_url.rstrip("/")
        return f"{base}/{path}" if base else None

    def run(self, run_id: str) -> str | None:
        return self._url(f"runs/{run_id}")

    def asset(self, key: str | Sequence[str]) -> str | None:
        parts = key.split("/") if isinstance(key, str) else list(key)
        return self._url("assets/" + "/".join(quote(part, safe="") for part in parts))

    def asset_checks(self, key: str | Sequence[str]) -> str | None:
        url = self.asset(key)
        return f"{url}?view=checks" if url else None


def escape(text: str) -> str:
    """Text safe inside Slack mrkdwn (Slack's three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    return f"<{url}|{escape(label)}>" if url else escape(label)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _cut(text, MAX_HEADER_CHARS), "emoji": True},
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, MAX_SECTION_CHARS)}}


def _fields(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": _cut(f"*{name}*\n{value}", MAX_FIELD_CHARS)}
            for name, value in pairs[:10]
        ],
    }


def _context(*texts: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _cut(t, MAX_FIELD_CHARS)} for t in texts[:10]],
    }


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "?"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(run_id: str) -> str:
    return run_id[:8]


# -- run failures ----------------------------------------------------------------------------


def failure_title(failure: RunFailure) -> str:
    what = "Run interrupted (worker)" if failure.is_interruption else "Run failed"
    return f"{what}: {failure.location} / {failure.step_key or failure.job_name}"


def run_failure_message(
    failure: RunFailure,
    *,
    environment: str,
    links: DagsterLinks,
    sentry_event_id: str | None,
    repeats: int = 0,
) -> SlackMessage:
    """One failed run: what failed, where, why, which attempt, and where to look."""
    icon = ":warning:" if failure.is_interruption else ":red_circle:"
    assets = (
        ", ".join(link(links.asset(key), key) for key in failure.asset_keys[:5])
        + (f" (+{len(failure.asset_keys) - 5} more)" if len(failure.asset_keys) > 5 else "")
        or "—"
    )
    kind = (
        "worker interruption (infrastructure, not a code error)"
        if failure.is_interruption
        else "code error"
    )
    blocks = [
        _header(f"{icon} [{environment}] {failure_title(failure)}"),
        _fields(
            [
                ("Location", f"`{escape(failure.location)}`"),
                ("Job", link(links.run(failure.run_id), failure.job_name)),
                (
                    "Partition",
                    f"`{escape(failure.partition_key)}`" if failure.partition_key else "—",
                ),
                ("Step", f"`{escape(failure.step_key or RUN_STEP)}`"),
                ("Error", f"`{escape(failure.error_type)}` ({kind})"),
                ("Retry", escape(failure.retry.describe())),
                ("Assets", assets),
                ("Sentry event", f"`{sentry_event_id}`" if sentry_event_id else "not sent"),
            ]
        ),
        _section(f"```{escape(failure.error_message or '(no error message)')}```"),
    ]
    notes = [f"Run {link(links.run(failure.run_id), _short(failure.run_id))}"]
    if failure.root_run_id != failure.run_id:
        notes.append(
            f"first attempt {link(links.run(failure.root_run_id), _short(failure.root_run_id))}"
        )
    if repeats:
        notes.append(
            f"the same failure also happened {repeats} more time(s) since it was last reported"
        )
    blocks.append(_context(" · ".join(notes)))
    text = (
        f"[{environment}] {failure_title(failure)}: {failure.error_type}: "
        f"{failure.error_message} (job {failure.job_name}, {failure.retry.describe()}"
        + (f", partition {failure.partition_key}" if failure.partition_key else "")
        + f", run {failure.run_id}"
        + (f", Sentry event {sentry_event_id}" if sentry_event_id else "")
        + (f", {repeats} repeat(s) since last report" if repeats else "")
        + ")"
    )
    return SlackMessage(_cut(text, MAX_FALLBACK_CHARS), blocks)


def run_failures_digest(
    failures: Sequence[tuple[RunFailure, str | None]],
    *,
    environment: str,
    links: DagsterLinks,
    still_failing: Sequence[Occurrences] = (),
) -> SlackMessage:
    """The failures of one tick beyond its message budget, in one message grouped by
    fingerprint (location, step, error type), with counts and the latest run of each; and the
    fingerprints that kept failing after their report (`still_failing`), with their counts."""
    groups: dict[str, list[tuple[RunFailure, str | None]]] = {}
    for failure, event_id in failures:
        groups.setdefault(failure.fingerprint_key, []).append((failure, event_id))
    lines = []
    for members in sorted(groups.values(), key=lambda m: (-len(m), m[0][0].fingerprint_key)):
        latest, event_id = members[-1]
        kind = "interruption" if latest.is_interruption else escape(latest.error_type)
        lines.append(
            f"• `{escape(latest.location)}` / `{escape(latest.step_key or RUN_STEP)}` — "
            f"{kind} x{len(members)}: {escape(_cut(latest.error_message, 160))} "
            f"({link(links.run(latest.run_id), 'latest run')}"
            + (f", Sentry `{event_id}`" if event_id else "")
            + ")"
        )
    for occurrences in still_failing:
        last_ref = occurrences.last_ref or ""
        lines.append(
            f"• still failing: {escape(occurrences.label)} — {occurrences.repeats} more time(s) "
            f"since {_when(occurrences.reported_at)}"
            + (f" ({link(links.run(last_ref), 'latest run')})" if last_ref else "")
        )
    by_location = Counter(failure.location for failure, _ in failures)
    summary = ", ".join(f"{location}: {count}" for location, count in by_location.most_common())
    shown = lines[:MAX_DIGEST_LINES]
    title = f":red_circle: [{environment}] {len(failures)} more run failure(s)"
    if still_failing:
        title += f", {len(still_failing)} still failing"
    blocks = [
        _header(title),
        _section(
            f"More runs failed than one alert each can show ({len(groups)} distinct new "
            f"failure(s)). By location: {escape(summary) or '—'}"
        ),
        *_chunked_sections(shown),
    ]
    if len(lines) > len(shown):
        blocks.append(_context(f"and {len(lines) - len(shown)} more line(s)"))
    text = (
        f"[{environment}] {len(failures)} more run failure(s) ({len(groups)} distinct): "
        f"{summary or '-'}; {len(still_failing)} still failing"
    )
    return SlackMessage(_cut(text, MAX_FALLBACK_CHARS), blocks[:SLACK_MAX_BLOCKS])


def _chunked_sections(lines: Sequence[str]) -> list[dict[str, Any]]:
    sections, current = [], ""
    for line in lines:
        line = _cut(line, MAX_SECTION_CHARS)
        if current and len(current) + 1 + len(line) > MAX_SECTION_CHARS:
            sections.append(_section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        sections.append(_section(current))
    return sections


def repeat_summary_message(
    occurrences: Occurrences, *, environment: str, links: DagsterLinks, window_minutes: float
) -> SlackMessage:
    """A fingerprint that kept failing after it was reported, once its window has passed."""
    latest = occurrences.last_ref or ""
    text = (
        f"[{environment}] Still failing: {occurrences.label} — {occurrences.repeats} more "
        f"time(s) between {_when(occurrences.first_repeat_at)} and "
        f"{_when(occurrences.last_repeat_at)} (latest run {latest})"
    )
    blocks = [
        _header(f":repeat: [{environment}] Still failing: {occurrences.label}"),
        _section(
            f"Failed *{occurrences.repeats}* more time(s) since it was reported at "
            f"{_when(occurrences.reported_at)} (alerts for the same location, step and error "
            f"are sent at most once every {window_minutes:g} minutes). Latest: "
            + (link(links.run(latest), _short(latest)) if latest else "—")
        ),
    ]
    return SlackMessage(_cut(text, MAX_FALLBACK_CHARS), blocks)


# -- asset checks --------------------------------------------------------------------------------


def _check_block(check: CheckEvaluation, links: DagsterLinks, repeats: int) -> dict[str, Any]:
    asset = link(links.asset(check.asset_key), check.asset_key_string)
    lines = [f"*{asset}* — check `{escape(check.check_name)}` failed ({check.severity})"]
    if check.is_dbt_test:
        rows = (
            f"{check.failed_row_count} failing row(s)"
            if check.failed_row_count is not None
            else "failed"
        )
        lines.append(
            f"dbt test `{escape(check.dbt_test or '')}` on model "
            f"{link(links.asset(check.asset_key), check.asset_key[-1])}: {rows}"
        )
    if check.overdue_seconds:
        lines.append(f"overdue by {check.overdue_seconds / 3600:.1f} h")
    if check.description:
        lines.append(escape(_cut(check.description, 400)))
    where = [link(links.run(check.run_id), f"run {_short(check.run_id)}")]
    if check.partition_key:
        where.append(f"partition `{escape(check.partition_key)}`")
    if repeats:
        where.append(f"also failed {repeats} more time(s) since last reported")
    where.append(link(links.asset_checks(check.asset_key), "checks"))
    lines.append(" · ".join(where))
    return _section("\n".join(lines))


def _still_failing_block(occurrences: Occurrences, links: DagsterLinks) -> dict[str, Any]:
    asset, _, check_name = occurrences.label.rpartition(":")
    latest = occurrences.last_ref or ""
    return _section(
        f"*{link(links.asset(asset), asset)}* — check `{escape(check_name)}` still failing: "
        f"{occurrences.repeats} more time(s) between {_when(occurrences.first_repeat_at)} and "
        f"{_when(occurrences.last_repeat_at)} · "
        + (link(links.run(latest), f"latest run {_short(latest)}") if latest else "")
    )


def check_failures_message(
    checks: Sequence[tuple[CheckEvaluation, int]],
    *,
    environment: str,
    links: DagsterLinks,
    still_failing: Sequence[Occurrences] = (),
    more_pending: bool = False,
) -> SlackMessage:
    """One message for a tick's failed checks: a header block, then one block per check
    (`(evaluation, repeats since last reported)`) and per check that kept failing inside its
    de-dup window (`still_failing`, labelled `<asset key>:<check>`) — at most MAX_CHECK_BLOCKS."""
    count = len(checks) + len(still_failing)
    if count > MAX_CHECK_BLOCKS:
        msg = f"{count} checks do not fit one message (at most {MAX_CHECK_BLOCKS})"
        raise ValueError(msg)
    dbt = sum(1 for check, _ in checks if check.is_dbt_test)
    title = f":large_orange_circle: [{environment}] {len(checks)} asset check(s) failed"
    if dbt:
        title += f" ({dbt} dbt test(s))"
    if still_failing:
        title += f", {len(still_failing)} still failing"
    if more_pending:
        title += ", more to follow"
    blocks = [
        _header(title),
        *(_check_block(check, links, repeats) for check, repeats in checks),
        *(_still_failing_block(occurrences, links) for occurrences in still_failing),
    ]
    names = ", ".join(f"{c.asset_key_string}:{c.check_name}" for c, _ in checks[:20])
    text = f"[{environment}] {len(checks)} asset check(s) failed: {names}"
    if still_failing:
        text += f"; still failing: {', '.join(o.label for o in still_failing[:20])}"
    return SlackMessage(_cut(text, MAX_FALLBACK_CHARS), blocks)


# -- Sentry --------------------------------------------------------------------------------------

_FRAME = re.compile(
    r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>[^\n]+)(?:\n\s*(?P<code>[^\n]*))?'
)


def stack_frames(stack: Sequence[str]) -> list[dict[str, Any]]:
    """Sentry frames (oldest first) from the formatted frames Dagster stores with an error."""
    frames = []
    for entry in stack:
        match = _FRAME.search(entry)
        if not match:
            continue
        path = match["file"]
        frames.append(
            {
                "filename": path,
                "abs_path": path,
                "lineno": int(match["line"]),
                "function": match["function"].strip(),
                "context_line": (match["code"] or "").strip() or None,
                "in_app": "site-packages" not in path and "/dagster/" not in path,
            }
        )
    return frames


def sentry_event(
    failure: RunFailure, *, environment: str, links: DagsterLinks, source: str
) -> dict[str, Any]:
    """The Sentry event of a failed run (`source`: which path reported it).

    Its fingerprint is the failure's (location, step, error type), the one in-process hooks use,
    so both paths group into one issue; interruptions are warnings, not errors.
    """
    exception: dict[str, Any] = {
        "type": failure.error_type,
        "value": failure.error_message or INTERRUPTIONS.get(failure.error_type, ""),
        "module": failure.location,
    }
    frames = stack_frames(failure.stack)
    if frames:
        exception["stacktrace"] = {"frames": frames}
    tags = {
        "location": failure.location,
        "job": failure.job_name,
        "step": failure.step_key or RUN_STEP,
        "error_class": failure.error_class.value,
        "retry_number": str(failure.retry.retry_number),
        "reported_by": source,
    }
    if failure.partition_key:
        tags["partition"] = failure.partition_key
    extra: Mapping[str, Any] = {
        "run_id": failure.run_id,
        "root_run_id": failure.root_run_id,
        "run_url": links.run(failure.run_id),
        "assets": list(failure.asset_keys),
        "retry": failure.retry.describe(),
    }
    return {
        "level": "warning" if failure.is_interruption else "error",
        "logger": "ol_orchestrate.alerts",
        "platform": "python",
        "environment": environment,
        "transaction": f"{failure.location}/{failure.step_key or failure.job_name}",
        "message": f"{failure_title(failure)}: {failure.error_type}: {failure.error_message}",
        "exception": {"values": [exception]},
        "fingerprint": failure.fingerprint,
        "tags": tags,
        "extra": dict(extra),
    }
