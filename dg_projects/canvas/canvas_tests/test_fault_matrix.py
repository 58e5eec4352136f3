"""The Canvas fault matrix: every sandbox fault against a course's enrollments asset.

One test per cell (`CELLS`, a fault and its declared outcome). The enrollments of course 10001 are
read 5 per page (bookmark pages), and transport faults hit the pages after the first, so the asset
has already fetched data when the fault comes: a transient fault (2 of the client's 4 attempts)
must be recovered from, a persistent one must fail the partition without landing anything, and a
run without the fault must then land exactly the rows of a clean run. Payload faults change the
enrollments the API sends. The cells render the Canvas column of docs/fault_matrix.md
(`UPDATE_SNAPSHOTS=1` rewrites it).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster import DagsterInstance

from canvas.defs.enrollments import enrollments
from canvas.defs.module_items import module_items
from canvas.defs.modules import modules
from canvas.partitions import CANVAS_COURSES_NAME
from canvas.tables import ENROLLMENTS
from ol_orchestrate.io_managers import FileObjectIOManager, lake_path_for
from ol_orchestrate.lib.quarantine import quarantine_path_for
from ol_orchestrate.resources.canvas import CanvasApiClientFactory
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.testing import (
    FAULT_MATRIX_RECORD_ENV,
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

SOURCE = "canvas"
COURSE = "10001"
INSTITUTION = Institution.generate(seed=42, **SIZES["small"])  # as conftest's `sandbox` serves
DOC = Path(__file__).resolve().parents[3] / "docs" / "fault_matrix.md"
MAX_RETRIES = 3  # 4 attempts per request
CLIENT_TIMEOUT = 0.3  # docs/fault_matrix.md says so (FAULT_MATRIX_ROWS)
SLOW_SECONDS = 2.0
PER_PAGE = 5
PERSISTENT = 1000

LATER_PAGES = "page=bookmark"  # every enrollments page after the first
EVERY_PAGE = f"/courses/{COURSE}/enrollments"


def transient(kind: str, **opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": LATER_PAGES, "kind": kind, "count": 2, **opts},)


def persistent(kind: str, **opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": LATER_PAGES, "kind": kind, "count": PERSISTENT, **opts},)


def every_record(kind: str, **opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": EVERY_PAGE, "kind": kind, "count": PERSISTENT, **opts},)


def one_record(**opts: Any) -> tuple[dict[str, Any], ...]:
    return ({"path_contains": LATER_PAGES, "kind": "malformed_record", "count": 1, **opts},)


R, F, Q = Outcome.RECOVERED, Outcome.FAILED_CLEAN, Outcome.QUARANTINED
CELLS: tuple[FaultCell, ...] = (
    FaultCell("rate_limit", R, transient("rate_limit", retry_after=0)),
    FaultCell(
        "rate_limit_persistent",
        F,
        persistent("rate_limit", retry_after=0),
        error="HTTP 429 (throttled)",
    ),
    FaultCell("canvas_throttle", R, transient("canvas_throttle")),
    FaultCell(
        "canvas_throttle_persistent",
        F,
        persistent("canvas_throttle"),
        error="HTTP 403 (throttled): 403 Forbidden (Rate Limit Exceeded)",
    ),
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
        one_record(field="id"),
        reason="missing enrollment_id",
        records="1 record",
    ),
    FaultCell(
        "malformed_record_not_an_object",
        Q,
        one_record(),
        reason="missing enrollment_id, user_id",
        records="1 record",
    ),
    FaultCell(
        "new_column",
        Outcome.IGNORED,
        every_record("add_field", field="override_status", value={"excused": False}),
    ),
    FaultCell(
        "missing_column", Outcome.NULL, every_record("drop_field", field="role"), column="role"
    ),
    FaultCell(
        "missing_required_column",
        Outcome.REJECTED,
        every_record("drop_field", field="id"),
        reason="missing enrollment_id",
    ),
    FaultCell(
        "type_change_object",
        Outcome.REJECTED,
        every_record("change_type", field="id", to="object"),
        reason="does not fit schema: ArrowTypeError",
    ),
    FaultCell(
        "type_change_string",
        Outcome.CONVERTED,
        every_record("change_type", field="grades.current_score", to="string"),
        column="current_score",
    ),
)


def _materialize(
    sandbox: SandboxServer, lake: Path, assets: tuple[dg.AssetsDefinition, ...] = (enrollments,)
) -> dg.ExecuteInProcessResult:
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(CANVAS_COURSES_NAME, [COURSE])
    api = CanvasApiClientFactory(
        secrets=SecretsResource(backend="local"),
        base_url=sandbox.canvas_url,
        secret_path="canvas/api",  # pragma: allowlist secret
        max_retries=MAX_RETRIES,
        backoff_initial=0.01,
        timeout=CLIENT_TIMEOUT,
        per_page=PER_PAGE,
    )
    with environment("ci", {"OL_SANDBOX_URL": sandbox.url, "OL_LAKE_ROOT": str(lake)}):
        return dg.materialize(
            list(assets),
            partition_key=COURSE,
            instance=instance,
            resources={"io_manager": FileObjectIOManager(lake_root=str(lake)), "canvas_api": api},
            raise_on_error=False,
        )


def _case(sandbox: SandboxServer, lake: Path) -> FaultMatrixCase:
    return FaultMatrixCase(
        source=SOURCE,
        sandbox=sandbox,
        lake=lake,
        asset_key=enrollments.key,
        table_path=Path(lake_path_for(lake, enrollments.key, COURSE).path),
        quarantine_path=Path(
            quarantine_path_for(lake, enrollments.key, COURSE, "rejects.jsonl").path
        ),
        schema=ENROLLMENTS.schema,
        materialize=lambda: _materialize(sandbox, lake),
        attempts=MAX_RETRIES + 1,
    )


@pytest.fixture(scope="module")
def clean_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The enrollments a run without faults lands (the same sandbox data in every test)."""
    lake = tmp_path_factory.mktemp("clean-lake")
    with SandboxServer(INSTITUTION, fault_config=FaultConfig()) as sandbox:
        rows = _case(sandbox, lake).clean_rows()
    assert len(rows) > 2 * PER_PAGE  # the faults hit a page after the first
    return rows


