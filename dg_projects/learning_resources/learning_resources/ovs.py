"""Open Video Studio: the public videos list, one dynamic partition per video, and two sensors.

- `ovs_video_list` (daily, `on_cron`): every public video marked for MIT Learn, from the paginated
  list endpoint, one row each (key, title, updated_at).
- `ovs_videos`, partitioned by `ovs_videos` (one dynamic partition per video key): the video's
  detail call, landed at `raw/learning_resources/ovs_videos/dt=<key>/data.parquet`.
- `ovs_videos_discovery_sensor` reads the list from the lake and adds a partition for every new
  video with a run of its detail; it also runs the detail again of a video whose `updated_at`
  changed, and of one whose detail is missing, failed or was deleted from the lake
  (`ol_orchestrate.lib.partition_health`). The delivery to MIT Learn follows the dbt model
  (`integrations__learn__ovs`, the details of the videos still listed) once the lakehouse has
  rebuilt it: a run cannot span the two code locations.
- `ovs_videos_cleanup_sensor` removes the partition of a video gone from the list once its deletion
  was delivered (its readable id left the OVS delivery state), so a deleted video is never
  forgotten before MIT Learn heard of it. The landed detail stays in the lake (the model only
  keeps listed videos).
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations.
import json
from collections.abc import Iterable, Mapping
from datetime import timedelta

import dagster as dg
import pyarrow as pa

from learning_resources.delivery import delivery_key
from learning_resources.sources import RETRY, SourceBuild, land, raw_key
from learning_resources.tables import OVS_VIDEO_LIST, OVS_VIDEOS, ovs_list_rows, ovs_video_rows
from ol_orchestrate.io_managers import LakeObjectNotFoundError, lake_path_for, read_table_at
from ol_orchestrate.lib.automation import Cadence, default_sensor_status, raw_asset_automation
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.http import ApiError
from ol_orchestrate.lib.learn_delivery import DeliveryState
from ol_orchestrate.lib.partition_health import assess_partitions, healing_run_key
from ol_orchestrate.lib.raw_tables import retrieved_now

PARTITIONS_NAME = "ovs_videos"
OVS_VIDEOS_PARTITIONS = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)
VIDEO_LIST_KEY = raw_key(OVS_VIDEO_LIST.name)
VIDEOS_KEY = raw_key(OVS_VIDEOS.name)
OVS_ETL_SOURCE = "ovs"
VIDEOS_PATH = "api/v0/public/videos/"
SENSOR_INTERVAL_SECONDS = 600
# Details change only when a video does (the discovery sensor asks for them then): a week without
# any is normal, a month is not.
DETAILS_CADENCE = Cadence(cron=None, max_lag=timedelta(days=30))


# -- what the sensors decide (pure, tested directly) --------------------------------------------


def plan_discovery(
    listed: Mapping[str, str | None],
    existing: Iterable[str],
    seen: Mapping[str, str | None],
    needs_run: Mapping[str, str],
) -> dg.SensorResult:
    """Partitions to add and the detail runs to request for the videos `listed` (key ->
    updated_at): new videos, videos whose `updated_at` differs from the one `seen` at the last
    tick, and listed videos whose detail `needs_run` (key -> why). The cursor is `listed`."""
    existing_set = set(existing)
    added = sorted(set(listed) - existing_set)
    changed = sorted(
        key for key in set(listed) & existing_set if key in seen and seen[key] != listed[key]
    )
    healing = {
        key: why
        for key, why in needs_run.items()
        if key in listed and key in existing_set and key not in changed
    }
    # Each run materializes the video's detail only (the partition key alone would select every
    # asset of the location's job).
    runs = [
        dg.RunRequest(
            partition_key=key, run_key=f"ovs:{key}:{listed[key]}", asset_selection=[VIDEOS_KEY]
        )
        for key in (*added, *changed)
    ]
    runs += [
        dg.RunRequest(
            partition_key=key,
            run_key=healing_run_key("ovs", key, why),
            tags={"ol/rerun_reason": why},
            asset_selection=[VIDEOS_KEY],
        )
        for key, why in sorted(healing.items())
    ]
    cursor = json.dumps(dict(sorted(listed.items())))
    if not added and not runs:
        return dg.SensorResult(
            skip_reason=f"no new or changed OVS video ({len(listed)} listed, every detail landed)",
            cursor=cursor,
        )
    requests = [OVS_VIDEOS_PARTITIONS.build_add_request(added)] if added else []
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=requests, cursor=cursor)


def plan_cleanup(
    listed: Iterable[str], existing: Iterable[str], delivered: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(partitions to remove, partitions waiting for their deletion to be delivered): a
    partition whose video left the list goes once its readable id is not in `delivered`."""
    gone = set(existing) - set(listed)
    delivered_set = set(delivered)
    waiting = sorted(gone & delivered_set)
    return sorted(gone - delivered_set), waiting


