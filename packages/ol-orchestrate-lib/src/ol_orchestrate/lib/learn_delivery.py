"""Change-only delivery of learning resources to MIT Learn's catalog webhooks.

A source's resources arrive as rows of its dbt `integrations__learn__<source>` model, flat
(`LEARNING_RESOURCE_COLUMNS`); `learning_resource(row)` gives the catalog's LearningResource
shape. Each resource's content hash (sha256 of its canonical JSON) is kept per readable id in the
lake (`DeliveryState`, one Parquet file per source, written atomically after every acknowledged
webhook), so `deliver` sends only what changed since the last acknowledged delivery:

- a resource whose hash differs from the state's (or that the state lacks) is upserted, in
  batches of `batch_size`; a resource with the same hash is counted `unchanged`;
- a readable id in the state that the model no longer has gets a delete webhook of its own;
- after each batch the catalog acknowledged, the state is saved: a run that stops half-way (an
  outage past the client's retries) leaves exactly the unacknowledged resources to the next run;
- a batch the catalog refuses with a 4xx is counted `failed` and the next batches still go; a
  refused signature stops the delivery at once (every batch would be refused).

A delivery that would delete more than `max_delete_share` of what was delivered (a source
answering nothing looks the same as a source deleting everything) is refused before sending.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Protocol

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from ol_orchestrate.io_managers import write_bytes_atomic
from ol_orchestrate.lib.http import ApiError
from ol_orchestrate.lib.run_summary import summary_metadata
from ol_orchestrate.resources.learn import WebhookRejectedError, WebhookSignatureError

# The columns of every `integrations__learn__<source>` model (and of the catalog mart), in order.
LEARNING_RESOURCE_COLUMNS: tuple[str, ...] = (
    "readable_id",
    "resource_type",
    "resource_category",
    "title",
    "url",
    "description",
    "image_url",
    "image_alt",
    "topics",
    "offered_by_code",
    "platform",
    "etl_source",
    "published",
    "start_on",
    "end_on",
    "created_on",
    "last_modified_on",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "readable_id",
    "resource_type",
    "title",
    "url",
    "offered_by_code",
    "platform",
    "etl_source",
    "published",
)
RESOURCE_TYPES: tuple[str, ...] = ("course", "program", "article", "video")
# The models keep a resource's topic names in one column, separated by this.
TOPIC_SEPARATOR = "|"
DEFAULT_BATCH_SIZE = 100
DEFAULT_MAX_DELETE_SHARE = 0.5

STATE_SCHEMA = pa.schema(
    [
        pa.field("readable_id", pa.string(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("resource_type", pa.string()),
        pa.field("delivered_at", pa.string(), nullable=False),
        pa.field("run_id", pa.string()),
    ]
)


class WebhookClient(Protocol):
    """What `deliver` needs of a client (`ol_orchestrate.resources.learn.LearnWebhookClient`)."""

    def upsert(self, etl_source: str, resources: Sequence[Mapping[str, Any]]) -> Any: ...

    def delete(self, etl_source: str, readable_ids: Sequence[str]) -> Any: ...


class DeliveryRefusedError(dg.Failure):
    """Nothing was sent: the resources break the contract, or the deletions look like an outage."""


class DeliveryIncompleteError(dg.Failure):
    """Some resources were not acknowledged; the next run sends exactly those."""


# -- the LearningResource shape ----------------------------------------------------------------


def _date_text(value: Any) -> str | None:
    """A model's timestamp as the webhook carries it: ISO-8601 UTC, `Z`, whole seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    return str(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def topic_names(value: Any) -> list[str]:
    """The topic names of a `topics` column (`Energy|Policy`), in order, without repeats."""
    names: list[str] = []
    for part in str(value or "").split(TOPIC_SEPARATOR):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


def learning_resource(row: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog's LearningResource for one row of an `integrations__learn__<source>` model."""
    image_url = _text(row.get("image_url"))
    return {
        "readable_id": str(row["readable_id"]),
        "resource_type": _text(row.get("resource_type")),
        "resource_category": _text(row.get("resource_category")),
        "title": _text(row.get("title")),
        "url": _text(row.get("url")),
        "description": _text(row.get("description")),
        "image": {"url": image_url, "alt": _text(row.get("image_alt")) or ""}
        if image_url
        else None,
        "topics": [{"name": name} for name in topic_names(row.get("topics"))],
        "offered_by": {"code": _text(row.get("offered_by_code"))},
        "platform": _text(row.get("platform")),
        "etl_source": _text(row.get("etl_source")),
        "published": bool(row.get("published")),
        "start_date": _date_text(row.get("start_on")),
        "end_date": _date_text(row.get("end_on")),
        "created_on": _date_text(row.get("created_on")),
        "last_modified": _date_text(row.get("last_modified_on")),
    }


def content_hash(resource: Mapping[str, Any]) -> str:
    """sha256 (hex) of the resource's canonical JSON: equal exactly when the content is."""
    canonical = json.dumps(resource, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- state -------------------------------------------------------------------------------------


@dataclass
class DeliveryState:
    """What the catalog acknowledged: readable id -> (content hash, resource type, when, run)."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: UPath) -> DeliveryState:
        """The state at `path`; none there yet means nothing was delivered."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls()
        table = pq.read_table(io.BytesIO(data))
        return cls({row["readable_id"]: row for row in table.to_pylist()})

    def save(self, path: UPath) -> None:
        rows = [self.entries[key] for key in sorted(self.entries)]
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows, schema=STATE_SCHEMA), buffer, compression="zstd")
        write_bytes_atomic(path, buffer.getvalue())

    def hash_of(self, readable_id: str) -> str | None:
        entry = self.entries.get(readable_id)
        return None if entry is None else str(entry["content_hash"])

    def record(
        self,
        delivered: Iterable[tuple[Mapping[str, Any], str]],
        delivered_at: str,
        run_id: str | None,
    ) -> None:
        for resource, digest in delivered:
            self.entries[str(resource["readable_id"])] = {
                "readable_id": str(resource["readable_id"]),
                "content_hash": digest,
                "resource_type": resource.get("resource_type"),
                "delivered_at": delivered_at,
                "run_id": run_id,
            }

    def forget(self, readable_ids: Iterable[str]) -> None:
        for readable_id in readable_ids:
            self.entries.pop(readable_id, None)

    def __len__(self) -> int:
        return len(self.entries)


