"""The learning catalogs MIT Learn is fed from, and the raw assets each one lands.

`SOURCES` names every source a `LearnSource` component (`defs/sources/<name>/defs.yaml`) may
configure: the catalog's `etl_source`, the dbt model that maps it to the LearningResource shape
(`integrations__learn__<etl_source>`), where the sandbox serves it, and the builder of its raw
assets. A source without a builder (MIT's edX.org programs) has no raw asset here: its dbt model
reads another location's raw table.
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations.
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pyarrow as pa

from learning_resources.clients import LearnSourceResource
from learning_resources.tables import (
    MIT_CLIMATE_ARTICLES,
    MITPE_RESOURCES,
    OLL_COURSES,
    SLOAN_COURSE_OFFERINGS,
    SLOAN_COURSES,
    climate_article_rows,
    mitpe_rows,
    oll_rows,
    sloan_course_rows,
    sloan_offering_rows,
)
from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import RawTable, retrieved_now

LOCATION = "learning_resources"
RETRY = dg.RetryPolicy(max_retries=1, delay=5)


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([LOCATION, "raw", table])


def resource_key(source: str) -> str:
    """The resource key of a source's API (`learn_source_<name>`)."""
    return f"learn_source_{source}"


def group_name(source: str) -> str:
    return f"{LOCATION}_{source}"


@dataclass(frozen=True)
class SourceBuild:
    """What a source's builder needs: its name, resource key, cadence and group."""

    source: str
    cadence: Cadence

    @property
    def resource_key(self) -> str:
        return resource_key(self.source)

    @property
    def group(self) -> str:
        return group_name(self.source)


Builder = Callable[[SourceBuild], dg.Definitions]


def land(
    context: dg.AssetExecutionContext,
    table: RawTable,
    rows: Sequence[dict[str, Any]],
    *,
    asset_key: dg.AssetKey | None = None,
) -> pa.Table:
    return land_rows(
        context, rows, table.schema, table.required, get_settings().lake_root, asset_key=asset_key
    )


def _api(context: dg.AssetExecutionContext, build: SourceBuild) -> LearnSourceResource:
    api: LearnSourceResource = getattr(context.resources, build.resource_key)
    return api


def mit_climate(build: SourceBuild) -> dg.Definitions:
    @dg.asset(
        key=raw_key(MIT_CLIMATE_ARTICLES.name),
        group_name=build.group,
        kinds={"mit_climate", "parquet"},
        description=(
            "Every MIT Climate Portal article (explainers and Ask MIT Climate), from the "
            "portal's paginated JSON API, one row each."
        ),
        required_resource_keys={build.resource_key},
        retry_policy=RETRY,
        **raw_asset_automation(build.cadence),
    )
    def mit_climate_articles(context: dg.AssetExecutionContext) -> pa.Table:
        api = _api(context, build)
        retrieved_at = retrieved_now()
        with api.client() as client:
            articles = list(client.drf_records("api/articles/", {"page_size": api.page_size}))
        context.add_output_metadata({"records_listed": len(articles)})
        return land(context, MIT_CLIMATE_ARTICLES, climate_article_rows(articles, retrieved_at))

    return dg.Definitions(assets=[mit_climate_articles])


def mitpe(build: SourceBuild) -> dg.Definitions:
    @dg.asset(
        key=raw_key(MITPE_RESOURCES.name),
        group_name=build.group,
        kinds={"mitpe", "parquet"},
        description=(
            "MIT Professional Education's courses and programs, from its two JSON feeds, one "
            "row each (`feed` says which)."
        ),
        required_resource_keys={build.resource_key},
        retry_policy=RETRY,
        **raw_asset_automation(build.cadence),
    )
    def mitpe_resources(context: dg.AssetExecutionContext) -> pa.Table:
        retrieved_at = retrieved_now()
        with _api(context, build).client() as client:
            courses = client.json_list("feeds/courses/")
            programs = client.json_list("feeds/programs/")
        context.add_output_metadata(
            {"courses_listed": len(courses), "programs_listed": len(programs)}
        )
        return land(context, MITPE_RESOURCES, mitpe_rows(courses, programs, retrieved_at))

    return dg.Definitions(assets=[mitpe_resources])