@pytest.mark.parametrize("cell", fault_matrix_cells(SOURCE, CELLS), ids=lambda cell: cell.id)
def test_fault_matrix(
    cell: FaultCell, sandbox: SandboxServer, tmp_path: Path, clean_rows: list[dict[str, Any]]
) -> None:
    _case(sandbox, tmp_path / "lake").check(cell, clean_rows)


def test_fault_matrix_doc_shows_the_declared_outcomes() -> None:
    assert_fault_matrix_doc(DOC, SOURCE, CELLS)


def test_cells_record_what_they_observed(
    sandbox: SandboxServer,
    tmp_path: Path,
    clean_rows: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = tmp_path / "matrix.jsonl"
    monkeypatch.setenv(FAULT_MATRIX_RECORD_ENV, str(record))
    cell = next(c for c in CELLS if c.fault == "malformed_record_missing_field")
    _case(sandbox, tmp_path / "lake").check(cell, clean_rows)
    [line] = [json.loads(text) for text in record.read_text().splitlines()]
    assert (line["source"], line["fault"]) == (SOURCE, cell.fault)
    assert line["expected"] == line["observed"] == "quarantined"
    assert line["records_written"] + line["records_quarantined"] == len(clean_rows)


def test_the_doc_is_checked_and_rewritten_one_source_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "fault_matrix.md"
    doc.write_text(DOC.read_text())
    changed = tuple(
        replace(cell, column="role_id") if cell.fault == "missing_column" else cell
        for cell in CELLS
    )
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(AssertionError, match="differs from the Canvas cells"):
        assert_fault_matrix_doc(doc, SOURCE, changed)
    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    assert_fault_matrix_doc(doc, SOURCE, changed)
    before, after = DOC.read_text().splitlines(), doc.read_text().splitlines()
    [(old, new)] = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert old.endswith("| **null**: `mode` | **null**: `role` |")  # Open edX's cell is kept
    assert new.endswith("| **null**: `mode` | **null**: `role_id` |")
    with pytest.raises(ValueError, match="no cell for fault 'reset'"):
        assert_fault_matrix_doc(doc, SOURCE, tuple(c for c in CELLS if c.fault != "reset"))


def test_a_module_without_an_id_does_not_stop_the_module_items(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Beyond the matrix: the items of a module are listed by its id; a module record without one
    # is quarantined by `modules`, and `module_items` lands the items of the other modules.
    course = sandbox.canvas.data.course(COURSE)
    assert course is not None
    broken, *others = course.modules
    sandbox.faults.inject(f"/courses/{COURSE}/modules?", "malformed_record", count=2, field="id")
    result = _materialize(sandbox, tmp_path, (modules, module_items))
    assert result.success
    metadata = {
        event.materialization.asset_key.path[-1]: event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert metadata["modules"]["quarantine_reasons"].value == {"missing module_id": 1}
    assert metadata["module_items"]["records_written"].value == sum(len(m.items) for m in others)
    assert not [r for r in sandbox.requests if f"/modules/{broken.id}/items" in r.path]
