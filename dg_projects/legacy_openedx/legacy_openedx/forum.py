"""The forum of every course of the day, from the deployment's discussion service, into the lake.

Production keeps the forum in MongoDB. The asset reads it through the forum service's own REST
API (cs_comments_service `/api/v1/`, the API the LMS calls, behind the service's API key): the
same documents, with author ids, anonymity, votes, endorsement and nesting, one code path with
retries and no database credentials or network route to MongoDB for the pipeline. (The LMS's
public discussion API hides anonymous authors and drops user ids; a `mongodump` needs a
database connection the sandbox cannot serve and Mongo credentials besides the LMS lease.)

One row per thread, response and comment (`FORUM_POSTS`), for the courses of the day's course
list, at `raw/legacy_openedx/<deployment>_forum_posts/dt=<YYYY-MM-DD>/data.parquet`; a record
that does not fit the table is quarantined with its reason (`land_rows`). The IRx bundle writes
each course's posts as `<course_id>/forum.jsonl`.
"""

import dagster as dg
import pyarrow as pa

from legacy_openedx.course_exports import DEFAULT_RETRY, course_ids_of_day
from legacy_openedx.extraction import group_name, healthcheck_resource_key, table_key
from legacy_openedx.tables import COURSE_OVERVIEWS
from ol_orchestrate.lib.automation import Cadence, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.quarantine import land_rows
from ol_orchestrate.lib.raw_tables import retrieved_now
from ol_orchestrate.resources.healthchecks import HealthcheckResource
from ol_orchestrate.resources.openedx_forum import FORUM_POSTS, ForumApiResource, forum_post_rows


def forum_posts_key(deployment: str) -> dg.AssetKey:
    return table_key(deployment, FORUM_POSTS.name)


def forum_resource_key(deployment: str) -> str:
    return f"legacy_openedx_{deployment}_forum"


def build_forum_posts_asset(
    deployment: str,
    partitions_def: dg.PartitionsDefinition,
    cadence: Cadence,
    *,
    retry_policy: dg.RetryPolicy | None = DEFAULT_RETRY,
) -> dg.AssetsDefinition:
    """`legacy_openedx/raw/<deployment>_forum_posts`: the day's forum of every course."""
    forum_key = forum_resource_key(deployment)
    healthcheck_key = healthcheck_resource_key(deployment)

    @dg.asset(
        key=forum_posts_key(deployment),
        group_name=group_name(deployment),
        kinds={"openedx", "parquet"},
        description=(
            f"{deployment} forum `forum_posts`: {FORUM_POSTS.description}, for every course of "
            "the day, from the discussion service's REST API."
        ),
        partitions_def=partitions_def,
        deps=[table_key(deployment, COURSE_OVERVIEWS.name)],
        required_resource_keys={forum_key, healthcheck_key},
        retry_policy=retry_policy,
        **raw_asset_automation(cadence),
    )
    def forum_posts(context: dg.AssetExecutionContext) -> pa.Table:
        forum: ForumApiResource = getattr(context.resources, forum_key)
        healthcheck: HealthcheckResource = getattr(context.resources, healthcheck_key)
        lake_root = get_settings().lake_root
        day = context.partition_key
        retrieved_at = retrieved_now()
        try:
            course_ids = course_ids_of_day(lake_root, deployment, day)
            rows = []
            threads = 0
            with forum.client() as client:
                for course_id in course_ids:
                    for thread in client.iter_course_threads(course_id):
                        threads += 1
                        rows.extend(forum_post_rows(deployment, thread, retrieved_at))
            table = land_rows(context, rows, FORUM_POSTS.schema, FORUM_POSTS.required, lake_root)
        except Exception as error:
            healthcheck.ping("fail", f"{deployment} forum {day} failed: {error}", context.log)
            raise
        context.add_output_metadata({"courses": len(course_ids), "threads": threads})
        return table

    return forum_posts