# -- planning and sending ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPlan:
    """What a delivery sends: upserts (resource, content hash), unchanged count, deletions."""

    upserts: list[tuple[dict[str, Any], str]]
    unchanged: int
    deletes: list[str]


def plan_delivery(
    etl_source: str, resources: Sequence[dict[str, Any]], state: DeliveryState
) -> DeliveryPlan:
    """Compare the resources with the state (see the module doc). Resources without a readable
    id, with another `etl_source` or with a repeated readable id are a `DeliveryRefusedError`."""
    seen: set[str] = set()
    upserts: list[tuple[dict[str, Any], str]] = []
    unchanged = 0
    problems: list[str] = []
    for resource in resources:
        readable_id = resource.get("readable_id")
        if not readable_id:
            problems.append("a resource has no readable_id")
            continue
        if resource.get("etl_source") != etl_source:
            problems.append(f"{readable_id}: etl_source {resource.get('etl_source')!r}")
        if readable_id in seen:
            problems.append(f"{readable_id}: readable_id repeated")
        seen.add(readable_id)
        digest = content_hash(resource)
        if state.hash_of(readable_id) == digest:
            unchanged += 1
        else:
            upserts.append((resource, digest))
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise DeliveryRefusedError(
            description=f"{etl_source}: nothing sent, the resources break the contract: {shown}",
            allow_retries=False,
        )
    upserts.sort(key=lambda item: str(item[0]["readable_id"]))
    deletes = sorted(set(state.entries) - seen)
    return DeliveryPlan(upserts, unchanged, deletes)


@dataclass
class DeliveryResult:
    """The counts of one delivery (asset metadata) and the errors that stopped batches."""

    etl_source: str
    sent: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"sent {self.sent}, unchanged {self.unchanged}, deleted {self.deleted}, "
            f"failed {self.failed} ({self.batches} webhook(s))"
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": self.failed,
            "batches": self.batches,
            **({"errors": dg.MetadataValue.json(self.errors)} if self.errors else {}),
            **summary_metadata(self.summary()),
        }


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_deletions(etl_source: str, plan: DeliveryPlan, delivered: int, share: float) -> None:
    if not plan.deletes or len(plan.deletes) <= share * delivered:
        return
    raise DeliveryRefusedError(
        description=(
            f"{etl_source}: nothing sent: {len(plan.deletes)} of the {delivered} resources "
            f"delivered before are gone from the source, more than max_delete_share "
            f"({share:.0%}); a source answering nothing looks the same. If the source really "
            "dropped them, raise max_delete_share for this source and run again"
        ),
        allow_retries=False,
    )


def deliver(
    client: WebhookClient,
    etl_source: str,
    resources: Sequence[dict[str, Any]],
    state: DeliveryState,
    *,
    save: Callable[[DeliveryState], None],
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE,
    run_id: str | None = None,
    log: logging.Logger | Any = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeliveryResult:
    """Send what changed (module doc); `save(state)` runs after every acknowledged webhook.

    Returns the counts; resources left unacknowledged are counted `failed` (the caller fails the
    asset for them). A refused signature raises `WebhookSignatureError` after saving what was
    acknowledged before.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    log = log or logging.getLogger(__name__)
    plan = plan_delivery(etl_source, resources, state)
    _check_deletions(etl_source, plan, len(state), max_delete_share)
    result = DeliveryResult(etl_source, unchanged=plan.unchanged)
    stopped: ApiError | None = None

    def attempt(count: int, call: Callable[[], Any]) -> bool:
        """Send one webhook of `count` resources; True when the catalog acknowledged it."""
        nonlocal stopped
        if stopped is None:
            try:
                call()
            except WebhookSignatureError as error:  # every later webhook would be refused too
                stopped = error
            except WebhookRejectedError as error:  # this batch only: the next may be fine
                result.errors.append(str(error))
                log.warning(f"{etl_source}: a webhook of {count} resource(s) was refused: {error}")
            except ApiError as error:  # the catalog stayed down past every retry
                stopped = error
                result.errors.append(str(error))
                log.warning(f"{etl_source}: delivery stopped: {error}")
            else:
                return True
        result.failed += count
        return False

    def acknowledged() -> None:
        save(state)
        result.batches += 1

    for batch in _chunks(plan.upserts, batch_size):
        resources_sent = [resource for resource, _ in batch]
        if attempt(len(batch), partial(client.upsert, etl_source, resources_sent)):
            state.record(batch, _stamp(now), run_id)
            result.sent += len(batch)
            acknowledged()
    for ids in _chunks(plan.deletes, batch_size):
        if attempt(len(ids), partial(client.delete, etl_source, list(ids))):
            state.forget(ids)
            result.deleted += len(ids)
            acknowledged()
    log.info(f"{etl_source}: {result.summary()}")
    if isinstance(stopped, WebhookSignatureError):
        raise stopped
    return result


def _stamp(now: Callable[[], datetime]) -> str:
    return now().astimezone(UTC).isoformat().replace("+00:00", "Z")
