"""The one webhook-delivery factory: a delivery asset per source, from its dbt model to MIT Learn.

`["learning_resources", "delivery", <etl_source>]` depends on the source's dbt model
`["learning_resources", "marts", "integrations__learn__<etl_source>"]` (built by the lakehouse
location) and follows it: after each build it reads the model's table from the warehouse (DuckDB
locally, Trino deployed: `ol_orchestrate.resources.warehouse`) and sends MIT Learn what changed
since the last acknowledged delivery (`ol_orchestrate.lib.learn_delivery`), signed by the
`learn_webhook` resource. The delivery state, a content hash per readable id, is the asset's lake
object: `delivery/learning_resources/<etl_source>/data.parquet`.
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations.
import dagster as dg

from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.automation import follows_upstream
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.learn_delivery import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_DELETE_SHARE,
    DeliveryIncompleteError,
    DeliveryState,
    deliver,
    learning_resource,
)
from ol_orchestrate.resources.learn import LearnWebhookResource, WebhookSignatureError
from ol_orchestrate.resources.warehouse import WarehouseModelMissingError, WarehouseResource

LEARN_WEBHOOK_KEY = "learn_webhook"
WAREHOUSE_KEY = "warehouse"
MODEL_LAYER = "marts"


def model_key(model: str) -> dg.AssetKey:
    """The asset key the lakehouse gives an `integrations__learn__<source>` model."""
    return dg.AssetKey(["learning_resources", MODEL_LAYER, model])


def delivery_key(etl_source: str) -> dg.AssetKey:
    return dg.AssetKey(["learning_resources", "delivery", etl_source])


def build_delivery_asset(
    etl_source: str,
    model: str,
    *,
    group_name: str,
    description: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE,
) -> dg.AssetsDefinition:
    """The delivery asset of one source (see the module doc)."""

    @dg.asset(
        key=delivery_key(etl_source),
        deps=[model_key(model)],
        group_name=group_name,
        kinds={"mit_learn"},
        description=(
            f"{description} delivered to MIT Learn: the rows of `{model}` that changed since the "
            "last acknowledged delivery, as signed webhooks in batches of "
            f"{batch_size}, and a delete webhook for each resource gone from the source."
        ),
        automation_condition=follows_upstream(),
        required_resource_keys={LEARN_WEBHOOK_KEY, WAREHOUSE_KEY},
        metadata={"etl_source": etl_source, "dbt_model": model, "batch_size": batch_size},
    )
    def _deliver(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        webhook: LearnWebhookResource = getattr(context.resources, LEARN_WEBHOOK_KEY)
        warehouse: WarehouseResource = getattr(context.resources, WAREHOUSE_KEY)
        try:
            table = warehouse.read_model(MODEL_LAYER, model)
        except WarehouseModelMissingError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        resources = [learning_resource(row) for row in table.to_pylist()]
        state_path = lake_path_for(get_settings().lake_root, context.asset_key)
        state = DeliveryState.load(state_path)
        try:
            with webhook.client() as client:
                result = deliver(
                    client,
                    etl_source,
                    resources,
                    state,
                    save=lambda current: current.save(state_path),
                    batch_size=batch_size,
                    max_delete_share=max_delete_share,
                    run_id=context.run_id,
                    log=context.log,
                )
        except WebhookSignatureError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        metadata = {
            **result.metadata(),
            "resources": len(resources),
            "delivered_total": len(state),
            "state_path": str(state_path),
            "catalog": webhook.base_url,
        }
        if result.failed:
            raise DeliveryIncompleteError(
                description=(
                    f"{etl_source}: {result.failed} resource(s) not acknowledged by MIT Learn "
                    f"({result.summary()}); the next run sends exactly those. First error: "
                    f"{result.errors[0] if result.errors else 'unknown'}"
                ),
                metadata=metadata,
            )
        return dg.MaterializeResult(metadata=metadata)

    return _deliver
