"""Open Video Studio: the discovery sensor partitions videos as they appear (and re-fetches changed
or lost details), the cleanup sensor removes a deleted video's partition only once its deletion
was delivered."""

from __future__ import annotations

import dagster as dg

from learning_resources.delivery import delivery_key
from learning_resources.ovs import (
    OVS_VIDEOS_PARTITIONS,
    PARTITIONS_NAME,
    VIDEOS_KEY,
    plan_cleanup,
    plan_discovery,
)
from learning_resources_tests.conftest import Platform
from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.learn_delivery import DeliveryState

LIST_KEY = "learning_resources/raw/ovs_video_list"


def skipped_because(result: dg.SensorResult) -> str:
    reason = result.skip_reason
    return (reason.skip_message or "") if reason is not None else ""


class Sensors:
    """Ticks the location's OVS sensors the way the daemon would, keeping their cursors."""

    def __init__(self, platform: Platform, instance: dg.DagsterInstance) -> None:
        self.platform = platform
        self.instance = instance
        self.cursors: dict[str, str | None] = {}

    def tick(self, name: str) -> dg.SensorResult:
        sensor = self.platform.defs.resolve_sensor_def(name)
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursors.get(name),
            definitions=self.platform.defs,
            sensor_name=name,
        ) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        self.cursors[name] = result.cursor or self.cursors.get(name)
        for request in result.dynamic_partitions_requests or ():
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(PARTITIONS_NAME, list(request.partition_keys))
            else:
                for key in request.partition_keys or ():
                    self.instance.delete_dynamic_partition(PARTITIONS_NAME, key)
        return result

    def discover_and_fetch(self) -> list[str]:
        """One discovery tick, then the detail run of each partition it requested."""
        result = self.tick("ovs_videos_discovery_sensor")
        keys = [request.partition_key for request in result.run_requests or ()]
        job = self.platform.defs.resolve_implicit_global_asset_job_def()
        for key in keys:
            assert key is not None
            run = job.execute_in_process(
                instance=self.instance, partition_key=key, asset_selection=[VIDEOS_KEY]
            )
            assert run.success
        return [key for key in keys if key is not None]


def test_discovery_and_cleanup_follow_the_video_list(
    platform: Platform, instance: dg.DagsterInstance
) -> None:
    sensors = Sensors(platform, instance)
    ovs = platform.sandbox.learn_sources.data
    skipped = sensors.tick("ovs_videos_discovery_sensor")
    assert "waiting for the first OVS video list" in skipped_because(skipped)

    # A fresh instance: one partition and one detail run per listed video.
    assert platform.run(instance, LIST_KEY).success
    videos = [video["key"] for video in ovs.list("ovs")]
    assert sorted(sensors.discover_and_fetch()) == sorted(videos)
    assert sorted(instance.get_dynamic_partitions(PARTITIONS_NAME)) == sorted(videos)
    detail = lake_path_for(platform.lake, VIDEOS_KEY, videos[0])
    assert detail.exists()

    # Nothing new: nothing requested.
    again = sensors.tick("ovs_videos_discovery_sensor")
    assert not again.run_requests
    assert "no new or changed" in skipped_because(again)

    # A new video and an edited one: one new partition, two detail runs.
    added = ovs.add_ovs_video()
    ovs.update("ovs", videos[1], title="Lecture: retitled")
    assert platform.run(instance, LIST_KEY).success
    assert sorted(sensors.discover_and_fetch()) == sorted([added, videos[1]])

    # A detail deleted from the lake is fetched again.
    detail.unlink()
    assert sensors.discover_and_fetch() == [videos[0]]

    # A video deleted from OVS keeps its partition until its deletion was delivered.
    state_path = lake_path_for(platform.lake, delivery_key("ovs"))
    state = DeliveryState()
    state.record(
        [({"readable_id": key, "resource_type": "video"}, "hash") for key in [*videos, added]],
        "2026-01-20T08:00:00Z",
        None,
    )
    state.save(state_path)
    ovs.delete("ovs", videos[2])
    assert platform.run(instance, LIST_KEY).success
    waiting = sensors.tick("ovs_videos_cleanup_sensor")
    assert "1 waiting for delivery" in skipped_because(waiting)
    assert videos[2] in instance.get_dynamic_partitions(PARTITIONS_NAME)
    state.forget([videos[2]])  # what the delivery does once MIT Learn acknowledged the delete
    state.save(state_path)
    cleaned = sensors.tick("ovs_videos_cleanup_sensor")
    assert [list(r.partition_keys or ()) for r in cleaned.dynamic_partitions_requests or ()] == [
        [videos[2]]
    ]
    assert videos[2] not in instance.get_dynamic_partitions(PARTITIONS_NAME)
    # The discovery sensor does not bring it back.
    assert sensors.discover_and_fetch() == []


def test_plan_discovery_requests_new_changed_and_healing_partitions() -> None:
    result = plan_discovery(
        {"a": "t1", "b": "t2", "c": "t3", "d": "t4"},
        existing=["b", "c", "d", "gone"],
        seen={"b": "t2", "c": "t0"},
        needs_run={"d": "failed", "gone": "missing"},
    )
    requests = {
        (r.partition_key, (r.tags or {}).get("ol/rerun_reason")) for r in result.run_requests or ()
    }
    assert requests == {("a", None), ("c", None), ("d", "failed")}
    (add,) = result.dynamic_partitions_requests or ()
    assert add == OVS_VIDEOS_PARTITIONS.build_add_request(["a"])


def test_plan_cleanup_waits_for_the_delete_webhook() -> None:
    assert plan_cleanup(["a"], ["a", "b", "c"], delivered=["a", "b"]) == (["c"], ["b"])
