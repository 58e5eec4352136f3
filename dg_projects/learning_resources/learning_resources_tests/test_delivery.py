"""Change-only, signed delivery to MIT Learn (the sandbox's receiver), through the location's
assets.

End to end for one source (raw asset -> dbt -> delivery asset): the first run delivers every
resource, a second run nothing, one changed source record exactly one resource, a deleted record
one delete webhook. Then, over a model table written directly: a receiver outage in the middle
of a delivery (the next run sends only the rest), a wrong secret (a clear error naming the secret
path, never the secret), 4xx never retried, 429 honoured, batches of the configured size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from learning_resources.delivery import build_delivery_asset, delivery_key
from learning_resources_tests.conftest import WEBHOOK_SECRET_PATH, Platform
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.environment import find_repo_root
from ol_orchestrate.lib.learn_delivery import LEARNING_RESOURCE_COLUMNS, DeliveryState
from ol_orchestrate.lib.run_summary import SUMMARY_METADATA_KEY
from ol_sandbox.learn_webhook import WEBHOOK_SECRET

DBT_PROJECT = find_repo_root() / "src" / "ol_dbt"
CLIMATE_RAW = "learning_resources/raw/mit_climate_articles"
CLIMATE_DELIVERY = "learning_resources/delivery/mit_climate"
MITPE_DELIVERY = "learning_resources/delivery/mitpe"
MITPE_MODEL = "integrations__learn__mitpe"


def dbt_build(platform: Platform, work_dir: Path, select: str) -> None:
    """`dbt build --select <select>` of the repository's project on this test's lake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "OL_", "TRINO_"))}
    env |= {
        "OL_LAKE_ROOT": str(platform.lake),
        "OL_WAREHOUSE_PATH": str(platform.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "dbt.cli.main", "build", "--target", "ci", "--select", select,
         "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")],
        cwd=DBT_PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-4000:]


def deliver_mitpe(
    instance: dg.DagsterInstance, resources: dict[str, Any]
) -> dg.ExecuteInProcessResult:
    """The mitpe delivery asset from the one factory, with the test's fast-retrying resources."""
    asset = build_delivery_asset(
        "mitpe", MITPE_MODEL, group_name="test", description="MIT PE", batch_size=50
    )
    return dg.materialize([asset], resources=resources, instance=instance, raise_on_error=False)


def delivery_metadata(result: dg.ExecuteInProcessResult, key: str) -> dict[str, Any]:
    events = result.asset_materializations_for_node(
        platform_node_name(dg.AssetKey.from_user_string(key))
    )
    assert len(events) == 1
    return {name: getattr(value, "value", value) for name, value in events[0].metadata.items()}


def platform_node_name(key: dg.AssetKey) -> str:
    return "__".join(key.path)


