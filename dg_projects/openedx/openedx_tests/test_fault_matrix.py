"""The Open edX fault matrix: every sandbox fault against a deployment's API assets.

One test per cell (`CELLS`, a fault and its declared outcome). Transport faults hit the
enrollments of the *second* course run, so the asset has already fetched data when the fault
comes: a transient fault (2 of the client's 4 attempts) must be recovered from, a persistent one
must fail the asset without landing anything, and a run without the fault must then land exactly
the rows of a clean run. Payload faults change the enrollments the API sends. The cells render the
Open edX column of docs/fault_matrix.md (`UPDATE_SNAPSHOTS=1` rewrites it).

The assets' own Dagster step retry (one retry after 5 s) runs too, so a persistent fault is
injected for every attempt of both steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dagster as dg
import pytest

from ol_orchestrate.io_managers import FileObjectIOManager, lake_path_for
from ol_orchestrate.lib.quarantine import quarantine_path_for
from ol_orchestrate.resources.openedx import (
    ENROLLMENTS,
    OpenEdxApiClientFactory,
    openedx_resource_key,
)
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.testing import (
    FaultCell,
    FaultMatrixCase,
    Outcome,
    assert_fault_matrix_doc,
    environment,
    fault_matrix_cells,
)
from ol_sandbox.data import SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer
from openedx.components import api_assets

SOURCE = "openedx"
DEPLOYMENT = "mitxonline"
INSTITUTION = Institution.generate(seed=42, **SIZES["small"])
DOC = Path(__file__).resolve().parents[3] / "docs" / "fault_matrix.md"
ASSET_KEY = dg.AssetKey(["openedx", "raw", f"{DEPLOYMENT}_enrollments"])
MAX_RETRIES = 3  # 4 attempts per request
CLIENT_TIMEOUT = 0.3  # docs/fault_matrix.md says so (FAULT_MATRIX_ROWS)
SLOW_SECONDS = 2.0
PERSISTENT = 1000  # more than every attempt of both step attempts

SECOND_COURSE = INSTITUTION.deployment(DEPLOYMENT).course_runs[1].course_id
ONE_COURSE = f"/enrollments/?course_id={quote(SECOND_COURSE, safe='')}"
EVERY_COURSE = "/api/enrollment/v1/enrollments/"


def transient(kind: str, **opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": ONE_COURSE, "kind": kind, "count": 2, **opts},)


def persistent(kind: str, **opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": ONE_COURSE, "kind": kind, "count": PERSISTENT, **opts},)


def every_record(kind: str, **opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": EVERY_COURSE, "kind": kind, "count": PERSISTENT, **opts},)


def one_record(**opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": ONE_COURSE, "kind": "malformed_record", "count": 1, **opts},)


R, F, Q = Outcome.RECOVERED, Outcome.FAILED_CLEAN, Outcome.QUARANTINED
CELLS: tuple[FaultCell, ...] = (
    FaultCell("rate_limit", R, transient("rate_limit", retry_after=0)),
    FaultCell(
        "rate_limit_persistent",
        F,
        persistent("rate_limit", retry_after=0),
        error="HTTP 429 (throttled)",
    ),
    FaultCell("canvas_throttle", Outcome.NOT_APPLICABLE),
    FaultCell("canvas_throttle_persistent", Outcome.NOT_APPLICABLE),
    FaultCell("server_error", R, transient("server_error")),
    FaultCell("server_error_persistent", F, persistent("server_error"), error="HTTP 500"),
    FaultCell("timeout", R, transient("slow", seconds=SLOW_SECONDS)),
    FaultCell(
        "timeout_persistent", F, persistent("slow", seconds=SLOW_SECONDS), error="ReadTimeout"
    ),
    FaultCell("reset", R, transient("reset")),
    FaultCell("reset_persistent", F, persistent("reset"), error="Connection reset by peer"),
    FaultCell("truncated_body", R, transient("truncate", mode="length")),
    FaultCell(
        "truncated_body_persistent",
        F,
        persistent("truncate", mode="length"),
        error="RemoteProtocolError",
    ),
    FaultCell("truncated_json", R, transient("truncate", mode="json")),
    FaultCell(
        "truncated_json_persistent",
        F,
        persistent("truncate", mode="json"),
        error="invalid JSON body",
    ),
    FaultCell(
        "malformed_record_missing_field",
        Q,
        one_record(field="user"),
        reason="missing username",
        records="1 record",
    ),
    FaultCell(
        "malformed_record_not_an_object",
        Q,
        one_record(),
        reason="missing course_id, username",
        records="1 record",
    ),
    FaultCell(
        "new_column",
        Outcome.IGNORED,
        every_record("add_field", field="enterprise_course_consent", value={"granted": True}),
    ),
    FaultCell(
        "missing_column", Outcome.NULL, every_record("drop_field", field="mode"), column="mode"
    ),
    FaultCell(
        "missing_required_column",
        Outcome.REJECTED,
        every_record("drop_field", field="user"),
        reason="missing username",
    ),
    FaultCell(
        "type_change_object",
        Outcome.REJECTED,
        every_record("change_type", field="course_id", to="object"),
        reason="does not fit schema: ArrowTypeError",
    ),
    FaultCell(
        "type_change_string",
        Outcome.CONVERTED,
        every_record("change_type", field="is_active", to="string"),
        column="is_active",
    ),
)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as server:
        yield server


def _materialize(sandbox: SandboxServer, lake: Path) -> dg.ExecuteInProcessResult:
    with environment("ci", {"OL_SANDBOX_URL": sandbox.url, "OL_LAKE_ROOT": str(lake)}):
        return dg.materialize(
            api_assets(DEPLOYMENT),
            resources={
                "io_manager": FileObjectIOManager(lake_root=str(lake)),
                openedx_resource_key(DEPLOYMENT): OpenEdxApiClientFactory(
                    deployment=DEPLOYMENT,
                    base_url=sandbox.openedx_url(DEPLOYMENT),
                    secret_path=f"openedx/{DEPLOYMENT}/oauth",
                    secrets=SecretsResource(backend="local"),
                    max_retries=MAX_RETRIES,
                    backoff_initial=0.01,
                    timeout=CLIENT_TIMEOUT,
                ),
            },
            raise_on_error=False,
        )


def _case(sandbox: SandboxServer, lake: Path) -> FaultMatrixCase:
    return FaultMatrixCase(
        source=SOURCE,
        sandbox=sandbox,
        lake=lake,
        table_path=Path(lake_path_for(lake, ASSET_KEY).path),
        quarantine_path=Path(quarantine_path_for(lake, ASSET_KEY, None, "rejects.jsonl").path),
        asset_key=ASSET_KEY,
        schema=ENROLLMENTS.schema,
        materialize=lambda: _materialize(sandbox, lake),
        attempts=MAX_RETRIES + 1,
    )


@pytest.fixture(scope="module")
def clean_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The enrollments a run without faults lands (the same sandbox data in every test)."""
    lake = tmp_path_factory.mktemp("clean-lake")
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as sandbox:
        return _case(sandbox, lake).clean_rows()


