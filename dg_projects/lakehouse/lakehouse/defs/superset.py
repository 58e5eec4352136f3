"""One Superset dataset asset per mart marked `meta: {superset: {publish: true}}` in dbt.

Materializing `["superset", "dataset", <mart>]` creates the mart's dataset in Superset or refreshes
its columns after the mart changed. Where no Superset is configured (dev by default) it records a
"skipped" materialization instead of failing, so local runs of the whole graph stay green.
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations
# (config class, resources) at definition time.
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs.dbt import SUPERSET_GROUP, LakehouseDbtTranslator
from ol_orchestrate.lib.automation import follows_upstream
from ol_orchestrate.lib.dbt_manifest import prepared_target
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import Environment, get_settings
from ol_orchestrate.resources.superset import SupersetResource

GROUP_NAME = SUPERSET_GROUP


@dataclass(frozen=True)
class PublishedMart:
    """A mart to publish, as the prepared manifest describes it."""

    unique_id: str
    model_name: str
    schema: str
    table_name: str
    asset_key: dg.AssetKey
    description: str


def published_marts(
    manifest: Mapping[str, Any], translator: LakehouseDbtTranslator
) -> list[PublishedMart]:
    """The models whose `meta.superset.publish` is true, sorted by name."""
    marts = []
    for unique_id, node in (manifest.get("nodes") or {}).items():
        if node.get("resource_type") != "model":
            continue
        meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
        if not (meta.get("superset") or {}).get("publish"):
            continue
        marts.append(
            PublishedMart(
                unique_id=unique_id,
                model_name=node["name"],
                schema=node["schema"],
                table_name=node.get("alias") or node["name"],
                asset_key=translator.get_asset_key(node),
                description=(node.get("description") or "").strip(),
            )
        )
    return sorted(marts, key=lambda mart: mart.model_name)


def _is_local_target(target: str) -> bool:
    try:
        return Environment(target).is_local
    except ValueError:
        return False


def _check_manifest_target(context: dg.AssetExecutionContext, project: LakehouseDbtProject) -> None:
    """Refuse to publish schema names resolved for another target.

    Node schemas in the manifest depend on the target it was parsed for (`marts` on DuckDB,
    `ol_warehouse_<env>_marts` on Trino). dev and ci lay the warehouse out alike, so a mismatch
    between them is only a warning; any other mismatch would point Superset at the wrong tables.
    """
    manifest_target = prepared_target(project.project_dir)
    if manifest_target is None or manifest_target == project.target:
        return
    message = (
        f"the dbt manifest was prepared for target {manifest_target!r} but this environment "
        f"builds {project.target!r}; prepare it for this target "
        f"(`python -m ol_orchestrate.lib.dbt_manifest --target {project.target}`, or build the "
        f"image with --build-arg DAGSTER_ENV=<environment>)"
    )
    if project.is_local and _is_local_target(manifest_target):
        context.log.warning(message)
        return
    raise dg.Failure(description=message)


def superset_dataset_asset(
    mart: PublishedMart, project: LakehouseDbtProject
) -> dg.AssetsDefinition:
    """The asset publishing one mart as a Superset dataset."""

    @dg.asset(
        key=["superset", "dataset", mart.model_name],
        deps=[mart.asset_key],
        group_name=GROUP_NAME,
        automation_condition=follows_upstream(),
        kinds={"superset"},
        description=(
            f"The Superset dataset over `{mart.schema}.{mart.table_name}` "
            f"(dbt model `{mart.model_name}`), created or refreshed after the mart is built."
        ),
        metadata={
            "dbt_model": mart.model_name,
            "schema": mart.schema,
            "table_name": mart.table_name,
        },
    )
    def _publish(
        context: dg.AssetExecutionContext, superset: SupersetResource
    ) -> dg.MaterializeResult:
        if not superset.is_configured:
            reason = "Superset is not configured in this environment (SUPERSET_URL is unset)"
            context.log.info("skipping %s: %s", context.asset_key.to_user_string(), reason)
            return dg.MaterializeResult(metadata={"status": "skipped", "reason": reason})

        _check_manifest_target(context, project)
        result = superset.upsert_dataset(superset.database_name, mart.schema, mart.table_name)
        context.log.info(
            "Superset dataset %s for %s.%s: %s",
            result["dataset_id"],
            mart.schema,
            mart.table_name,
            result["action"],
        )
        return dg.MaterializeResult(
            metadata={
                "status": "published",
                "dataset_id": result["dataset_id"],
                "action": result["action"],
                "database_name": superset.database_name,
                "schema": mart.schema,
                "table_name": mart.table_name,
                "superset_url": dg.MetadataValue.url(
                    f"{superset.base_url}/explore/?datasource_type=table"
                    f"&datasource_id={result['dataset_id']}"
                ),
            }
        )

    return _publish


def build_superset_assets(
    manifest: Mapping[str, Any],
    translator: LakehouseDbtTranslator,
    project: LakehouseDbtProject,
) -> list[dg.AssetsDefinition]:
    """One dataset asset per published mart."""
    return [superset_dataset_asset(mart, project) for mart in published_marts(manifest, translator)]


@dg.definitions
def superset_definitions() -> dg.Definitions:
    """A dataset asset per published mart, and the `superset` resource of this environment."""
    settings = get_settings()
    project = LakehouseDbtProject.from_settings(settings)
    translator = LakehouseDbtTranslator(project.warehouse_kind)
    return dg.Definitions(
        assets=build_superset_assets(project.load_manifest(), translator, project),
        resources={
            "superset": SupersetResource.from_settings(settings, secrets=platform_secrets(settings))
        },
    )
