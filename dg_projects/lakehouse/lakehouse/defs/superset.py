"""Superset assets: the serving copy, one dataset per published mart, one asset per dashboard.

Lineage: marts -> `["superset", "serving", "warehouse"]` (dev/ci: the published marts copied into
the DuckDB file Superset reads, lakehouse/superset/serving.py says why) -> `["superset",
"dataset", <mart>]` (the mart's dataset, created or refreshed: its columns follow the mart's, and
the charts that used a removed column are named in the metadata) -> `["superset", "dashboard",
<slug>]` (the dashboard and its charts, imported from lakehouse/superset/dashboards/<slug>/).
Which marts are published is said once, in `lakehouse_datasets.py`. Where no Superset is
configured or running, the dataset and dashboard assets record a "skipped" materialization
instead of failing, so local runs of the whole graph stay green.
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations
# (config class, resources) at definition time.
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from lakehouse.dbt_project import LakehouseDbtProject
from lakehouse.defs.dbt import SUPERSET_GROUP, LakehouseDbtTranslator
from lakehouse.defs.lakehouse_datasets import is_published_model
from lakehouse.superset.bundles import DashboardBundle, load_dashboards
from lakehouse.superset.serving import publish_serving_copy
from ol_orchestrate.lib.automation import follows_upstream
from ol_orchestrate.lib.dbt_manifest import prepared_target
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import Environment, get_settings
from ol_orchestrate.resources.superset import SupersetClient, SupersetResource

GROUP_NAME = SUPERSET_GROUP
SERVING_COPY_KEY = dg.AssetKey(["superset", "serving", "warehouse"])


@dataclass(frozen=True)
class PublishedMart:
    """A mart to publish, as the prepared manifest describes it."""

    unique_id: str
    model_name: str
    schema: str
    table_name: str
    asset_key: dg.AssetKey
    description: str

    @property
    def dataset_key(self) -> dg.AssetKey:
        return dg.AssetKey(["superset", "dataset", self.model_name])


def published_marts(
    manifest: Mapping[str, Any], translator: LakehouseDbtTranslator
) -> list[PublishedMart]:
    """The models in the folders `dbt_models_for_superset_datasets` lists, sorted by name."""
    marts = []
    for unique_id, node in (manifest.get("nodes") or {}).items():
        if not is_published_model(node):
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


def _skipped(context: dg.AssetExecutionContext, superset: SupersetResource) -> dg.MaterializeResult:
    reason = superset.not_configured_reason
    context.log.info("skipping %s: %s", context.asset_key.to_user_string(), reason)
    return dg.MaterializeResult(metadata={"status": "skipped", "reason": reason})


# -- the serving copy (dev/ci) -----------------------------------------------------------------


def follows_any_upstream() -> dg.AutomationCondition:
    """`follows_upstream` without waiting for every upstream to exist: the serving copy runs
    when any published mart was updated even if another was never built (its source not landed
    yet, a location not run); the copy leaves such marts out and says so."""
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("follows any upstream")


def serving_copy_asset(
    marts: Sequence[PublishedMart], warehouse_path: Path, serving_path: Path
) -> dg.AssetsDefinition:
    """The asset that copies the published marts into the DuckDB file Superset reads."""

    @dg.asset(
        key=SERVING_COPY_KEY,
        deps=[mart.asset_key for mart in marts],
        group_name=GROUP_NAME,
        automation_condition=follows_any_upstream(),
        kinds={"duckdb"},
        description=(
            "The published marts copied into a DuckDB file of their own that a local Superset "
            "reads (replaced atomically after each build), so Superset never holds the "
            "warehouse dbt writes. Local environments only; deployed Superset reads Trino."
        ),
        metadata={"path": str(serving_path)},
    )
    def _serving_copy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        tables = [(mart.schema, mart.table_name) for mart in marts]
        rows, missing = publish_serving_copy(warehouse_path, serving_path, tables)
        if missing:
            context.log.warning(
                "not in the warehouse yet (not built), left out of the serving copy: %s",
                ", ".join(missing),
            )
        return dg.MaterializeResult(
            metadata={
                "path": str(serving_path),
                "tables": len(rows),
                "rows": dg.MetadataValue.json(rows),
                "missing_tables": dg.MetadataValue.json(missing),
            }
        )

    return _serving_copy


# -- datasets ----------------------------------------------------------------------------------


def superset_dataset_asset(
    mart: PublishedMart, project: LakehouseDbtProject, *, serving_copy: bool = False
) -> dg.AssetsDefinition:
    """The asset publishing one mart as a Superset dataset."""
    deps = [mart.asset_key, *([SERVING_COPY_KEY] if serving_copy else [])]

    @dg.asset(
        key=mart.dataset_key,
        deps=deps,
        group_name=GROUP_NAME,
        automation_condition=follows_upstream(),
        kinds={"superset"},
        description=(
            f"The Superset dataset over `{mart.schema}.{mart.table_name}` "
            f"(dbt model `{mart.model_name}`), created or refreshed after the mart is built: "
            "its columns follow the mart's."
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
        url = superset.resolve_url()
        if url is None:
            return _skipped(context, superset)

        _check_manifest_target(context, project)
        with superset.get_client(url) as client:
            result = client.publish_dataset(superset.database_name, mart.schema, mart.table_name)
        context.log.info(
            "Superset dataset %s for %s.%s: %s",
            result["dataset_id"],
            mart.schema,
            mart.table_name,
            result["action"],
        )
        if result["columns_added"] and result["action"] == "refreshed":
            context.log.info("columns added: %s", ", ".join(result["columns_added"]))
        if result["columns_removed"]:
            context.log.warning("columns removed: %s", ", ".join(result["columns_removed"]))
        for chart in result["charts_using_removed_columns"]:
            context.log.warning(
                "chart %s (%r) uses removed column(s) %s: change it or it fails to render",
                chart["chart_id"],
                chart["chart_name"],
                ", ".join(chart["columns"]),
            )
        return dg.MaterializeResult(
            metadata={
                "status": "published",
                "dataset_id": result["dataset_id"],
                "dataset_uuid": result["dataset_uuid"],
                "action": result["action"],
                "database_name": superset.database_name,
                "schema": mart.schema,
                "table_name": mart.table_name,
                "columns": dg.MetadataValue.json(result["columns"]),
                "columns_added": dg.MetadataValue.json(result["columns_added"]),
                "columns_removed": dg.MetadataValue.json(result["columns_removed"]),
                "charts_using_removed_columns": dg.MetadataValue.json(
                    [dict(chart) for chart in result["charts_using_removed_columns"]]
                ),
                "superset_url": dg.MetadataValue.url(
                    f"{url}/explore/?datasource_type=table&datasource_id={result['dataset_id']}"
                ),
            }
        )

    return _publish


# -- dashboards --------------------------------------------------------------------------------


def _dataset_uuids(
    client: SupersetClient, database_name: str, marts: Sequence[PublishedMart]
) -> dict[str, str]:
    """The uuid of each mart's dataset in this Superset (the charts' dataset references)."""
    database_id = client.find_database_id(database_name)
    uuids = {}
    for mart in marts:
        existing = client.find_dataset(database_id, mart.schema, mart.table_name)
        if existing is None:
            msg = (
                f"Superset has no dataset for {mart.schema}.{mart.table_name} in database "
                f"{database_name!r}; materialize {mart.dataset_key.to_user_string()} first"
            )
            raise dg.Failure(description=msg)
        uuids[mart.model_name] = str(client.get_dataset(int(existing["id"]))["uuid"])
    return uuids


def superset_dashboard_asset(
    bundle: DashboardBundle,
    marts: Mapping[str, PublishedMart],
    project: LakehouseDbtProject,
) -> dg.AssetsDefinition:
    """The asset importing one dashboard (and its charts) into Superset."""
    unpublished = [name for name in bundle.marts if name not in marts]
    if unpublished:
        msg = (
            f"dashboard {bundle.slug!r} charts {', '.join(unpublished)}, which "
            f"{'is' if len(unpublished) == 1 else 'are'} not published: add the model's folder "
            "to dbt_models_for_superset_datasets (lakehouse/defs/lakehouse_datasets.py)"
        )
        raise ValueError(msg)
    used = [marts[name] for name in bundle.marts]

    @dg.asset(
        key=["superset", "dashboard", bundle.slug],
        deps=[mart.dataset_key for mart in used],
        group_name=GROUP_NAME,
        automation_condition=follows_upstream(),
        kinds={"superset"},
        description=(
            f"The Superset dashboard {bundle.title!r} and its {len(bundle.chart_files)} charts, "
            f"imported from lakehouse/superset/dashboards/{bundle.slug}/ (Superset's export "
            "YAML); importing again changes nothing unless the files changed."
        ),
        metadata={"slug": bundle.slug, "charts": len(bundle.chart_files)},
    )
    def _import_dashboard(
        context: dg.AssetExecutionContext, superset: SupersetResource
    ) -> dg.MaterializeResult:
        url = superset.resolve_url()
        if url is None:
            return _skipped(context, superset)

        _check_manifest_target(context, project)
        with superset.get_client(url) as client:
            uuids = _dataset_uuids(client, superset.database_name, used)
            client.import_assets(bundle.to_zip(uuids.__getitem__), sparse=True)
            dashboard = client.get_dashboard(bundle.slug)
            charts = client.dashboard_charts(bundle.slug)
        context.log.info(
            "Superset dashboard %r (id %s) imported with %d chart(s)",
            bundle.title,
            dashboard.get("id"),
            len(charts),
        )
        return dg.MaterializeResult(
            metadata={
                "status": "imported",
                "dashboard_id": dashboard.get("id"),
                "title": bundle.title,
                "charts": len(charts),
                "datasets": dg.MetadataValue.json(list(bundle.marts)),
                "superset_url": dg.MetadataValue.url(f"{url}/superset/dashboard/{bundle.slug}/"),
            }
        )

    return _import_dashboard


# -- definitions -------------------------------------------------------------------------------


def build_superset_assets(
    manifest: Mapping[str, Any],
    translator: LakehouseDbtTranslator,
    project: LakehouseDbtProject,
    *,
    serving_path: Path | None = None,
    dashboards: Sequence[DashboardBundle] | None = None,
) -> list[dg.AssetsDefinition]:
    """The serving copy (when `serving_path` is given: local environments), one dataset asset
    per published mart and one asset per dashboard."""
    marts = published_marts(manifest, translator)
    assets = []
    if serving_path is not None:
        assets.append(serving_copy_asset(marts, project.warehouse_path, serving_path))
    assets += [
        superset_dataset_asset(mart, project, serving_copy=serving_path is not None)
        for mart in marts
    ]
    by_name = {mart.model_name: mart for mart in marts}
    bundles = load_dashboards() if dashboards is None else dashboards
    assets += [superset_dashboard_asset(bundle, by_name, project) for bundle in bundles]
    return assets


@dg.definitions
def superset_definitions() -> dg.Definitions:
    """The Superset assets of this environment and its `superset` resource."""
    settings = get_settings()
    project = LakehouseDbtProject.from_settings(settings)
    translator = LakehouseDbtTranslator(project.warehouse_kind)
    return dg.Definitions(
        assets=build_superset_assets(
            project.load_manifest(),
            translator,
            project,
            serving_path=settings.serving_warehouse_path if settings.is_local else None,
        ),
        resources={
            "superset": SupersetResource.from_settings(settings, secrets=platform_secrets(settings))
        },
    )