@pytest.mark.parametrize("cell", fault_matrix_cells(SOURCE, CELLS), ids=lambda cell: cell.id)
def test_fault_matrix(
    cell: FaultCell, sandbox: SandboxServer, tmp_path: Path, clean_rows: list[dict[str, Any]]
) -> None:
    _case(sandbox, tmp_path / "lake").check(cell, clean_rows)


def test_fault_matrix_doc_shows_the_declared_outcomes() -> None:
    assert_fault_matrix_doc(DOC, SOURCE, CELLS)


def test_a_record_that_is_not_an_object_is_quarantined_in_every_table(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Beyond the matrix (which changes enrollments): the course list and a course's block tree
    # may carry a broken record too; each table quarantines it and lands the rest.
    first_course = INSTITUTION.deployment(DEPLOYMENT).course_runs[0].course_id
    sandbox.faults.inject("/api/courses/v1/courses/", "malformed_record", record=1)
    blocks = f"/blocks/?course_id={quote(first_course, safe='')}"
    sandbox.faults.inject(blocks, "malformed_record", record=-1)
    result = _materialize(sandbox, tmp_path)
    assert result.success
    counts = {
        event.materialization.asset_key.path[-1].removeprefix(f"{DEPLOYMENT}_"): {
            key: event.materialization.metadata[key].value
            for key in ("records_written", "records_quarantined", "quarantine_reasons")
        }
        for event in result.get_asset_materialization_events()
    }
    data = INSTITUTION.deployment(DEPLOYMENT)
    runs = len(data.course_runs)
    assert counts["course_runs"]["records_written"] == runs - 1
    assert counts["course_runs"]["quarantine_reasons"] == {"missing course_id": 1}
    assert counts["course_blocks"]["quarantine_reasons"] == {"missing block_type": 1}
    assert counts["enrollments"]["records_quarantined"] == 0
    skipped = data.course_runs[1].course_id  # its course-list record was the broken one
    assert counts["enrollments"]["records_written"] == len(data.all_enrollments()) - len(
        data.enrollments[skipped]
    )