def failure_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    failures = [event for event in result.all_events if event.is_step_failure]
    assert len(failures) == 1
    data = failures[0].step_failure_data.user_failure_data
    assert data is not None
    return {name: getattr(value, "value", value) for name, value in data.metadata.items()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures
    error = failures[0].step_failure_data.error
    assert error is not None
    return error.message


# -- end to end: raw -> dbt -> delivery ----------------------------------------------------------


def test_change_only_delivery_end_to_end(
    platform: Platform,
    instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    receiver = platform.sandbox.learn_webhook
    articles = platform.sandbox.learn_sources.data
    everything = {a["uuid"] for a in articles.list("mit_climate")}
    select = "+integrations__learn__mit_climate"

    def run_once() -> dict[str, Any]:
        assert platform.run(instance, CLIMATE_RAW).success
        dbt_build(platform, tmp_path, select)
        result = platform.run(instance, CLIMATE_DELIVERY)
        assert result.success, failure_message(result)
        return delivery_metadata(result, CLIMATE_DELIVERY)

    # The first run delivers every resource, signed, in batches of the configured 50.
    first = run_once()
    assert set(receiver.upserted("mit_climate")) == everything
    assert (first["sent"], first["unchanged"], first["deleted"], first["failed"]) == (
        len(everything), 0, 0, 0
    )  # fmt: skip
    assert first["batches"] == 1
    assert first[SUMMARY_METADATA_KEY].startswith(f"sent {len(everything)}, unchanged 0")
    assert set(receiver.resources("mit_climate")) == everything
    sample = next(iter(receiver.resources("mit_climate").values()))
    assert sample["url"].startswith("https://climate.mit.edu/")
    assert sample["offered_by"] == {"code": "climate"}

    # A second run sends nothing.
    receiver.clear()
    second = run_once()
    assert receiver.deliveries == []
    assert (second["sent"], second["unchanged"], second["batches"]) == (0, len(everything), 0)

    # One changed source record: exactly that resource is sent again.
    changed = sorted(everything)[2]
    articles.update("mit_climate", changed, summary="A new summary.")
    third = run_once()
    assert receiver.upserted("mit_climate") == [changed]
    assert receiver.resources("mit_climate")[changed]["description"] == "A new summary."
    assert (third["sent"], third["unchanged"]) == (1, len(everything) - 1)

    # A record deleted at the source: one delete webhook, for it.
    receiver.clear()
    gone = sorted(everything)[0]
    articles.delete("mit_climate", gone)
    fourth = run_once()
    assert [(d.action, d.readable_ids) for d in receiver.deliveries] == [("delete", (gone,))]
    assert fourth["deleted"] == 1
    state = DeliveryState.load(lake_path_for(platform.lake, delivery_key("mit_climate")))
    assert set(state.entries) == everything - {gone}


# -- over a model table written directly ---------------------------------------------------------


def write_model(warehouse: Path, model: str, count: int, *, revision: str = "") -> list[str]:
    """`marts.<model>` with `count` mitpe courses (readable ids `mitpe-000`, ...)."""
    ids = [f"mitpe-{i:03d}" for i in range(count)]
    rows = [
        {
            "readable_id": rid,
            "resource_type": "course",
            "resource_category": "Course",
            "title": f"Course {rid}{revision}",
            "url": f"https://professional.mit.edu/{rid}",
            "description": None,
            "image_url": None,
            "image_alt": None,
            "topics": "Energy|Policy",
            "offered_by_code": "mitpe",
            "platform": "mitpe",
            "etl_source": "mitpe",
            "published": True,
            "start_on": None,
            "end_on": None,
            "created_on": None,
            "last_modified_on": None,
        }
        for rid in ids
    ]
    types = {"published": "boolean"} | {
        c: "timestamp" for c in LEARNING_RESOURCE_COLUMNS if c.endswith("_on")
    }
    columns = ", ".join(f"{c} {types.get(c, 'varchar')}" for c in LEARNING_RESOURCE_COLUMNS)
    placeholders = ", ".join("?" for _ in LEARNING_RESOURCE_COLUMNS)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute(f"create or replace table marts.{model} ({columns})")
        connection.executemany(
            f"insert into marts.{model} values ({placeholders})",
            [[row[c] for c in LEARNING_RESOURCE_COLUMNS] for row in rows],
        )
    return ids


def test_an_outage_mid_delivery_leaves_exactly_the_rest_to_the_next_run(
    platform: Platform, instance: dg.DagsterInstance, resources: Callable[..., dict[str, Any]]
) -> None:
    receiver = platform.sandbox.learn_webhook
    ids = write_model(platform.warehouse, MITPE_MODEL, 120)  # batches of 50: 50, 50, 20
    receiver.fail(503, after=1)  # the first batch lands, then the catalog is down
    failed = deliver_mitpe(instance, resources())
    assert not failed.success
    metadata = failure_metadata(failed)
    assert (metadata["sent"], metadata["failed"], metadata["batches"]) == (50, 70, 1)
    assert "the next run sends exactly those" in failure_message(failed)
    acknowledged = receiver.upserted("mitpe")
    assert acknowledged == ids[:50]

    receiver.recover()
    receiver.clear()
    again = deliver_mitpe(instance, resources())
    assert again.success
    assert receiver.upserted("mitpe") == ids[50:]
    metadata = delivery_metadata(again, MITPE_DELIVERY)
    assert (metadata["sent"], metadata["unchanged"], metadata["batches"]) == (70, 50, 2)


def test_a_wrong_secret_names_the_secret_path_never_the_secret(
    platform: Platform,
    instance: dg.DagsterInstance,
    resources: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    write_model(platform.warehouse, MITPE_MODEL, 3)
    wrong = "not-the-catalogs-secret"  # pragma: allowlist secret
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text(json.dumps({"learn": {"webhook": {"secret": wrong}}}))
    from ol_orchestrate.resources.secrets import SecretsResource

    monkeypatch.setenv("OL_SECRETS_FILE", str(secrets_file))
    built = resources()
    built["learn_webhook"] = built["learn_webhook"].model_copy(
        update={"secrets": SecretsResource(backend="local", local_secrets_file=str(secrets_file))}
    )
    result = deliver_mitpe(instance, built)
    assert not result.success
    message = failure_message(result)
    assert WEBHOOK_SECRET_PATH in message
    assert "HTTP 401" in message
    assert wrong not in message
    assert WEBHOOK_SECRET not in message
    logs = "".join(str(event.message) for event in result.all_events)
    assert wrong not in logs
    # Refused signatures are not retried and nothing is recorded as delivered.
    assert [a.status for a in platform.sandbox.learn_webhook.attempts] == [401]
    assert not lake_path_for(platform.lake, delivery_key("mitpe")).exists()


def test_a_refused_batch_is_not_retried_and_the_others_still_go(
    platform: Platform, instance: dg.DagsterInstance, resources: Callable[..., dict[str, Any]]
) -> None:
    receiver = platform.sandbox.learn_webhook
    ids = write_model(platform.warehouse, MITPE_MODEL, 60)
    receiver.fail(422, count=1)  # the first batch is refused once
    result = deliver_mitpe(instance, resources())
    assert not result.success
    assert [a.status for a in receiver.attempts] == [422, 200]
    assert receiver.upserted("mitpe") == ids[50:]
    metadata = failure_metadata(result)
    assert (metadata["sent"], metadata["failed"]) == (10, 50)
    again = deliver_mitpe(instance, resources())
    assert again.success
    assert sorted(receiver.upserted("mitpe")) == ids


def test_throttling_is_retried_after_the_retry_after_it_asks_for(
    platform: Platform, instance: dg.DagsterInstance, resources: Callable[..., dict[str, Any]]
) -> None:
    receiver = platform.sandbox.learn_webhook
    ids = write_model(platform.warehouse, MITPE_MODEL, 5)
    receiver.fail(429, count=1, retry_after=0)
    platform.sandbox.faults.inject("/mit_learn/", "server_error", status=502, method="POST")
    result = deliver_mitpe(instance, resources(max_retries=3))
    assert result.success
    assert [a.status for a in receiver.attempts] == [429, 200]
    statuses = [r.status for r in platform.sandbox.requests if r.path.startswith("/mit_learn/")]
    assert statuses == [502, 429, 200]
    assert receiver.upserted("mitpe") == ids


def test_every_body_is_signed_byte_for_byte(
    platform: Platform, instance: dg.DagsterInstance, resources: Callable[..., dict[str, Any]]
) -> None:
    write_model(platform.warehouse, MITPE_MODEL, 2)
    assert deliver_mitpe(instance, resources()).success
    (delivery,) = platform.sandbox.learn_webhook.deliveries
    payload = delivery.payload
    assert payload["etl_source"] == "mitpe"
    assert payload["action"] == "upsert"
    resource = payload["resources"][0]
    assert resource["topics"] == [{"name": "Energy"}, {"name": "Policy"}]
    assert resource["image"] is None
    assert resource["offered_by"] == {"code": "mitpe"}


def test_a_delivery_before_the_model_is_built_fails_clearly(
    platform: Platform, instance: dg.DagsterInstance, resources: Callable[..., dict[str, Any]]
) -> None:
    result = deliver_mitpe(instance, resources())
    assert not result.success
    assert "integrations__learn__mitpe" in failure_message(result)
    assert "build it first" in failure_message(result)
