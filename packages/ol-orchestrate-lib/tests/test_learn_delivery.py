"""MIT Learn webhooks (`ol_orchestrate.resources.learn`) and change-only delivery
(`ol_orchestrate.lib.learn_delivery`) against the sandbox's signature-verifying receiver, and the
warehouse reader the delivery assets use (`ol_orchestrate.resources.warehouse`)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest
from upath import UPath

from ol_orchestrate.lib.learn_delivery import (
    DeliveryRefusedError,
    DeliveryState,
    content_hash,
    deliver,
    learning_resource,
    topic_names,
)
from ol_orchestrate.resources.learn import (
    SIGNATURE_HEADER,
    LearnWebhookClient,
    WebhookRejectedError,
    WebhookSignatureError,
    encode_body,
    sign,
)
from ol_orchestrate.resources.warehouse import WarehouseModelMissingError, WarehouseResource
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.learn_webhook import WEBHOOK_PATH, WEBHOOK_SECRET
from ol_sandbox.server import SandboxServer

SECRET_PATH = "learn/webhook"  # pragma: allowlist secret (a path)


@pytest.fixture
def catalog() -> Iterator[SandboxServer]:
    institution = Institution.generate(seed=42, **SIZES["small"])
    with SandboxServer(institution, fault_config=FaultConfig(), delivery_bucket=False) as server:
        yield server


def client(
    server: SandboxServer, secret: str = WEBHOOK_SECRET, **kwargs: Any
) -> LearnWebhookClient:
    sleeps: list[float] = []
    built = LearnWebhookClient(
        server.learn_url,
        secret,
        secret_path=SECRET_PATH,
        max_retries=kwargs.pop("max_retries", 2),
        sleep=sleeps.append,
        **kwargs,
    )
    built.sleeps = sleeps  # type: ignore[attr-defined]
    return built


def resource(readable_id: str, title: str = "A course", **changes: Any) -> dict[str, Any]:
    row = {
        "readable_id": readable_id,
        "resource_type": "course",
        "resource_category": "Course",
        "title": title,
        "url": f"https://example.mit.edu/{readable_id}",
        "description": None,
        "image_url": "https://example.mit.edu/i.jpg",
        "image_alt": None,
        "topics": " Energy | Policy|Energy|",
        "offered_by_code": "mitpe",
        "platform": "mitpe",
        "etl_source": "mitpe",
        "published": True,
        "start_on": datetime(2026, 3, 2, 9, 30, 15, 123456),
        "end_on": None,
        "created_on": None,
        "last_modified_on": None,
        **changes,
    }
    return learning_resource(row)


# -- the shape and the hash ------------------------------------------------------------------------


def test_a_model_row_becomes_the_catalogs_learning_resource() -> None:
    shaped = resource("c1")
    assert shaped["image"] == {"url": "https://example.mit.edu/i.jpg", "alt": ""}
    assert shaped["topics"] == [{"name": "Energy"}, {"name": "Policy"}]
    assert shaped["offered_by"] == {"code": "mitpe"}
    assert shaped["start_date"] == "2026-03-02T09:30:15Z"
    assert resource("c1", image_url=None)["image"] is None
    assert topic_names(None) == []


def test_the_content_hash_changes_exactly_with_the_content() -> None:
    assert content_hash(resource("c1")) == content_hash(resource("c1"))
    assert content_hash(resource("c1")) != content_hash(resource("c1", title="Renamed"))
    # the same content in another key order is the same resource
    assert content_hash(dict(reversed(list(resource("c1").items())))) == content_hash(
        resource("c1")
    )


# -- signing and the client ------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_the_exact_bytes() -> None:
    body = encode_body({"b": 1, "a": "é"})
    assert body == '{"b":1,"a":"é"}'.encode()
    assert sign("k", body) == hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_the_receiver_accepts_a_signed_body_and_refuses_any_other(catalog: SandboxServer) -> None:
    with client(catalog) as learn:
        answer = learn.upsert("mitpe", [resource("c1")])
    assert answer == {"status": "ok", "action": "upsert", "etl_source": "mitpe", "count": 1}
    (delivery,) = catalog.learn_webhook.deliveries
    assert delivery.payload["resources"] == [resource("c1")]
    url = f"{catalog.learn_url}/{WEBHOOK_PATH}/"
    body = encode_body({"etl_source": "mitpe", "action": "delete", "readable_ids": ["c1"]})
    unsigned = httpx.post(url, content=body)
    tampered = httpx.post(
        url, content=body + b" ", headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)}
    )
    assert (unsigned.status_code, tampered.status_code) == (401, 401)
    assert len(catalog.learn_webhook.deliveries) == 1


def test_a_wrong_secret_is_refused_once_and_named_by_its_path(catalog: SandboxServer) -> None:
    wrong = "wrong-secret-value"  # pragma: allowlist secret
    with client(catalog, wrong) as learn, pytest.raises(WebhookSignatureError) as raised:
        learn.upsert("mitpe", [resource("c1")])
    message = str(raised.value)
    assert SECRET_PATH in message
    assert "HTTP 401" in message
    assert wrong not in message
    assert WEBHOOK_SECRET not in message
    assert [a.status for a in catalog.learn_webhook.attempts] == [401]


def test_429_and_5xx_are_retried_with_retry_after_other_4xx_never(catalog: SandboxServer) -> None:
    receiver = catalog.learn_webhook
    receiver.fail(429, count=1, retry_after=7)
    with client(catalog) as learn:
        learn.upsert("mitpe", [resource("c1")])
        assert learn.sleeps == [7.0]  # type: ignore[attr-defined]
    receiver.fail(503, count=1)
    with client(catalog) as learn:
        learn.upsert("mitpe", [resource("c2")])
    receiver.fail(400, count=1)
    with client(catalog) as learn, pytest.raises(WebhookRejectedError, match="HTTP 400"):
        learn.upsert("mitpe", [resource("c3")])
    receiver.fail(408, count=1)  # a 4xx ApiClient would retry for a GET: not a webhook
    with client(catalog) as learn, pytest.raises(WebhookRejectedError, match="HTTP 408"):
        learn.upsert("mitpe", [resource("c3")])
    assert [a.status for a in receiver.attempts] == [429, 200, 503, 200, 400, 408]


def test_a_malformed_resource_is_refused_by_the_receiver(catalog: SandboxServer) -> None:
    broken = {**resource("c1"), "title": None}
    with client(catalog) as learn, pytest.raises(WebhookRejectedError, match="title required"):
        learn.upsert("mitpe", [broken])


# -- change-only delivery --------------------------------------------------------------------------


class Store:
    """The delivery state in a tmp lake, counting saves."""

    def __init__(self, path: Path) -> None:
        self.path = UPath(path)
        self.saves = 0

    def load(self) -> DeliveryState:
        return DeliveryState.load(self.path)

    def save(self, state: DeliveryState) -> None:
        self.saves += 1
        state.save(self.path)


def run(catalog: SandboxServer, store: Store, resources: list[dict[str, Any]], **kw: Any) -> Any:
    with client(catalog) as learn:
        return deliver(learn, "mitpe", resources, store.load(), save=store.save, **kw)


def test_delivery_sends_only_what_changed_and_deletes_what_is_gone(
    catalog: SandboxServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "state.parquet")
    catalog_resources = [resource(f"c{i}") for i in range(5)]
    first = run(catalog, store, catalog_resources, batch_size=2)
    assert (first.sent, first.unchanged, first.deleted, first.failed, first.batches) == (
        5,
        0,
        0,
        0,
        3,
    )
    assert store.saves == 3
    assert [len(d.readable_ids) for d in catalog.learn_webhook.deliveries] == [2, 2, 1]

    catalog.learn_webhook.clear()
    second = run(catalog, store, catalog_resources, batch_size=2)
    assert (second.sent, second.unchanged, second.batches) == (0, 5, 0)
    assert catalog.learn_webhook.deliveries == []

    changed = [*catalog_resources[:4], resource("c4", title="New title")]
    third = run(catalog, store, changed[1:], batch_size=2)
    assert (third.sent, third.unchanged, third.deleted) == (1, 3, 1)
    assert [(d.action, d.readable_ids) for d in catalog.learn_webhook.deliveries] == [
        ("upsert", ("c4",)),
        ("delete", ("c0",)),
    ]
    assert set(store.load().entries) == {"c1", "c2", "c3", "c4"}


def test_an_outage_leaves_the_unacknowledged_to_the_next_run(
    catalog: SandboxServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "state.parquet")
    catalog_resources = [resource(f"c{i}") for i in range(7)]
    catalog.learn_webhook.fail(503, after=2)
    partial = run(catalog, store, catalog_resources, batch_size=2)
    assert (partial.sent, partial.failed, partial.batches) == (4, 3, 2)
    assert "failed after 3 attempts" in partial.errors[0]
    catalog.learn_webhook.recover()
    catalog.learn_webhook.clear()
    rest = run(catalog, store, catalog_resources, batch_size=2)
    assert (rest.sent, rest.unchanged, rest.failed) == (3, 4, 0)
    assert catalog.learn_webhook.upserted() == ["c4", "c5", "c6"]


def test_deleting_most_of_the_catalog_is_refused_before_sending(
    catalog: SandboxServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "state.parquet")
    run(catalog, store, [resource(f"c{i}") for i in range(4)])
    catalog.learn_webhook.clear()
    with pytest.raises(DeliveryRefusedError, match="max_delete_share"):
        run(catalog, store, [])
    assert catalog.learn_webhook.deliveries == []
    allowed = run(catalog, store, [], max_delete_share=1.0)
    assert allowed.deleted == 4


def test_resources_breaking_the_contract_are_refused(
    catalog: SandboxServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "state.parquet")
    with pytest.raises(DeliveryRefusedError, match="readable_id repeated") as raised:
        run(catalog, store, [resource("c1"), resource("c1")])
    assert isinstance(raised.value, dg.Failure)
    with pytest.raises(DeliveryRefusedError, match="etl_source 'oll'"):
        run(catalog, store, [resource("c1", etl_source="oll")])
    assert catalog.learn_webhook.attempts == []


def test_a_refused_signature_stops_the_delivery_after_saving_what_was_acknowledged(
    catalog: SandboxServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "state.parquet")
    catalog_resources = [resource(f"c{i}") for i in range(4)]
    run(catalog, store, catalog_resources[:2])
    with client(catalog, "rotated-elsewhere") as learn, pytest.raises(WebhookSignatureError):
        deliver(learn, "mitpe", catalog_resources, store.load(), save=store.save)
    assert set(store.load().entries) == {"c0", "c1"}


# -- the warehouse reader --------------------------------------------------------------------------


def test_the_warehouse_reads_a_models_table_from_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    warehouse = WarehouseResource(engine="duckdb", duckdb_path=str(path))
    with pytest.raises(WarehouseModelMissingError, match="integrations__learn__x"):
        warehouse.read_model("marts", "integrations__learn__x")
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.integrations__learn__x as select 'a' as readable_id")
    with pytest.raises(WarehouseModelMissingError, match="build it first"):
        warehouse.read_model("marts", "integrations__learn__y")
    assert warehouse.read_model("marts", "integrations__learn__x").to_pylist() == [
        {"readable_id": "a"}
    ]


def test_deployed_the_warehouse_is_trino_with_the_dbt_profiles_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ol_orchestrate.lib.environment import load_settings

    monkeypatch.setenv("TRINO_SCHEMA", "ol_warehouse_production")
    monkeypatch.setenv("TRINO_CATALOG", "ol_data_lake")
    warehouse = WarehouseResource.from_settings(load_settings({"DAGSTER_ENV": "production"}))
    assert warehouse.engine == "trino"
    assert warehouse.relation("marts", "integrations__learn__oll") == (
        '"ol_data_lake"."ol_warehouse_production_marts"."integrations__learn__oll"'
    )
    monkeypatch.delenv("TRINO_SCHEMA")
    qa = WarehouseResource.from_settings(load_settings({"DAGSTER_ENV": "qa"}))
    assert qa.trino_schema == "ol_warehouse_qa"
