"""The learning-resources models over the fixture catalogs (raw_lake/learning_resources.py): one
LearningResource per source record, the catalog mart their union, and the rows a delivery turns
into the webhook's shape."""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import duckdb

from ol_orchestrate.lib.learn_delivery import LEARNING_RESOURCE_COLUMNS, learning_resource

SOURCES = ("mit_climate", "mitpe", "oll", "sloan", "ovs", "mit_edx")


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _model(connection: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict]:
    rows = _rows(connection, f"select * from marts.integrations__learn__{source}")
    return {row["readable_id"]: row for row in rows}


def test_every_model_has_the_learning_resource_columns(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    for model in [
        *(f"integrations__learn__{s}" for s in SOURCES),
        "fct_learning_resources__catalog",
    ]:
        columns = [
            row[0]
            for row in warehouse.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [model],
            ).fetchall()
        ]
        assert tuple(columns) == LEARNING_RESOURCE_COLUMNS, model


def test_one_resource_per_source_record(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    data = raw_fixture.LEARN_DATA
    assert set(_model(warehouse, "mit_climate")) == {a["uuid"] for a in data.list("mit_climate")}
    mitpe = _model(warehouse, "mitpe")
    assert {r["readable_id"]: r["resource_type"] for r in mitpe.values()} == {
        **{c["uuid"]: "course" for c in data.list("mitpe_courses")},
        **{p["uuid"]: "program" for p in data.list("mitpe_programs")},
    }
    assert set(_model(warehouse, "oll")) == {c["readable_id"] for c in data.list("oll")}
    assert set(_model(warehouse, "sloan")) == {c["Course_Id"] for c in data.list("sloan_courses")}
    assert len(_model(warehouse, "mit_edx")) == 2  # the edX.org fixture catalog's programs


def test_ovs_keeps_only_listed_videos(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    videos = _model(warehouse, "ovs")
    listed = {v["key"] for v in raw_fixture.LEARN_DATA.list("ovs")} - {
        raw_fixture.OVS_DELETED_VIDEO
    }
    assert set(videos) == listed
    video = next(iter(videos.values()))
    assert video["url"] == f"https://video.odl.mit.edu/videos/{video['readable_id']}/"
    assert video["resource_type"] == "video"


def test_climate_articles_are_decoded_dated_in_utc_and_linked(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    articles = {a["uuid"]: a for a in raw_fixture.LEARN_DATA.list("mit_climate")}
    rows = _model(warehouse, "mit_climate")
    entity = next(uuid for uuid, a in articles.items() if "&amp;" in a["title"])
    assert rows[entity]["title"] == articles[entity]["title"].replace("&amp;", "&")
    for uuid, article in articles.items():
        row = rows[uuid]
        assert row["url"] == f"https://climate.mit.edu{article['url']}"
        eastern = datetime.strptime(article["created"], "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=ZoneInfo("America/New_York")
        )
        assert row["created_on"] == eastern.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        if article["image_src"] is None:
            assert row["image_url"] is None
        else:
            assert row["image_url"] == f"https://climate.mit.edu{article['image_src']}"


def test_unpublished_oll_course_is_delivered_unpublished(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    rows = _model(warehouse, "oll")
    expected = {
        c["readable_id"]: c["published"] == "true" for c in raw_fixture.LEARN_DATA.list("oll")
    }
    assert {rid: row["published"] for rid, row in rows.items()} == expected
    assert False in expected.values()


def test_catalog_is_the_union_of_the_sources(warehouse: duckdb.DuckDBPyConnection) -> None:
    per_source = {source: len(_model(warehouse, source)) for source in SOURCES}
    counts = dict(
        warehouse.execute(
            "select etl_source, count(*) from marts.fct_learning_resources__catalog group by 1"
        ).fetchall()
    )
    assert counts == per_source
    assert all(counts.values())


def test_a_catalog_row_becomes_the_webhooks_learning_resource(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    row = _rows(
        warehouse,
        "select * from marts.fct_learning_resources__catalog where etl_source = 'sloan' "
        "order by readable_id limit 1",
    )[0]
    resource = learning_resource(row)
    assert resource["readable_id"] == row["readable_id"]
    assert resource["offered_by"] == {"code": "see"}
    assert resource["image"] == {"url": row["image_url"], "alt": row["image_alt"]}
    assert resource["topics"]
    assert all(set(t) == {"name"} for t in resource["topics"])
    assert resource["start_date"].endswith("Z")