def _listed_videos() -> dict[str, str | None] | None:
    """The last landed video list (key -> updated_at), or None before the first."""
    lake_root = get_settings().lake_root
    try:
        table = read_table_at(lake_path_for(lake_root, VIDEO_LIST_KEY), VIDEO_LIST_KEY)
    except LakeObjectNotFoundError:
        return None
    return dict(
        zip(
            table.column("video_key").to_pylist(),
            table.column("updated_at").to_pylist(),
            strict=True,
        )
    )


# -- definitions ---------------------------------------------------------------------------------


def ovs_definitions(build: SourceBuild) -> dg.Definitions:
    """OVS's assets and sensors (see the module doc)."""

    @dg.asset(
        key=VIDEO_LIST_KEY,
        group_name=build.group,
        kinds={"ovs", "parquet"},
        description=(
            "Every public Open Video Studio video marked for MIT Learn, from the paginated "
            "list endpoint, one row each: what the discovery sensor turns into partitions."
        ),
        required_resource_keys={build.resource_key},
        retry_policy=RETRY,
        **raw_asset_automation(build.cadence),
    )
    def ovs_video_list(context: dg.AssetExecutionContext) -> pa.Table:
        api = getattr(context.resources, build.resource_key)
        retrieved_at = retrieved_now()
        with api.client() as client:
            videos = list(
                client.drf_records(
                    VIDEOS_PATH, {"include_in_learn": "true", "page_size": api.page_size}
                )
            )
        context.add_output_metadata({"videos_listed": len(videos)})
        return land(context, OVS_VIDEO_LIST, ovs_list_rows(videos, retrieved_at))

    @dg.asset(
        key=VIDEOS_KEY,
        deps=[VIDEO_LIST_KEY],
        partitions_def=OVS_VIDEOS_PARTITIONS,
        group_name=build.group,
        kinds={"ovs", "parquet"},
        description=(
            "One OVS video's detail (title, description, collection, dates, duration, cover "
            "art), one dynamic partition per video key."
        ),
        required_resource_keys={build.resource_key},
        retry_policy=RETRY,
        **raw_asset_automation(DETAILS_CADENCE),
    )
    def ovs_videos(context: dg.AssetExecutionContext) -> pa.Table:
        key = context.partition_key
        api = getattr(context.resources, build.resource_key)
        retrieved_at = retrieved_now()
        try:
            with api.client() as client:
                video = client.get_json(f"{VIDEOS_PATH}{key}/")
        except ApiError as error:
            if error.status != 404:
                raise
            raise dg.Failure(
                description=(
                    f"OVS video {key} is gone (HTTP 404); the cleanup sensor removes its "
                    "partition once the video list no longer has it"
                ),
                allow_retries=False,
            ) from None
        return land(context, OVS_VIDEOS, ovs_video_rows(video, retrieved_at))

    @dg.sensor(
        name="ovs_videos_discovery_sensor",
        target=dg.AssetSelection.assets(VIDEOS_KEY),
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=default_sensor_status(),
        description=(
            "Adds an `ovs_videos` partition for every new video of the landed OVS list and runs "
            "its detail; runs the detail again of a changed video and of one whose detail is "
            "missing, failed or was deleted from the lake."
        ),
    )
    def ovs_videos_discovery_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        listed = _listed_videos()
        if listed is None:
            return dg.SensorResult(skip_reason="waiting for the first OVS video list")
        existing = context.instance.get_dynamic_partitions(PARTITIONS_NAME)
        seen = json.loads(context.cursor) if context.cursor else {}
        needs_run = assess_partitions(
            context.instance,
            [VIDEOS_KEY],
            sorted(set(listed) & set(existing)),
            OVS_VIDEOS_PARTITIONS,
            get_settings().lake_root,
        ).needs_run
        return plan_discovery(listed, existing, seen, needs_run)

    @dg.sensor(
        name="ovs_videos_cleanup_sensor",
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=default_sensor_status(),
        description=(
            "Removes the `ovs_videos` partition of every video gone from the OVS list, once its "
            "delete webhook was acknowledged by MIT Learn (its landed detail stays in the lake)."
        ),
    )
    def ovs_videos_cleanup_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        listed = _listed_videos()
        if listed is None:
            return dg.SensorResult(skip_reason="waiting for the first OVS video list")
        existing = context.instance.get_dynamic_partitions(PARTITIONS_NAME)
        state_path = lake_path_for(get_settings().lake_root, delivery_key(OVS_ETL_SOURCE))
        removable, waiting = plan_cleanup(listed, existing, DeliveryState.load(state_path).entries)
        if waiting:
            context.log.info(
                f"{len(waiting)} deleted video(s) wait for their delete webhook: {waiting[:5]}"
            )
        if not removable:
            return dg.SensorResult(
                skip_reason=f"no partition to remove ({len(waiting)} waiting for delivery)"
            )
        return dg.SensorResult(
            dynamic_partitions_requests=[OVS_VIDEOS_PARTITIONS.build_delete_request(removable)]
        )

    return dg.Definitions(
        assets=[ovs_video_list, ovs_videos],
        sensors=[ovs_videos_discovery_sensor, ovs_videos_cleanup_sensor],
    )
