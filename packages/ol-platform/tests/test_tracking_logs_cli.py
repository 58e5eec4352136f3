"""`ol-platform tracking-logs normalize` run as a user runs it: a subprocess on real files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

EVENT = {
    "username": "learner1",
    "event_type": "play_video",
    "name": "play_video",
    "event_source": "browser",
    "time": "2026-03-01T10:00:00.123Z",
    "event": json.dumps({"id": "block-v1:MITx+6.00x+2T2026+type@video+block@v1"}),
    "context": {"course_id": "course-v1:MITx+6.00x+2T2026", "user_id": 7},
}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ol_platform.cli", "tracking-logs", "normalize", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_normalize_a_folder_prints_the_summary_and_writes_both_files(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    good = json.dumps(EVENT)
    (logs / "tracking.log-20260301-1.gz").write_bytes(
        gzip.compress(f"{good}\n# rotated\n{good[:40]}\n".encode())
    )
    (logs / "tracking.log-20260301-2.log").write_text(f"{good}\n\n")
    (logs / "README.txt").write_text("not a log")
    out = tmp_path / "out"

    result = _cli(str(logs), "--output", str(out), "--source-name", "mitx")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["lines_read"] == 5
    assert summary["events_written"] == 2
    assert summary["quarantined_by_reason"] == {"blank": 1, "comment": 1, "truncated_json": 1}
    assert summary["rejected"] == 1
    assert summary["event_types_seen"] == {"play_video": 2}
    assert [Path(f).name for f in summary["files"]] == [
        "tracking.log-20260301-1.gz",
        "tracking.log-20260301-2.log",
    ]
    events = pq.read_table(out / "events.parquet").to_pylist()
    assert [(e["line_number"], e["user_id"], e["source_name"]) for e in events] == [
        (1, 7, "mitx"),
        (1, 7, "mitx"),
    ]
    quarantine = pq.read_table(out / "quarantine.parquet").to_pylist()
    assert [(q["line_number"], q["reason"]) for q in quarantine] == [
        (2, "comment"),
        (3, "truncated_json"),
        (2, "blank"),
    ]


def test_a_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    result = _cli(str(tmp_path / "nope.log.gz"), "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_files_are_quarantined_not_an_error(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    good = json.dumps(EVENT)
    (logs / "tracking.log-1.gz").write_bytes(gzip.compress(f"{good}\n".encode() * 3))
    (logs / "tracking.log-2.gz").write_bytes(b"\xff\xfe\x00\x81\n" * 4)  # binary, not gzip
    whole = gzip.compress(f"{good}\n".encode() * 200)
    (logs / "tracking.log-3.gz").write_bytes(whole[: len(whole) // 2])  # cut short
    (logs / "tracking.log-4.log").write_text(f"{good}\n{'{' + 'x' * 5000}\n{good}\n")
    (logs / "tracking.log-5.log").write_bytes(b"")
    out = tmp_path / "out"

    result = _cli(str(logs), "--output", str(out), "--max-line-bytes", "4096")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    reasons = summary["quarantined_by_reason"]
    assert reasons["invalid_utf8"] == 4
    assert reasons["truncated_file"] == 1
    assert reasons["line_too_long"] == 1
    assert summary["lines_read"] == summary["events_written"] + summary["quarantined"]
    quarantine = pq.read_table(out / "quarantine.parquet").to_pylist()
    [too_long] = [q for q in quarantine if q["reason"] == "line_too_long"]
    assert (Path(too_long["source_file"]).name, too_long["line_number"]) == (
        "tracking.log-4.log",
        2,
    )
    assert too_long["raw_line_bytes"] == 5001
    [cut] = [q for q in quarantine if q["reason"] == "truncated_file"]
    events_of_cut = [
        e
        for e in pq.read_table(out / "events.parquet").to_pylist()
        if e["source_file"].endswith("tracking.log-3.gz")
    ]
    assert cut["line_number"] == len(events_of_cut) + 1
    assert summary["events_written"] == 3 + len(events_of_cut) + 2


def test_max_line_bytes_must_be_positive(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("{}\n")
    result = _cli(
        str(tmp_path / "a.log"), "--output", str(tmp_path / "out"), "--max-line-bytes", "0"
    )
    assert result.returncode == 2
    assert "positive" in result.stderr


def test_an_output_path_that_is_a_file_is_one_clear_error(tmp_path: Path) -> None:
    log = tmp_path / "tracking.log"
    log.write_text(json.dumps(EVENT) + "\n")
    output = tmp_path / "not-a-folder"
    output.write_text("x")
    completed = _cli(str(log), "--output", str(output))
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: --output")
    assert "is a file" in completed.stderr
    assert "Traceback" not in completed.stderr
