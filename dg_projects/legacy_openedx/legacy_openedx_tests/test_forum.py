"""The day's forum posts from the discussion service (the sandbox's): every thread, response and
nested comment of every course, through paging and retries; a document that does not fit the
table is quarantined with its reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest

from legacy_openedx.components import LEGACY_DAILY
from legacy_openedx.extraction import build_lms_tables_asset
from legacy_openedx.forum import build_forum_posts_asset, forum_posts_key
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.testing import environment, persistent_instance
from ol_sandbox.data import Institution
from ol_sandbox.forum import forum_threads
from ol_sandbox.server import SandboxServer

DAY = "2026-01-20"
PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "lake"
    with environment("ci", {"OL_LAKE_ROOT": str(root)}):
        yield root


def run(instance: dg.DagsterInstance, resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [
            build_lms_tables_asset("mitx", PARTITIONS, LEGACY_DAILY),
            build_forum_posts_asset("mitx", PARTITIONS, LEGACY_DAILY, retry_policy=None),
        ],
        instance=instance,
        partition_key=DAY,
        resources=resources,
        raise_on_error=False,
    )


def landed(lake: Path) -> list[dict[str, Any]]:
    path = lake_path_for(str(lake), forum_posts_key("mitx"), DAY).path
    return pq.read_table(path).to_pylist()


def test_every_thread_response_and_comment_lands(
    lake: Path,
    institution: Institution,
    sandbox: SandboxServer,
    mitx_resources: Callable[..., dict[str, Any]],
) -> None:
    threads = [t for ts in forum_threads(institution, "mitx").values() for t in ts]
    # Small pages (threads and responses), a 429 on the list and a reset on a thread.
    sandbox.faults.inject("/api/v1/threads?", "rate_limit", retry_after=0)
    sandbox.faults.inject(f"/api/v1/threads/{threads[0].id}", "reset")
    with persistent_instance() as instance:
        result = run(instance, mitx_resources(forum_threads_per_page=2, forum_responses_per_page=1))
    assert result.success
    rows = landed(lake)
    expected = {thread.id for thread in threads}
    for thread in threads:
        for response in thread.responses:
            expected.add(response.id)
            expected.update(child.id for child in response.children)
    assert sorted(row["post_id"] for row in rows) == sorted(expected)  # each once
    by_id = {row["post_id"]: row for row in rows}
    for thread in threads:
        row = by_id[thread.id]
        assert row["post_type"] == "CommentThread"
        assert row["thread_id"] == thread.id
        assert row["author_id"] == thread.author_id
        assert row["comment_count"] == thread.comments_count
        assert row["title"] == thread.title
        assert row["body"] == thread.body  # markdown, tabs and newlines kept
        for response in thread.responses:
            answer = by_id[response.id]
            assert (answer["post_type"], answer["parent_id"]) == ("Comment", None)
            assert answer["thread_id"] == thread.id
            assert answer["commentable_id"] == thread.commentable_id
            assert answer["endorsed"] == response.endorsed  # questions' endorsed responses too
            for child in response.children:
                assert by_id[child.id]["parent_id"] == response.id
    assert any(row["endorsed"] for row in rows if row["post_type"] == "Comment")
    assert {record.fault for record in sandbox.requests if record.fault} == {"rate_limit", "reset"}
    metadata = result.asset_materializations_for_node("legacy_openedx__raw__mitx_forum_posts")
    assert metadata[0].metadata["threads"].value == len(threads)


def test_a_document_that_does_not_fit_is_quarantined(
    lake: Path,
    institution: Institution,
    sandbox: SandboxServer,
    mitx_resources: Callable[..., dict[str, Any]],
) -> None:
    thread = next(t for ts in forum_threads(institution, "mitx").values() for t in ts)
    # The service sends the thread's author as an object instead of an id.
    sandbox.faults.inject(
        f"/api/v1/threads/{thread.id}", "change_type", field="user_id", to="object"
    )
    with persistent_instance() as instance:
        result = run(instance, mitx_resources())
    assert result.success
    rows = landed(lake)
    assert thread.id not in {row["post_id"] for row in rows}
    assert {response.id for response in thread.responses} <= {row["post_id"] for row in rows}
    (materialization,) = result.asset_materializations_for_node(
        "legacy_openedx__raw__mitx_forum_posts"
    )
    assert materialization.metadata["records_quarantined"].value == 1
    quarantine = Path(str(materialization.metadata["quarantine_path"].value))
    assert thread.id in quarantine.read_text()
