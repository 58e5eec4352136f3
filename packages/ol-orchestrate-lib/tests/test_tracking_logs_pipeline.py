"""The normalizer's chunk pipeline keeps line order and accounting whatever the chunking.

Bad lines are cut out of a chunk's rows, and repaired lines (a `context` logged as a JSON string)
put back in their places, without sorting; several chunks' SQL runs at once. These tests mix
every kind of line and check that the output is the same, in line order, at any chunk size,
SQL look-ahead and share of bad lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ol_orchestrate.lib.tracking_logs import normalize as module
from ol_orchestrate.lib.tracking_logs import normalize_files

COURSE = "course-v1:MITx+6.00x+2T2026"
BLOCK = "block-v1:MITx+6.00x+2T2026+type@problem+block@a1b2c3"


def event(i: int, **overrides: Any) -> str:
    record: dict[str, Any] = {
        "username": f"learner{i}",
        "event_type": "problem_check",
        "event_source": "server",
        "time": "2026-03-01T10:00:00.123456+00:00",
        "event": {"problem_id": BLOCK, "attempts": i},
        "context": {"course_id": COURSE, "org_id": "MITx", "user_id": i, "path": "/x"},
    }
    record.update(overrides)
    return json.dumps(record)


def mixed_line(i: int, bad_every: int) -> str:
    """Line `i`: a good event, or (every `bad_every`th) one of the lines that leave the SQL path."""
    if i % bad_every:
        return event(i)
    kind = (i // bad_every) % 6
    if kind == 0:
        return event(i, context=json.dumps({"course_id": COURSE, "user_id": i}))  # repaired
    if kind == 1:
        return event(i)[:40]  # truncated
    if kind == 2:
        return ""  # blank
    if kind == 3:
        return f"Mar  1 00:00:01 lms-1 tracking: {event(i)}"  # header: still an event
    if kind == 4:
        return event(i, event_type="\u200b")  # no type once cleaned
    return "[1, 2]"  # not an object


def normalize(tmp_path: Path, name: str, lines: list[str], **kw: Any) -> tuple[Any, ...]:
    source = tmp_path / "day.log"
    if not source.exists():
        source.write_text("".join(line + "\n" for line in lines))
    out = tmp_path / name
    summary = normalize_files([source], out / "e.parquet", out / "q.parquet", **kw)
    assert summary.balanced
    return summary, pq.read_table(out / "e.parquet"), pq.read_table(out / "q.parquet")


# A third of the lines bad: cut out with a filter; 1% and 0.3%: cut out with slices.
@pytest.mark.parametrize("bad_every", [3, 100, 301], ids=["a-third-bad", "1%-bad", "0.3%-bad"])
def test_odd_lines_keep_their_places_at_any_chunk_size(tmp_path: Path, bad_every: int) -> None:
    lines = [mixed_line(i, bad_every) for i in range(1, 1501)]
    _, events, rejects = normalize(tmp_path, "whole", lines)
    numbers = events.column("line_number").to_pylist()
    assert numbers == sorted(numbers)
    assert rejects.column("line_number").to_pylist() == sorted(
        rejects.column("line_number").to_pylist()
    )
    repaired = [i for i in range(bad_every, 1501, bad_every) if (i // bad_every) % 6 == 0]
    assert set(repaired) <= set(numbers)
    by_line = {row["line_number"]: row for row in events.to_pylist()}
    for i in repaired:  # a repaired row is the event of its own line
        assert by_line[i]["user_id"] == i
        assert by_line[i]["username"] == f"learner{i}"
    for chunk_lines in (13, 250):
        _, small_events, small_rejects = normalize(
            tmp_path, f"by-{chunk_lines}", lines, chunk_lines=chunk_lines, chunk_bytes=8192
        )
        assert small_events.equals(events)
        assert small_rejects.equals(rejects)


@pytest.mark.parametrize("ahead", [1, 3])
def test_the_sql_look_ahead_does_not_change_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    lines = [mixed_line(i, 11) for i in range(1, 1001)]
    _, events, rejects = normalize(tmp_path, "default", lines, chunk_lines=50)
    monkeypatch.setattr(module, "_SQL_AHEAD", ahead)
    _, other_events, other_rejects = normalize(tmp_path, f"ahead-{ahead}", lines, chunk_lines=50)
    assert other_events.equals(events)
    assert other_rejects.equals(rejects)
