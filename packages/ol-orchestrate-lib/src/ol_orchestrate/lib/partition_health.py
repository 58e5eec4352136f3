"""Which partitions need a run: missing, failed, or whose landed file is gone (self-healing).

Sensors that request partitioned runs (a Canvas course registry, a tracking-log landing area) ask
`assess_partitions` rather than remembering what they requested: a partition whose run failed
or crashed, or whose output was deleted from the lake, is requested again on the next tick, so
the next run restores whatever a failure left missing. Partitions with a run in progress are
left alone (no duplicate runs). Failed partitions are retried at most once per `RETRY_WINDOW`
by the daemon (the window is part of the run key, which the daemon never launches twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
from upath import UPath

from ol_orchestrate.io_managers import lake_path_for

MISSING = "missing"
FAILED = "failed"
OUTPUT_LOST = "output lost"
# How often the daemon may retry a failed partition (a part of the run key, see the module doc).
RETRY_WINDOW_FORMAT = "%Y-%m-%dT%H"


def landed_partitions(
    lake_root: str | UPath, asset_key: dg.AssetKey, partition_keys: Iterable[str]
) -> set[str]:
    """The partitions of `partition_keys` whose file is in the lake, from one listing of the
    asset's folder (one LIST on S3, not one request per partition)."""
    expected = {lake_path_for(lake_root, asset_key, key).path: key for key in partition_keys}
    if not expected:
        return set()
    table_dir = lake_path_for(lake_root, asset_key).parent
    try:
        found = set(table_dir.fs.find(table_dir.path, maxdepth=2))
    except FileNotFoundError:
        return set()
    return {key for path, key in expected.items() if path in found}


@dataclass(frozen=True)
class PartitionHealth:
    """`needs_run`: partition key -> why it needs a run; `in_progress`: partitions with a run
    in progress (never requested again while it runs)."""

    needs_run: dict[str, str] = field(default_factory=dict)
    in_progress: frozenset[str] = frozenset()


def assess_partitions(
    instance: dg.DagsterInstance,
    asset_keys: Sequence[dg.AssetKey],
    partition_keys: Sequence[str],
    partitions_def: dg.PartitionsDefinition,
    lake_root: str | UPath | None,
) -> PartitionHealth:
    """Which of `partition_keys` need a run because any of `asset_keys` is `missing`, `failed`
    or its lake file is gone (`output lost`), and which have a run in progress.

    `lake_root` None skips the lake check (assets whose output is not a lake file).
    """
    needed: dict[str, str] = {}
    in_progress: set[str] = set()
    for asset_key in asset_keys if partition_keys else ():
        statuses: Mapping[str, dg.AssetPartitionStatus | None] = (
            instance.get_status_by_partition(asset_key, list(partition_keys), partitions_def) or {}
        )
        materialized = []
        for key in partition_keys:
            status = statuses.get(key)
            if status == dg.AssetPartitionStatus.IN_PROGRESS:
                in_progress.add(key)
            elif status == dg.AssetPartitionStatus.FAILED:
                needed.setdefault(key, FAILED)
            elif status == dg.AssetPartitionStatus.MATERIALIZED:
                materialized.append(key)
            else:
                needed.setdefault(key, MISSING)
        if lake_root is not None and materialized:
            landed = landed_partitions(lake_root, asset_key, materialized)
            for key in materialized:
                if key not in landed:
                    needed.setdefault(key, OUTPUT_LOST)
    return PartitionHealth(
        needs_run={key: why for key, why in needed.items() if key not in in_progress},
        in_progress=frozenset(in_progress),
    )


def healing_run_key(
    prefix: str, partition_key: str, reason: str, now: datetime | None = None
) -> str:
    """A run key for a re-requested partition: unique per retry window, so the daemon retries a
    failed partition at most once per window (and once at all for the same missing output)."""
    window = (now or datetime.now(UTC)).strftime(RETRY_WINDOW_FORMAT)
    return f"{prefix}:{partition_key}:{reason.replace(' ', '_')}@{window}"
