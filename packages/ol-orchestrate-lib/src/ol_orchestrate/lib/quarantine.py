"""Quarantine for records an asset cannot land: every input record is written or kept here.

An ingestion asset runs each record through `Quarantine.check` (or `reject`) so a malformed record
never disappears silently and never fails the whole step. The rejected records, each with its reason
and position, are written next to the data in the lake (`quarantine/<source>/<name>/...`) and the
counts by reason become asset metadata.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pyarrow as pa
from upath import UPath

from ol_orchestrate.io_managers import lake_path_for, write_bytes_atomic

# Above this share of quarantined records a source's answer looks broken (a renamed field, a new
# id type): the asset fails and keeps the table it landed before instead of replacing it with
# what little fits.
DEFAULT_MAX_QUARANTINE_SHARE = 0.5


class TooManyRecordsQuarantinedError(dg.Failure):
    """More than the allowed share of an asset's records were quarantined; nothing was landed."""


def quarantine_path_for(
    lake_root: str | UPath,
    asset_key: dg.AssetKey,
    partition_key: str | None,
    file_name: str,
    **storage_options: Any,
) -> UPath:
    """Where an asset's quarantined records go: the quarantine layer beside its own layer,
    `<lake_root>/quarantine/<source>/<name>/[partition dirs/]<file_name>`."""
    source, _layer, *name = asset_key.path
    quarantine_key = dg.AssetKey([source, "quarantine", *name])
    data_path = lake_path_for(lake_root, quarantine_key, partition_key, **storage_options)
    return data_path.with_name(file_name)


@dataclass
class Quarantine:
    """Collects rejected records with the reason each was rejected."""

    rejected: list[dict[str, Any]] = field(default_factory=list)
    accepted: int = 0

    def reject(self, record: Any, reason: str, position: int | str | None = None) -> None:
        self.rejected.append({"reason": reason, "position": position, "record": record})

    def check(
        self,
        rows: Iterable[Mapping[str, Any]],
        required: Sequence[str],
    ) -> list[dict[str, Any]]:
        """Keep rows whose `required` fields are present and non-empty; quarantine the rest."""
        kept: list[dict[str, Any]] = []
        for position, row in enumerate(rows):
            missing = [name for name in required if row.get(name) in (None, "")]
            if missing:
                self.reject(dict(row), f"missing {', '.join(missing)}", position)
            else:
                kept.append(dict(row))
        self.accepted += len(kept)
        return kept

    @property
    def counts_by_reason(self) -> dict[str, int]:
        return dict(Counter(item["reason"] for item in self.rejected))

    def metadata(self) -> dict[str, Any]:
        """Asset metadata: how many records were landed and quarantined, and why."""
        return {
            "records_written": self.accepted,
            "records_quarantined": len(self.rejected),
            "quarantine_reasons": dg.MetadataValue.json(self.counts_by_reason),
        }

    def write(
        self,
        lake_root: str,
        asset_key: dg.AssetKey | Sequence[str],
        partition_key: str | None = None,
        **storage_options: Any,
    ) -> str | None:
        """Write the rejected records as JSON lines; a clean run removes an old quarantine file."""
        key = asset_key if isinstance(asset_key, dg.AssetKey) else dg.AssetKey(list(asset_key))
        target = quarantine_path_for(
            lake_root, key, partition_key, "rejects.jsonl", **storage_options
        )
        if not self.rejected:
            if target.exists():
                target.unlink()
            return None
        body = "".join(
            json.dumps(item, default=str, ensure_ascii=False) + "\n" for item in self.rejected
        )
        write_bytes_atomic(target, body.encode("utf-8"))
        return str(target)


def rows_to_table(
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    required: Sequence[str],
    quarantine: Quarantine,
) -> pa.Table:
    """Rows as a table of `schema`; rows missing a field or of the wrong type are quarantined."""
    kept = quarantine.check(rows, required)
    try:
        return pa.Table.from_pylist(kept, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        pass
    # Slow path, only when some row does not fit the schema: find and quarantine exactly those.
    good: list[dict[str, Any]] = []
    for position, row in enumerate(kept):
        try:
            pa.Table.from_pylist([row], schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as error:
            quarantine.accepted -= 1
            quarantine.reject(row, f"does not fit schema: {type(error).__name__}", position)
        else:
            good.append(row)
    return pa.Table.from_pylist(good, schema=schema)


def land_rows(
    context: dg.AssetExecutionContext,
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    required: Sequence[str],
    lake_root: str,
    *,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    asset_key: dg.AssetKey | None = None,
) -> pa.Table:
    """Validate rows for an ingestion asset, write its quarantine file and record the counts.

    Returns the table for the IO manager to land; the asset's metadata says how many records were
    written and quarantined, by reason, and where the quarantined records are. When more than
    `max_quarantine_share` of the records were quarantined, raises
    `TooManyRecordsQuarantinedError` instead (the quarantine file is written for diagnosis; the
    table landed before stays as it was). In a multi-asset, `asset_key` names the table's asset.
    """
    quarantine = Quarantine()
    table = rows_to_table(rows, schema, required, quarantine)
    partition_key = context.partition_key if context.has_partition_key else None
    key = asset_key or context.asset_key
    path = quarantine.write(lake_root, key, partition_key)
    metadata = quarantine.metadata()
    if path:
        metadata["quarantine_path"] = path
        context.log.warning(
            f"{len(quarantine.rejected)} record(s) quarantined: {quarantine.counts_by_reason}"
        )
    total = quarantine.accepted + len(quarantine.rejected)
    if total and len(quarantine.rejected) / total > max_quarantine_share:
        reasons = ", ".join(f"{reason} ({n})" for reason, n in quarantine.counts_by_reason.items())
        raise TooManyRecordsQuarantinedError(
            description=(
                f"{len(quarantine.rejected)} of {total} records quarantined ({reasons}), more "
                f"than {max_quarantine_share:.0%}: the source's answer looks broken, so the table "
                f"landed before is kept; the rejected records are in {path}"
            ),
            metadata=metadata,
            allow_retries=False,
        )
    if asset_key is None:
        context.add_output_metadata(metadata)
    else:
        output_name = context.assets_def.get_output_name_for_asset_key(asset_key)
        context.add_output_metadata(metadata, output_name=output_name)
    return table
