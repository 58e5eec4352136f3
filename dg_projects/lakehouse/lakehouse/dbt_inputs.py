"""What a whole-project dbt build reads, and what changed since the last one that succeeded.

A `dbt build` of every model (the build job, `ol-platform materialize`) rebuilds only the models
downstream of the raw tables whose data changed since the last whole build that succeeded, and
runs no dbt at all when none did: the marts, and with them the Superset datasets, stay as they
are. A raw table changed when its latest materialization carries another content hash
(`ol/content_hash`: the data without its retrieval stamps, from the lake IO manager; for an
Airbyte table, its rows without Airbyte's `_airbyte_*` columns, `lakehouse.airbyte`) or, for a
table without one (partitioned, file-fed, Airbyte's in a deployed environment), when it was
materialized again at all. When the dbt project (its manifest) or the warehouse changed, with no
earlier record, on a full refresh or a partial selection, everything selected is built, as
before. The record is a value in the Dagster instance's key-value store, written after a whole
build succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from ol_orchestrate.io_managers import CONTENT_HASH_METADATA_KEY

CURSOR_PREFIX = "ol/lakehouse/dbt-build-inputs/"
# Node types a `dbt build` materializes (tests follow the models they test).
BUILT_RESOURCE_TYPES = frozenset({"model", "seed", "snapshot"})


@dataclass(frozen=True)
class BuildInputs:
    """The manifest and warehouse a build ran against, and a version per raw table it reads."""

    manifest: str
    warehouse: str
    tables: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"manifest": self.manifest, "warehouse": self.warehouse, "tables": dict(self.tables)},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> BuildInputs | None:
        if not text:
            return None
        try:
            value = json.loads(text)
            return cls(str(value["manifest"]), str(value["warehouse"]), dict(value["tables"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class BuildPlan:
    """`models` None: build everything selected; empty: build nothing; else only those (unique
    ids), with `excluded` the other models' names for `dbt build --exclude`."""

    reason: str
    models: frozenset[str] | None = None
    excluded: tuple[str, ...] = ()

    @property
    def nothing(self) -> bool:
        return self.models is not None and not self.models


def cursor_key(target: str) -> str:
    return f"{CURSOR_PREFIX}{target}"


def recorded_inputs(instance: dg.DagsterInstance, target: str) -> BuildInputs | None:
    key = cursor_key(target)
    return BuildInputs.from_json(instance.run_storage.get_cursor_values({key}).get(key))


def record_inputs(instance: dg.DagsterInstance, target: str, inputs: BuildInputs) -> None:
    instance.run_storage.set_cursor_values({cursor_key(target): inputs.to_json()})


def warehouse_token(warehouse_path: Path | None) -> str:
    """Identifies a local DuckDB warehouse file (a new or deleted file is another warehouse);
    a remote warehouse (Trino) is one warehouse."""
    if warehouse_path is None:
        return "remote"
    try:
        stat = warehouse_path.stat()
    except OSError:
        return "absent"
    return f"{warehouse_path.resolve()}:{stat.st_ino}"


def table_versions(instance: dg.DagsterInstance, keys: Collection[dg.AssetKey]) -> dict[str, str]:
    """A version of each raw table: its content hash, or the storage id of its latest
    materialization when it has none (a partitioned table: any new partition counts)."""
    versions = {key.to_user_string(): "never" for key in keys}
    for record in instance.get_asset_records(list(keys)):
        latest = record.asset_entry.last_materialization_record
        if latest is None:
            continue
        materialization = latest.asset_materialization
        content = None
        if materialization is not None and materialization.partition is None:
            content = materialization.metadata.get(CONTENT_HASH_METADATA_KEY)
        key = record.asset_entry.asset_key.to_user_string()
        versions[key] = (
            f"content:{getattr(content, 'value', content)}"
            if content is not None
            else f"event:{latest.storage_id}"
        )
    return versions


def plan_build(
    manifest: Mapping[str, Any],
    sources_by_key: Mapping[str, Iterable[str]],
    previous: BuildInputs | None,
    current: BuildInputs,
) -> BuildPlan:
    """What to build given the inputs of the last whole build that succeeded and today's.

    `sources_by_key`: raw table (asset key string) -> the dbt source unique ids it backs.
    """
    if previous is None:
        return BuildPlan("no earlier whole build on record")
    if previous.manifest != current.manifest:
        return BuildPlan("the dbt project changed since the last build")
    if previous.warehouse != current.warehouse:
        return BuildPlan("the warehouse is not the one of the last build")
    changed = sorted(
        key for key, version in current.tables.items() if previous.tables.get(key) != version
    )
    if not changed:
        return BuildPlan("no raw table changed since the last build", models=frozenset())
    starts = [source for key in changed for source in sources_by_key.get(key, ())]
    models = descendants(manifest, starts)
    built = {
        unique_id
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in BUILT_RESOURCE_TYPES
    }
    excluded = tuple(sorted(manifest["nodes"][unique_id]["name"] for unique_id in built - models))
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return BuildPlan(
        f"{len(changed)} raw table(s) changed ({shown}): {len(models)} of {len(built)} model(s)",
        models=frozenset(models),
        excluded=excluded,
    )


def descendants(manifest: Mapping[str, Any], starts: Iterable[str]) -> set[str]:
    """The models (and seeds, snapshots) downstream of the nodes `starts`."""
    children: Mapping[str, list[str]] = manifest.get("child_map", {})
    nodes: Mapping[str, Any] = manifest.get("nodes", {})
    found: set[str] = set()
    stack = list(starts)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child in found or nodes.get(child, {}).get("resource_type") not in (
                BUILT_RESOURCE_TYPES
            ):
                continue
            found.add(child)
            stack.append(child)
    return found
