"""The edxorg location against the sandbox: its delivery bucket (moto's S3 server) and catalog."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ol_orchestrate.testing import environment, load_definitions, persistent_instance
from ol_sandbox.data import Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

INSTITUTION = Institution.from_size("small")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as server:
        yield server


@dataclass
class Location:
    """The location's definitions over a tmp lake and the sandbox, with a persistent instance."""

    defs: dg.Definitions
    instance: dg.DagsterInstance
    lake: Path
    sandbox: SandboxServer
    cursors: dict[str, str | None] = field(default_factory=dict)

    def tick(self, sensor_name: str) -> dg.SensorResult:
        """One tick, applying its partition requests as the daemon (and ol-platform) would."""
        sensor = self.defs.resolve_sensor_def(sensor_name)
        # With an instance ref, Dagster validates the run requests against the partitions as
        # they will be after the tick's own add requests (as the daemon does).
        with dg.build_sensor_context(
            instance_ref=self.instance.get_ref(),
            cursor=self.cursors.get(sensor_name),
            definitions=self.defs,
            resources=self.defs.resources,
        ) as context:
            result = sensor.evaluate_tick(context)
        for request in result.dynamic_partitions_requests or ():
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(
                    request.partitions_def_name, list(request.partition_keys)
                )
        self.cursors[sensor_name] = result.cursor
        return dg.SensorResult(
            run_requests=result.run_requests, cursor=result.cursor, skip_reason=result.skip_message
        )

    def run(self, request: dg.RunRequest | None = None, **kwargs: Any) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_implicit_global_asset_job_def()
        if request is not None:
            kwargs.setdefault("partition_key", request.partition_key)
            kwargs.setdefault("asset_selection", list(request.asset_selection or []))
            kwargs.setdefault("tags", request.tags)
        return job.execute_in_process(instance=self.instance, raise_on_error=False, **kwargs)


@pytest.fixture
def location(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Location]:
    lake = tmp_path / "lake"
    variables = {
        "OL_SANDBOX_URL": sandbox.url,
        "OL_SANDBOX_S3_URL": sandbox.s3_url,
        "OL_LAKE_ROOT": str(lake),
    }
    with environment("ci", variables), persistent_instance(in_memory=True) as instance:
        defs = load_definitions("edxorg.definitions")
        yield Location(defs, instance, lake, sandbox)