def oll(build: SourceBuild) -> dg.Definitions:
    @dg.asset(
        key=raw_key(OLL_COURSES.name),
        group_name=build.group,
        kinds={"oll", "parquet"},
        description="Open Learning Library's courses, from its CSV course list, one row each.",
        required_resource_keys={build.resource_key},
        retry_policy=RETRY,
        **raw_asset_automation(build.cadence),
    )
    def oll_courses(context: dg.AssetExecutionContext) -> pa.Table:
        retrieved_at = retrieved_now()
        with _api(context, build).client() as client:
            text = client.text("courses.csv")
        records = list(csv.DictReader(io.StringIO(text)))
        context.add_output_metadata({"records_listed": len(records)})
        return land(context, OLL_COURSES, oll_rows(records, retrieved_at))

    return dg.Definitions(assets=[oll_courses])


def sloan(build: SourceBuild) -> dg.Definitions:
    outs = {
        table.name: dg.AssetOut(
            key=raw_key(table.name),
            kinds={"sloan", "parquet"},
            description=description,
            **raw_asset_automation(build.cadence),
        )
        for table, description in (
            (SLOAN_COURSES, "MIT Sloan Executive Education's courses, one row each."),
            (SLOAN_COURSE_OFFERINGS, "The dated offerings of Sloan's courses, one row each."),
        )
    }

    @dg.multi_asset(
        name="sloan",
        outs=outs,
        group_name=build.group,
        required_resource_keys={build.resource_key},
        retry_policy=RETRY,
        description="Sloan's course and offering APIs (OAuth2 client credentials).",
    )
    def sloan_assets(context: dg.AssetExecutionContext) -> tuple[pa.Table, pa.Table]:
        retrieved_at = retrieved_now()
        with _api(context, build).client() as client:
            courses = client.json_list("api/courses")
            offerings = client.json_list("api/course-offerings")
        return (
            land(
                context,
                SLOAN_COURSES,
                sloan_course_rows(courses, retrieved_at),
                asset_key=raw_key(SLOAN_COURSES.name),
            ),
            land(
                context,
                SLOAN_COURSE_OFFERINGS,
                sloan_offering_rows(offerings, retrieved_at),
                asset_key=raw_key(SLOAN_COURSE_OFFERINGS.name),
            ),
        )

    return dg.Definitions(assets=[sloan_assets])


@dataclass(frozen=True)
class SourceSpec:
    """One learning catalog: its `etl_source` in MIT Learn, its dbt model, its sandbox path and
    the builder of its raw assets (None: no raw asset in this location)."""

    name: str
    etl_source: str
    description: str
    sandbox_path: str | None
    build: Builder | None

    @property
    def model(self) -> str:
        """The dbt model mapping the source to the LearningResource shape."""
        return f"integrations__learn__{self.etl_source}"


def _ovs(build: SourceBuild) -> dg.Definitions:
    from learning_resources.ovs import ovs_definitions  # the sensors need the delivery's key

    return ovs_definitions(build)


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec(
            "mit_climate",
            "mit_climate",
            "MIT Climate Portal articles",
            "learn_sources/mit_climate",
            mit_climate,
        ),
        SourceSpec(
            "mitpe",
            "mitpe",
            "MIT Professional Education courses and programs",
            "learn_sources/mitpe",
            mitpe,
        ),
        SourceSpec("oll", "oll", "Open Learning Library courses", "learn_sources/oll", oll),
        SourceSpec(
            "sloan",
            "sloan",
            "MIT Sloan Executive Education courses and offerings",
            "learn_sources/sloan",
            sloan,
        ),
        SourceSpec("ovs", "ovs", "Open Video Studio public videos", "learn_sources/ovs", _ovs),
        SourceSpec(
            "mit_edx",
            "mit_edx",
            "MIT's edX.org programs (the edxorg location's catalog_programs)",
            None,
            None,
        ),
    )
}
