"""The openedx assets against the sandbox: right rows land; faults are survived or leave nothing."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import dagster as dg
import pyarrow.parquet as pq
import pytest

from ol_orchestrate.io_managers import FileObjectIOManager
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.resources.openedx import (
    OpenEdxApiClientFactory,
    OpenEdxClient,
    openedx_resource_key,
)
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.testing import environment, load_definitions
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer
from openedx.components import api_assets

DEPLOYMENT = "mitxonline"
INSTITUTION = Institution.generate(seed=42, **SIZES["small"])


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as server:
        yield server


@pytest.fixture
def lake(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Path]:
    with environment("ci", {"OL_SANDBOX_URL": sandbox.url, "OL_LAKE_ROOT": str(tmp_path)}):
        yield tmp_path


def _materialize(lake: Path, *, max_retries: int = 3) -> dg.ExecuteInProcessResult:
    secrets = SecretsResource(backend="local")
    sandbox_url = get_settings().sandbox_url
    return dg.materialize(
        api_assets(DEPLOYMENT),
        resources={
            "io_manager": FileObjectIOManager(lake_root=str(lake)),
            openedx_resource_key(DEPLOYMENT): OpenEdxApiClientFactory(
                deployment=DEPLOYMENT,
                base_url=f"{sandbox_url}/openedx/{DEPLOYMENT}",
                secret_path=f"openedx/{DEPLOYMENT}/oauth",
                secrets=secrets,
                max_retries=max_retries,
                backoff_initial=0.01,
            ),
        },
        raise_on_error=False,
    )


def _table(lake: Path, name: str):
    return pq.read_table(lake / "raw" / "openedx" / f"{DEPLOYMENT}_{name}" / "data.parquet")


def test_the_locations_client_factory_gives_a_working_client(
    lake: Path, sandbox: SandboxServer
) -> None:
    # The factory exactly as the deployment component binds it in ci: the sandbox's LMS, the
    # OAuth2 client credentials read from the local secrets through the secrets resource.
    factory = load_definitions("openedx.definitions").resources[openedx_resource_key(DEPLOYMENT)]
    assert isinstance(factory, OpenEdxApiClientFactory)
    sandbox.faults.inject("/api/courses/v1/courses", "server_error", count=1)
    with factory.get_client() as client:
        assert isinstance(client, OpenEdxClient)
        assert client.base_url == sandbox.openedx_url(DEPLOYMENT)
        assert client.max_retries == factory.max_retries == 5
        runs = list(client.iter_course_runs())
    assert sorted(run["id"] for run in runs) == sorted(
        c.course_id for c in INSTITUTION.deployment(DEPLOYMENT).course_runs
    )
    courses = [r.status for r in sandbox.requests if "/api/courses/v1/courses" in r.path]
    assert courses[:2] == [500, 200]


def test_assets_land_every_course_block_and_enrollment(lake: Path) -> None:
    result = _materialize(lake)
    assert result.success

    data = INSTITUTION.deployment(DEPLOYMENT)
    runs = _table(lake, "course_runs")
    assert sorted(runs.column("course_id").to_pylist()) == sorted(
        c.course_id for c in data.course_runs
    )
    assert _table(lake, "course_blocks").num_rows == data.block_count
    enrollments = _table(lake, "enrollments")
    assert enrollments.num_rows == len(data.all_enrollments())
    assert set(enrollments.column("deployment").to_pylist()) == {DEPLOYMENT}

    metadata = {
        event.asset_key.path[-1]: event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert metadata[f"{DEPLOYMENT}_enrollments"]["records_written"].value == enrollments.num_rows
    assert metadata[f"{DEPLOYMENT}_enrollments"]["records_quarantined"].value == 0


def test_rerun_replaces_the_data_without_duplicates(lake: Path) -> None:
    assert _materialize(lake).success
    first = _table(lake, "enrollments").drop_columns(["retrieved_at"])
    assert _materialize(lake).success
    assert _table(lake, "enrollments").drop_columns(["retrieved_at"]).equals(first)


def test_throttling_and_server_errors_are_retried(lake: Path, sandbox: SandboxServer) -> None:
    sandbox.faults.inject("/api/courses/v2/blocks/", "rate_limit", count=2, retry_after=0)
    sandbox.faults.inject("/api/enrollment/v1/enrollments/", "server_error", count=2)
    result = _materialize(lake)
    assert result.success
    statuses = [r.status for r in sandbox.requests]
    assert 429 in statuses
    assert 500 in statuses
    data = INSTITUTION.deployment(DEPLOYMENT)
    assert _table(lake, "enrollments").num_rows == len(data.all_enrollments())


def test_a_source_that_keeps_failing_leaves_the_previous_data_intact(
    lake: Path, sandbox: SandboxServer
) -> None:
    assert _materialize(lake).success
    before = _table(lake, "enrollments")

    # Let the first course's enrollments through, then fail for longer than the retry budget (and
    # the step's own retry): the asset must fail without landing a partial table.
    first_course = INSTITUTION.deployment(DEPLOYMENT).course_runs[0].course_id
    sandbox.faults.inject(quote(first_course, safe=""), "slow", count=1, seconds=0)
    sandbox.faults.inject("/api/enrollment/v1/enrollments/", "server_error", count=1000)
    result = _materialize(lake, max_retries=1)
    assert not result.success
    failed = {event.step_key for event in result.get_step_failure_events()}
    assert any("enrollments" in step for step in failed)

    enrollment_requests = [r for r in sandbox.requests if "enrollments" in r.path]
    assert enrollment_requests[-1].status == 500
    assert any(r.status == 200 and first_course in unquote(r.query) for r in enrollment_requests)
    assert _table(lake, "enrollments").equals(before)
    leftovers = [p.name for p in (lake / "raw").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
