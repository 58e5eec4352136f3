"""The dbt project as Dagster assets: one asset per model, dbt data tests as asset checks.

Keys follow the platform's `[source_system, layer, name]` convention so the warehouse joins the
ingestion graph: sources keep the raw keys from their `meta.dagster.asset_key`
(`["openedx", "raw", "mitxonline_course_runs"]`), models become e.g.
`["openedx", "staging", "stg_openedx__course_runs"]`. Built from the prepared manifest; a run
executes `dbt build` for the selected models; a build of every model skips the models no changed
raw table reads (`lakehouse.dbt_inputs`). Every model follows its upstream: the translator
gives it the platform's `follows_upstream` automation condition, so new raw data flows through
staging, intermediate and marts (and on to the Superset datasets) with no job to launch.
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations
# (config class, resources) at definition time.
import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from lakehouse.dbt_inputs import (
    BuildInputs,
    plan_build,
    record_inputs,
    recorded_inputs,
    table_versions,
    warehouse_token,
)
from lakehouse.dbt_project import LakehouseDbtProject, in_process_adapter
from ol_orchestrate.lib.automation import follows_upstream
from ol_orchestrate.lib.environment import get_settings

# Model name prefix -> the layer it belongs to (the project's naming guide); the folder wins
# when a model sits in a layer folder.
LAYER_BY_PREFIX: Mapping[str, str] = {
    "stg": "staging",
    "int": "intermediate",
    "dim": "marts",
    "fct": "marts",
}
LAYERS: frozenset[str] = frozenset(LAYER_BY_PREFIX.values())
_MODEL_NAME = re.compile(r"^(?P<prefix>[a-z]+)_(?P<source>[a-z0-9_]+?)__(?P<entity>.+)$")
# Models that do not follow `<prefix>_<source>__<entity>` and sit in no source folder.
FALLBACK_SOURCE_SYSTEM = "warehouse"

DBT_ASSETS_NAME = "ol_dbt"
BUILD_JOB_NAME = "build_warehouse_and_publish"
# The group of the Superset dataset assets (defs/superset.py), which the build job also runs.
SUPERSET_GROUP = "superset"


def _dbt_meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return (props.get("config") or {}).get("meta") or props.get("meta") or {}


def model_layer(props: Mapping[str, Any]) -> str:
    """`staging` / `intermediate` / `marts` from the model's folder under models/ (its fqn),
    else from its name prefix; seeds and snapshots are layers of their own."""
    resource_type = props.get("resource_type", "model")
    if resource_type != "model":
        return {"seed": "seeds", "snapshot": "snapshots"}.get(resource_type, resource_type)
    fqn = props.get("fqn") or []
    # fqn: [project, <folders under models/>..., name]
    if len(fqn) > 2 and fqn[1] in LAYERS:
        return str(fqn[1])
    match = _MODEL_NAME.match(props["name"])
    if match and match.group("prefix") in LAYER_BY_PREFIX:
        return LAYER_BY_PREFIX[match.group("prefix")]
    return str(fqn[1]) if len(fqn) > 2 else "models"


def model_source_system(props: Mapping[str, Any]) -> str:
    """The source system a model belongs to: `openedx` for `stg_openedx__course_runs`
    (the part after the layer prefix and before `__`), else its folder inside the layer."""
    match = _MODEL_NAME.match(props["name"])
    if match and match.group("prefix") in LAYER_BY_PREFIX:
        return match.group("source")
    fqn = props.get("fqn") or []
    if len(fqn) > 3:
        return str(fqn[2])
    return FALLBACK_SOURCE_SYSTEM


class LakehouseDbtTranslator(DagsterDbtTranslator):
    """dbt nodes -> platform asset keys, groups and kinds.

    - sources: their `meta.dagster.asset_key` (dagster-dbt's default reads it), so they line up
      with the ingestion locations' raw assets;
    - models, seeds, snapshots: `[source_system, layer, name]`, group `<source_system>_<layer>`
      (an explicit `meta.dagster.asset_key` / `group` still wins);
    - kinds: `dbt` and the warehouse engine of this environment (`duckdb` or `trino`), rather
      than the adapter the manifest happened to be parsed with;
    - automation: every model, seed and snapshot follows its upstream (`follows_upstream`).
    """

    def __init__(
        self,
        warehouse_kind: str | None = None,
        settings: DagsterDbtTranslatorSettings | None = None,
    ) -> None:
        super().__init__(settings or DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.warehouse_kind = warehouse_kind

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        resource_type = dbt_resource_props["resource_type"]
        explicit = (_dbt_meta(dbt_resource_props).get("dagster") or {}).get("asset_key")
        if resource_type == "source" or explicit:
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(
            [
                model_source_system(dbt_resource_props),
                model_layer(dbt_resource_props),
                dbt_resource_props["name"],
            ]
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        explicit = (_dbt_meta(dbt_resource_props).get("dagster") or {}).get(
            "group"
        ) or super().get_group_name(dbt_resource_props)
        if explicit or dbt_resource_props["resource_type"] == "source":
            return explicit
        return f"{model_source_system(dbt_resource_props)}_{model_layer(dbt_resource_props)}"

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return follows_upstream()

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if not self.warehouse_kind:
            return spec
        return spec.replace_attributes(kinds={"dbt", self.warehouse_kind}).merge_attributes(
            metadata={"dagster/storage_kind": self.warehouse_kind}
        )


class DbtBuildConfig(dg.Config):
    """Run configuration of a dbt build."""

    full_refresh: bool = False
    # dbt unit tests check the models' SQL against fixtures, not the data: CI runs them
    # (src/ol_dbt/tests); a build of the data skips them unless asked (dbt's own advice).
    unit_tests: bool = False
    # Column names and types of every built model as asset metadata, read from the warehouse
    # after the build (dagster-dbt's `fetch_column_metadata`, without column lineage). Off by
    # default: it made the dbt step on DuckDB about a third slower (benchmarks/README.md).
    column_metadata: bool = False


def build_dbt_assets(
    project: LakehouseDbtProject,
    manifest: Mapping[str, Any],
    translator: LakehouseDbtTranslator | None = None,
) -> dg.AssetsDefinition:
    """`@dbt_assets` over the prepared manifest; runs `dbt build` with this environment's target
    and variables (set when the run starts, not when the location loads)."""
    translator = translator or LakehouseDbtTranslator(project.warehouse_kind)
    # Raw table (asset key) -> the dbt sources it backs: what a whole build reads.
    sources_by_key: dict[str, list[str]] = {}
    for unique_id, props in manifest.get("sources", {}).items():
        key = translator.get_asset_key(props).to_user_string()
        sources_by_key.setdefault(key, []).append(unique_id)
    source_keys = [dg.AssetKey.from_user_string(key) for key in sorted(sources_by_key)]
    manifest_version = project.manifest_version(manifest)

    @dbt_assets(
        manifest=manifest,
        project=project.dbt,
        dagster_dbt_translator=translator,
        name=DBT_ASSETS_NAME,
    )
    def ol_dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
    ) -> Iterator[Any]:
        args = ["build"]
        if config.full_refresh:
            args.append("--full-refresh")
        if not config.unit_tests:
            args += ["--exclude-resource-type", "unit_test"]
        # A build of every model may skip what no changed raw table reads (lakehouse.dbt_inputs).
        every_model = set(context.assets_def.node_keys_by_output_name.values())
        whole = set(context.selected_asset_keys) == every_model
        inputs = None
        if whole:
            inputs = BuildInputs(
                manifest=manifest_version,
                warehouse=warehouse_token(project.warehouse_path if project.is_local else None),
                tables=table_versions(context.instance, source_keys),
            )
            if not config.full_refresh:
                plan = plan_build(
                    manifest,
                    sources_by_key,
                    recorded_inputs(context.instance, project.target),
                    inputs,
                )
                context.log.info(f"dbt build plan: {plan.reason}")
                if plan.nothing:
                    return  # no output: the models (and the Superset datasets) are unchanged
                if plan.excluded:
                    args += ["--exclude", " ".join(plan.excluded)]
        context.log.info("dbt %s --target %s", " ".join(args[:4]), dbt.target)
        with project.run_environment(), in_process_adapter(config.column_metadata):
            invocation = dbt.cli(args, context=context)
            events = invocation.stream()
            if config.column_metadata:
                events = events.fetch_column_metadata(with_column_lineage=False)
            yield from events
        project.keep_partial_parse(invocation.target_path)
        if inputs is not None:
            # Reached only when dbt succeeded (a failed build raises above); the warehouse as the
            # build left it (a first build creates the file).
            warehouse = warehouse_token(project.warehouse_path if project.is_local else None)
            record_inputs(
                context.instance, project.target, dataclasses.replace(inputs, warehouse=warehouse)
            )

    return ol_dbt


@dg.definitions
def dbt_definitions() -> dg.Definitions:
    """The dbt assets of this environment's target, the `dbt` resource and the build job."""
    project = LakehouseDbtProject.from_settings(get_settings())
    dbt_assets_def = build_dbt_assets(project, project.load_manifest())
    build_job = dg.define_asset_job(
        BUILD_JOB_NAME,
        selection=dg.AssetSelection.assets(dbt_assets_def)
        | dg.AssetSelection.groups(SUPERSET_GROUP),
        description="dbt build of every model (with its tests), then publish marts to Superset.",
    )
    return dg.Definitions(
        assets=[dbt_assets_def], jobs=[build_job], resources={"dbt": project.cli_resource()}
    )
