"""Records an asset cannot land are quarantined with a reason, counted, and never lost."""

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from ol_orchestrate.io_managers import FileObjectIOManager
from ol_orchestrate.lib.quarantine import land_rows

SCHEMA = pa.schema([("course_id", pa.string()), ("seats", pa.int64())])
ROWS = [
    {"course_id": "course-v1:MITx+1+2026", "seats": 10},
    {"course_id": "", "seats": 5},  # missing id
    {"course_id": "course-v1:MITx+2+2026", "seats": "many"},  # wrong type
    {"course_id": "course-v1:MITx+3+2026", "seats": None},
]


def _materialize(lake: Path, rows: list[dict]) -> dg.ExecuteInProcessResult:
    @dg.asset(key=["demo", "raw", "courses"])
    def courses(context: dg.AssetExecutionContext) -> pa.Table:
        return land_rows(context, rows, SCHEMA, ["course_id"], str(lake))

    return dg.materialize(
        [courses], resources={"io_manager": FileObjectIOManager(lake_root=str(lake))}
    )


def test_every_record_is_written_or_quarantined_with_its_reason(tmp_path: Path) -> None:
    result = _materialize(tmp_path, ROWS)
    assert result.success

    landed = pq.read_table(tmp_path / "raw" / "demo" / "courses" / "data.parquet")
    assert landed.column("course_id").to_pylist() == [
        "course-v1:MITx+1+2026",
        "course-v1:MITx+3+2026",
    ]

    rejects_path = tmp_path / "quarantine" / "demo" / "courses" / "rejects.jsonl"
    rejects = [json.loads(line) for line in rejects_path.read_text().splitlines()]
    reasons = [r["reason"] for r in rejects]
    assert reasons[0] == "missing course_id"
    assert reasons[1].startswith("does not fit schema: Arrow")
    assert {r["record"]["seats"] for r in rejects} == {5, "many"}

    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["records_written"].value == 2
    assert metadata["records_quarantined"].value == 2
    assert landed.num_rows + len(rejects) == len(ROWS)


def test_a_clean_rerun_clears_the_old_quarantine(tmp_path: Path) -> None:
    assert _materialize(tmp_path, ROWS).success
    rejects_path = tmp_path / "quarantine" / "demo" / "courses" / "rejects.jsonl"
    assert rejects_path.exists()

    result = _materialize(tmp_path, [ROWS[0]])
    assert result.success
    assert not rejects_path.exists()
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["records_quarantined"].value == 0
