"""The warehouse the delivery assets read the dbt models from (DuckDB locally, Trino deployed)."""

import dagster as dg

from learning_resources.delivery import WAREHOUSE_KEY
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.warehouse import WarehouseResource


@dg.definitions
def warehouse() -> dg.Definitions:
    return dg.Definitions(
        resources={WAREHOUSE_KEY: WarehouseResource.from_settings(get_settings())}
    )
