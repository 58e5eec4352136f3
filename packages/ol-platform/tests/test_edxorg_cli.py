"""`ol-platform edxorg explode` and `ol-platform olx blocks` run as a user runs them: a
subprocess on a real archive (the sandbox's, with every quirk)."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ol_sandbox.data import Institution
from ol_sandbox.edxorg import EdxorgData, build_archive

DATA = EdxorgData.for_institution(Institution.from_size("small"))
DAY = DATA.archive_dates[0]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ol_platform.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("delivery") / f"mitx-{DAY.isoformat()}.tar.gz"
    path.write_bytes(build_archive(DATA, DAY))
    return path


def test_explode_prints_the_summary_and_writes_tables(archive: Path, tmp_path: Path) -> None:
    done = _cli("edxorg", "explode", str(archive), "--output", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr  # rows were quarantined: still 0
    summary = json.loads(done.stdout)
    assert summary["archive_date"] == DAY.isoformat()
    assert summary["tables"]["student_courseenrollment"] > 0
    assert summary["rows_read"] == summary["rows_written"] + summary["rows_quarantined"]
    assert summary["quarantined"]
    assert summary["rows_quarantined"] == sum(summary["quarantined"].values())
    assert summary["forum_documents"] > 0
    assert summary["course_blocks"]["problem"] > 0
    assert "poll_question" in summary["course_blocks"]
    files = summary["files"]
    legacy = next(
        v
        for k, v in files.items()
        if k.endswith("MITx-6.002x-2012_Fall-auth_user-prod-analytics.sql")
    )
    assert legacy == {
        "kind": "table",
        "course_id": "MITx/6.002x/2012_Fall",
        "source_system": "prod",
        "table": "auth_user",
        "status": "written",
    }
    assert any(v["kind"] == "unknown" for v in files.values())
    assert any(v["status"] == "undeclared" for v in files.values())
    out = tmp_path / "out"
    table = pq.read_table(out / "auth_user" / "MITx-6.002x-2012_Fall-prod.parquet")
    assert table.num_rows > 0
    assert list((out / "quarantine").rglob("*.jsonl"))


def test_explode_a_folder_of_members(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive) as bundle:
        bundle.extractall(tmp_path / "unpacked", filter="data")
    folder = tmp_path / "unpacked" / f"mitx-{DAY.isoformat()}"
    done = _cli("edxorg", "explode", str(folder), "--output", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["archive_date"] == DAY.isoformat()


def test_explode_fails_clearly_for_missing_and_truncated_input(
    archive: Path, tmp_path: Path
) -> None:
    missing = _cli(
        "edxorg", "explode", str(tmp_path / "nope.tar.gz"), "--output", str(tmp_path / "o")
    )
    assert missing.returncode == 2
    assert "no such archive" in missing.stderr
    cut = tmp_path / "mitx-2026-01-12.tar.gz"
    cut.write_bytes(archive.read_bytes()[:20_000])
    truncated = _cli("edxorg", "explode", str(cut), "--output", str(tmp_path / "o"))
    assert truncated.returncode == 2
    assert "truncated or corrupt" in truncated.stderr
    assert not list((tmp_path / "o").rglob("*.parquet"))  # nothing partial


def test_olx_blocks(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive) as bundle:
        member = next(
            m
            for m in bundle
            if m.name.endswith("MITx-6.002x-2012_Fall-course-prod-analytics.xml.tar.gz")
        )
        export = tmp_path / "course.xml.tar.gz"
        export.write_bytes(bundle.extractfile(member).read())  # type: ignore[union-attr]
    done = _cli(
        "olx",
        "blocks",
        str(export),
        "--output",
        str(tmp_path / "blocks"),
        "--course-key",
        "MITx/6.002x/2012_Fall",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["course_key"] == "MITx/6.002x/2012_Fall"
    assert summary["draft_files"] == 1
    assert summary["blocks_by_type"]["course"] == 1
    blocks = pq.read_table(tmp_path / "blocks" / "course_blocks.parquet").to_pylist()
    assert blocks[0]["block_id"] == "i4x://MITx/6.002x/course/2012_Fall"
    assert len(blocks) == summary["blocks"]
    assert (
        _cli("olx", "blocks", str(tmp_path / "nope"), "--output", str(tmp_path / "x")).returncode
        == 2
    )
