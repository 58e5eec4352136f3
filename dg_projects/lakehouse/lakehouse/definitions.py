"""The lakehouse code location: the dbt project as assets and a Superset dataset per mart.

Loads from the prepared dbt manifest (no dbt, network or Vault while loading); the platform
bootstrap adds the `secrets` and `io_manager` resources.
"""

from __future__ import annotations

import dagster as dg

from lakehouse.assets.dbt import LakehouseDbtTranslator, build_dbt_assets
from lakehouse.assets.superset import GROUP_NAME as SUPERSET_GROUP
from lakehouse.assets.superset import build_superset_assets
from lakehouse.dbt_project import LakehouseDbtProject
from ol_orchestrate.lib.definitions import build_definitions
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.superset import SupersetResource

BUILD_JOB_NAME = "build_warehouse_and_publish"


def build_lakehouse_definitions() -> dg.Definitions:
    settings = get_settings()
    project = LakehouseDbtProject.from_settings(settings)
    manifest = project.load_manifest()
    translator = LakehouseDbtTranslator(project.warehouse_kind)
    dbt_assets_def = build_dbt_assets(project, manifest, translator)
    superset_assets = build_superset_assets(manifest, translator, project)
    secrets = SecretsResource.from_settings(settings)

    build_job = dg.define_asset_job(
        BUILD_JOB_NAME,
        selection=dg.AssetSelection.assets(dbt_assets_def)
        | dg.AssetSelection.groups(SUPERSET_GROUP),
        description="dbt build of every model (with its tests), then publish marts to Superset.",
    )
    return build_definitions(
        assets=[dbt_assets_def, *superset_assets],
        jobs=[build_job],
        resources={
            "dbt": project.cli_resource(),
            "superset": SupersetResource.from_settings(settings, secrets=secrets),
        },
        secrets=secrets,
        settings=settings,
    )


defs = build_lakehouse_definitions()
