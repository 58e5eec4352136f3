"""The raw assets land every record of the sandbox's catalogs (or quarantine it with a reason)."""

from __future__ import annotations

import json

import dagster as dg
import pyarrow.parquet as pq

from learning_resources_tests.conftest import Platform


def raw_table(platform: Platform, name: str) -> list[dict]:
    return pq.read_table(
        platform.lake / "raw" / "learning_resources" / name / "data.parquet"
    ).to_pylist()


def test_every_raw_asset_lands_its_catalog(
    platform: Platform, instance: dg.DagsterInstance
) -> None:
    keys = [
        "learning_resources/raw/mit_climate_articles",
        "learning_resources/raw/mitpe_resources",
        "learning_resources/raw/oll_courses",
        "learning_resources/raw/sloan_courses",
        "learning_resources/raw/sloan_course_offerings",
        "learning_resources/raw/ovs_video_list",
    ]
    result = platform.run(instance, *keys)
    assert result.success
    data = platform.sandbox.learn_sources.data

    articles = raw_table(platform, "mit_climate_articles")
    assert [a["article_uuid"] for a in articles] == [a["uuid"] for a in data.list("mit_climate")]
    assert all(a["retrieved_at"].endswith("Z") for a in articles)

    mitpe = raw_table(platform, "mitpe_resources")
    assert [r["feed"] for r in mitpe].count("programs") == len(data.list("mitpe_programs"))
    program = next(r for r in mitpe if r["feed"] == "programs")
    assert program["program_course_uuids"].split(",")[0] in {
        c["uuid"] for c in data.list("mitpe_courses")
    }

    oll = {r["readable_id"]: r for r in raw_table(platform, "oll_courses")}
    assert {rid: r["published"] for rid, r in oll.items()} == {
        c["readable_id"]: c["published"] == "true" for c in data.list("oll")
    }

    # Sloan's API needs OAuth2 client credentials (the secrets file's sloan/api/oauth).
    assert len(raw_table(platform, "sloan_courses")) == len(data.list("sloan_courses"))
    offerings = raw_table(platform, "sloan_course_offerings")
    assert len(offerings) == len(data.list("sloan_offerings"))
    assert isinstance(offerings[0]["price"], float)
    assert platform.sandbox.learn_sources.tokens.issued == 1

    listed = raw_table(platform, "ovs_video_list")
    assert [v["video_key"] for v in listed] == [v["key"] for v in data.list("ovs")]


def test_a_malformed_record_is_quarantined_with_its_reason(
    platform: Platform, instance: dg.DagsterInstance
) -> None:
    platform.sandbox.faults.inject(
        "/learn_sources/mit_climate/api/articles", "malformed_record", record=0, field="uuid"
    )
    result = platform.run(instance, "learning_resources/raw/mit_climate_articles")
    assert result.success
    (event,) = result.asset_materializations_for_node(
        "learning_resources__raw__mit_climate_articles"
    )
    assert event.metadata["records_quarantined"].value == 1
    rejects = (
        platform.lake
        / "quarantine"
        / "learning_resources"
        / "mit_climate_articles"
        / "rejects.jsonl"
    )
    (line,) = rejects.read_text().splitlines()
    assert json.loads(line)["reason"] == "missing article_uuid"
