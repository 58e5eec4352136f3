"""Bad input files never stop a day: every line of a binary, empty, invalid-UTF-8, NUL-filled,
truncated or corrupt gzip, or oversized input is quarantined with a reason and counted, and the
good files of the same day still land.

Each test normalizes one bad file together with a good file (as a day with several files is
normalized) and checks the bad file's quarantine rows, the good file's events and the accounting.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest

from ol_orchestrate.lib.tracking_log_assets import (
    ACCOUNTING_CHECK_NAME,
    QUARANTINE_RATE_CHECK_NAME,
    build_tracking_log_assets,
)
from ol_orchestrate.lib.tracking_logs import (
    DEFAULT_MAX_LINE_BYTES,
    NORMALIZED_SCHEMA,
    QUARANTINE_RAW_LINE_MAX,
    QUARANTINE_SCHEMA,
    NormalizeSummary,
    normalize_files,
)

GOOD_LINES = 20


def event(i: int) -> str:
    return json.dumps(
        {
            "username": f"learner{i}",
            "event_type": "play_video",
            "event_source": "browser",
            "time": "2026-03-01T10:00:00.123Z",
            "event": json.dumps({"id": "block-v1:MITx+6.00x+2T2026+type@video+block@v1"}),
            "context": {"course_id": "course-v1:MITx+6.00x+2T2026", "user_id": i},
        }
    )


def good_text(count: int = GOOD_LINES) -> bytes:
    return "".join(event(i) + "\n" for i in range(count)).encode()


class Day:
    """One normalization of a good file and some bad ones: its summary and rows by file."""

    def __init__(self, tmp_path: Path, bad: dict[str, bytes], **kwargs: Any) -> None:
        landing = tmp_path / "landing"
        landing.mkdir()
        self.good = landing / "tracking.log-good.gz"
        self.good.write_bytes(gzip.compress(good_text()))
        self.bad = {}
        for name, data in bad.items():
            path = landing / name
            path.write_bytes(data)
            self.bad[name] = str(path)
        out = tmp_path / "out"
        self.summary: NormalizeSummary = normalize_files(
            [*self.bad.values(), self.good],
            out / "events.parquet",
            out / "quarantine.parquet",
            **kwargs,
        )
        events = pq.read_table(out / "events.parquet")
        quarantine = pq.read_table(out / "quarantine.parquet")
        assert events.schema.equals(NORMALIZED_SCHEMA)
        assert quarantine.schema.equals(QUARANTINE_SCHEMA)
        self.events = events.to_pylist()
        self.quarantine = quarantine.to_pylist()
        # The accounting invariant, and the summary agrees with the files written.
        summary = self.summary
        assert summary.balanced
        assert summary.lines_read == summary.events_written + summary.quarantined
        assert summary.events_written == len(self.events)
        assert Counter(row["reason"] for row in self.quarantine) == Counter(
            summary.quarantined_by_reason
        )
        # The good file of the same day landed whole.
        good_events = [e for e in self.events if e["source_file"] == str(self.good)]
        assert [e["line_number"] for e in good_events] == list(range(1, GOOD_LINES + 1))
        assert [e["user_id"] for e in good_events] == list(range(GOOD_LINES))

    def rows(self, name: str) -> list[dict[str, Any]]:
        return [row for row in self.quarantine if row["source_file"] == self.bad[name]]

    def events_of(self, name: str) -> list[dict[str, Any]]:
        return [row for row in self.events if row["source_file"] == self.bad[name]]

    def reasons(self, name: str) -> Counter[str]:
        return Counter(row["reason"] for row in self.rows(name))


def binary(size: int, *, seed: int) -> bytes:
    """`size` reproducible bytes that look random (what a core dump or an image holds)."""
    blocks = (hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def lines_in(data: bytes) -> int:
    """Physical lines of a text: `\n`-terminated, plus a last line without one."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# -- binary and invalid UTF-8 ----------------------------------------------------------------------


def test_a_file_of_invalid_utf8_only_is_quarantined_line_by_line(tmp_path: Path) -> None:
    data = b"".join(b"\xff\xfe" + bytes([0x80 + i]) * 30 + b"\n" for i in range(40))
    day = Day(tmp_path, {"latin1.log": data})
    assert day.reasons("latin1.log") == {"invalid_utf8": 40}
    rows = day.rows("latin1.log")
    assert [r["line_number"] for r in rows] == list(range(1, 41))
    assert rows[0]["raw_line"].startswith("\\xff\\xfe\\x80")
    assert rows[0]["raw_line_bytes"] == 32
    assert day.summary.lines_read == GOOD_LINES + 40
    assert day.summary.events_written == GOOD_LINES


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzipped"])
def test_a_binary_file_is_quarantined_line_by_line(tmp_path: Path, compressed: bool) -> None:
    data = binary(300_000, seed=7)
    day = Day(tmp_path, {"core.bin.gz": gzip.compress(data) if compressed else data})
    rows = day.rows("core.bin.gz")
    assert len(rows) == lines_in(data)
    assert [r["line_number"] for r in rows] == list(range(1, lines_in(data) + 1))
    assert day.events_of("core.bin.gz") == []
    reasons = day.reasons("core.bin.gz")
    assert reasons["invalid_utf8"] > 0.9 * len(rows)
    # the few lines that happen to be valid UTF-8 are no events either
    assert set(reasons) <= {
        "invalid_utf8",
        "invalid_json",
        "blank",
        "truncated_json",
        "not_an_object",
        "nul_bytes",
    }
    terminators = data.count(b"\n") + data.count(b"\r\n")  # a `\r` before `\n` is one too
    assert sum(r["raw_line_bytes"] for r in rows) + terminators == len(data)
    assert day.summary.lines_read == GOOD_LINES + lines_in(data)


# -- empty files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", gzip.compress(b"")],
    ids=["zero-bytes", "gzip-of-nothing"],
)
def test_an_empty_file_has_zero_lines(tmp_path: Path, data: bytes) -> None:
    day = Day(tmp_path, {"tracking.log-empty.gz": data})
    assert day.rows("tracking.log-empty.gz") == []
    assert day.summary.lines_read == GOOD_LINES
    assert day.summary.quarantined_by_reason == {}
    assert str(tmp_path / "landing" / "tracking.log-empty.gz") in day.summary.files


# -- NUL bytes -------------------------------------------------------------------------------------


def test_a_nul_filled_file_is_quarantined(tmp_path: Path) -> None:
    # What a crash leaves in a preallocated log file: runs of NUL bytes, here in three lines.
    data = b"\x00" * 5000 + b"\n" + b"\x00" * 100 + b"\n" + b"\x00" * 7000
    day = Day(tmp_path, {"nul.log": data, "nul.log.gz": gzip.compress(data)})
    for name in ("nul.log", "nul.log.gz"):
        assert day.reasons(name) == {"nul_bytes": 3}
        assert [r["raw_line_bytes"] for r in day.rows(name)] == [5000, 100, 7000]
        assert day.rows(name)[1]["raw_line"] == "\x00" * 100
    assert day.summary.lines_read == GOOD_LINES + 6


def test_nul_bytes_before_an_event_are_dropped_like_a_header(tmp_path: Path) -> None:
    data = b"\x00" * 300 + event(99).encode() + b"\n"
    day = Day(tmp_path, {"nul-then-event.log": data})
    [row] = day.events_of("nul-then-event.log")
    assert row["user_id"] == 99
    assert day.summary.quarantined_by_reason == {}


# -- truncated and corrupt gzip --------------------------------------------------------------------


def test_a_truncated_gzip_keeps_its_complete_lines_and_quarantines_the_tail(
    tmp_path: Path,
) -> None:
    text = good_text(300)
    whole = gzip.compress(text)
    cut = whole[: len(whole) // 2]
    day = Day(tmp_path, {"cut.log.gz": cut})
    decompressed = zlib.decompressobj(wbits=31).decompress(cut)
    complete = decompressed.count(b"\n")
    assert 0 < complete < 300
    assert [e["line_number"] for e in day.events_of("cut.log.gz")] == list(range(1, complete + 1))
    [tail] = day.rows("cut.log.gz")
    assert tail["reason"] == "truncated_file"
    assert tail["line_number"] == complete + 1
    partial = decompressed[decompressed.rfind(b"\n") + 1 :]
    assert tail["raw_line"] == partial.decode()
    assert tail["raw_line_bytes"] == len(partial)
    assert day.summary.lines_read == GOOD_LINES + complete + 1
    assert day.summary.rejected == 1


def test_a_gzip_cut_on_a_line_boundary_still_says_it_was_truncated(tmp_path: Path) -> None:
    compressor = zlib.compressobj(wbits=31)
    head = compressor.compress(good_text(5)) + compressor.flush(zlib.Z_FULL_FLUSH)
    day = Day(tmp_path, {"cut.log.gz": head})
    assert len(day.events_of("cut.log.gz")) == 5
    [marker] = day.rows("cut.log.gz")
    assert (marker["line_number"], marker["reason"], marker["raw_line"]) == (
        6,
        "truncated_file",
        "",
    )
    assert marker["raw_line_bytes"] == 0


@pytest.mark.parametrize(
    "data",
    [b"\x1f\x8b", b"\x1f\x8b\x08\x00\x00\x00"],
    ids=["magic-only", "half-a-header"],
)
def test_a_gzip_cut_inside_its_header_is_one_truncated_row(tmp_path: Path, data: bytes) -> None:
    day = Day(tmp_path, {"cut.log.gz": data})
    assert [(r["line_number"], r["reason"]) for r in day.rows("cut.log.gz")] == [
        (1, "truncated_file")
    ]


def test_corrupt_gzip_data_keeps_what_came_before(tmp_path: Path) -> None:
    compressor = zlib.compressobj(wbits=31)
    head = compressor.compress(good_text(2000)) + compressor.flush(zlib.Z_FULL_FLUSH)
    garbage = b"\xff" * 64  # not a valid deflate block
    day = Day(tmp_path, {"corrupt.log.gz": head + garbage, "not-gzip.gz": b"\x1f\x8b" + garbage})
    # The lines before the bad spot are kept (all but those in the last kilobyte or so of
    # compressed data), then one row says where the file broke.
    kept = [e["line_number"] for e in day.events_of("corrupt.log.gz")]
    assert len(kept) > 1900
    assert kept == list(range(1, len(kept) + 1))
    [broken] = day.rows("corrupt.log.gz")
    assert (broken["line_number"], broken["reason"]) == (len(kept) + 1, "corrupt_gzip")
    assert [(r["line_number"], r["reason"]) for r in day.rows("not-gzip.gz")] == [
        (1, "corrupt_gzip")
    ]
    assert day.summary.lines_read == GOOD_LINES + len(kept) + 2


def test_a_gzip_with_a_bad_checksum_is_corrupt(tmp_path: Path) -> None:
    whole = bytearray(gzip.compress(good_text(5)))
    whole[-8] ^= 0xFF  # the CRC-32 of the member
    day = Day(tmp_path, {"crc.log.gz": bytes(whole)})
    reasons = day.reasons("crc.log.gz")
    assert reasons == {"corrupt_gzip": 1}
    assert day.summary.lines_read == GOOD_LINES + len(day.events_of("crc.log.gz")) + 1


def test_a_plain_text_file_named_gz_is_read_as_text(tmp_path: Path) -> None:
    day = Day(tmp_path, {"tracking.log-plain.gz": good_text(3)})
    assert len(day.events_of("tracking.log-plain.gz")) == 3
    assert day.summary.quarantined_by_reason == {}


# -- oversized lines -------------------------------------------------------------------------------


def test_a_line_over_the_limit_is_quarantined_with_a_bounded_prefix(tmp_path: Path) -> None:
    # `big` is cut out of a chunk; `huge` spans several read blocks and is skipped while read.
    text = '{"event_type": "x", "time": "2026-03-01T00:00:00Z", "event": "' + "é" * 600 + '"}'
    huge = text[:-2] + "é" * 1_500_000
    big = text.encode()
    data = b"\n".join([event(1).encode(), big + b"\r", event(2).encode(), huge.encode() + b"\r"])
    data += b"\n" + event(3).encode()
    day = Day(tmp_path, {"big.log": data, "big.log.gz": gzip.compress(data)}, max_line_bytes=1000)
    for name in ("big.log", "big.log.gz"):
        assert [e["line_number"] for e in day.events_of(name)] == [1, 3, 5]
        rows = day.rows(name)
        assert [(r["line_number"], r["reason"]) for r in rows] == [
            (2, "line_too_long"),
            (4, "line_too_long"),
        ]
        assert [r["raw_line_bytes"] for r in rows] == [len(big), len(huge.encode())]
        assert rows[0]["raw_line"] == text
        assert rows[1]["raw_line"] == huge[:QUARANTINE_RAW_LINE_MAX]
    assert day.summary.lines_read == GOOD_LINES + 10


def test_a_line_at_the_limit_is_still_an_event(tmp_path: Path) -> None:
    text = event(19).encode()  # as long as the longest good line
    day = Day(tmp_path, {"edge.log": text + b"\r\n" + text}, max_line_bytes=len(text))
    assert [e["line_number"] for e in day.events_of("edge.log")] == [1, 2]


def test_a_50_mb_line_is_quarantined_in_bounded_memory(tmp_path: Path) -> None:
    """Run in a child process so its peak memory is its own."""
    size = 50_000_000
    assert size > DEFAULT_MAX_LINE_BYTES
    source = tmp_path / "huge.log.gz"
    head = b'{"event_type": "x", "time": "2026-03-01T00:00:00Z", "event": "'
    with gzip.open(source, "wb", compresslevel=1) as fh:
        fh.write(event(1).encode() + b"\n")
        fh.write(head)
        block = b"a" * (1 << 20)
        written = len(head)
        while written + len(block) < size - 2:
            fh.write(block)
            written += len(block)
        fh.write(b"a" * (size - 2 - written) + b'"}\n')
        fh.write(event(2).encode() + b"\n")
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import json, resource
        from ol_orchestrate.lib.tracking_logs import normalize_files
        s = normalize_files([{str(source)!r}], {str(out / "e.parquet")!r},
                            {str(out / "q.parquet")!r})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({{**s.to_dict(), "peak_mb": peak}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["lines_read"] == 3
    assert summary["events_written"] == 2
    assert summary["quarantined_by_reason"] == {"line_too_long": 1}
    assert summary["peak_mb"] < 1024, summary["peak_mb"]
    [row] = pq.read_table(out / "q.parquet").to_pylist()
    assert (row["line_number"], row["reason"], row["raw_line_bytes"]) == (2, "line_too_long", size)
    assert len(row["raw_line"]) == QUARANTINE_RAW_LINE_MAX
    assert row["raw_line"].startswith(head.decode())
    events = pq.read_table(out / "e.parquet").to_pylist()
    assert [e["line_number"] for e in events] == [1, 3]


def test_a_gzip_bomb_line_does_not_decompress_whole(tmp_path: Path) -> None:
    # 200 MB of one byte is 200 kB gzipped; a line that size must never be held in memory.
    size = 200 << 20
    source = tmp_path / "bomb.log.gz"
    with gzip.open(source, "wb", compresslevel=9) as fh:
        block = b"\x00" * (8 << 20)
        for _ in range(size // len(block)):
            fh.write(block)
    out = tmp_path / "out"
    summary = normalize_files([source], out / "e.parquet", out / "q.parquet")
    assert summary.quarantined_by_reason == {"line_too_long": 1}
    [row] = pq.read_table(out / "q.parquet").to_pylist()
    assert row["raw_line_bytes"] == size


def dense_event(keys: int) -> str:
    """An event whose `event` is a JSON string of `keys` answers: DuckDB needs many times its
    size in memory to parse it."""
    answers = {f"q{i}": "x" * 20 for i in range(keys)}
    return json.dumps(
        {
            "event_type": "problem_check",
            "time": "2026-03-01T00:00:00Z",
            "event": json.dumps(answers),
        }
    )


@pytest.fixture
def small_duckdb(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The normalizer's DuckDB with 16 MB of memory and two threads; returns the row counts of
    the SQL runs."""
    from ol_orchestrate.lib.tracking_logs import normalize as module

    monkeypatch.setattr(module, "DUCKDB_MEMORY_LIMIT", "16MB")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    runs: list[int] = []
    query = module._ChunkNormalizer._query

    def counting(self: Any, name: str, table: Any, source_sql: str) -> Any:
        runs.append(table.num_rows)
        return query(self, name, table, source_sql)

    monkeypatch.setattr(module._ChunkNormalizer, "_query", counting)
    return runs


def test_lines_too_large_to_parse_together_are_parsed_in_smaller_pieces(
    tmp_path: Path, small_duckdb: list[int]
) -> None:
    data = "".join(dense_event(5000) + "\n" for _ in range(8)).encode()
    day = Day(tmp_path, {"dense.log": data})
    assert [e["line_number"] for e in day.events_of("dense.log")] == list(range(1, 9))
    assert day.rows("dense.log") == []
    assert small_duckdb[0] == 8
    assert len(small_duckdb) > 2  # out of memory with all eight lines: run again in halves


def test_a_line_too_large_to_parse_on_its_own_is_quarantined(
    tmp_path: Path, small_duckdb: list[int]
) -> None:
    huge = dense_event(20000)
    data = f"{event(1)}\n{huge}\n{event(2)}\n".encode()
    day = Day(tmp_path, {"dense.log": data})
    assert [e["line_number"] for e in day.events_of("dense.log")] == [1, 3]
    [row] = day.rows("dense.log")
    assert (row["line_number"], row["reason"]) == (2, "too_large_to_parse")
    assert row["raw_line_bytes"] == len(huge)
    assert row["raw_line"] == huge[:QUARANTINE_RAW_LINE_MAX]


# -- through the Dagster asset ---------------------------------------------------------------------


def test_a_day_with_a_binary_file_materializes_and_accounts_for_every_line(
    tmp_path: Path,
) -> None:
    day = "2026-03-01"
    folder = tmp_path / "landing" / "edx" / "tracking" / day
    folder.mkdir(parents=True)
    good = good_text(200)
    (folder / "tracking.log-20260301-1.gz").write_bytes(gzip.compress(good))
    (folder / "tracking.log-20260301-2.gz").write_bytes(gzip.compress(good))
    junk = binary(20_000, seed=3)
    (folder / "tracking.log-20260301-3.gz").write_bytes(junk)
    logs = build_tracking_log_assets(
        "edxorg",
        "mitx",
        "landing/edx/tracking",
        dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC"),
        lake_root=str(tmp_path),
    )
    result = dg.materialize([logs.asset], partition_key=day, raise_on_error=False)

    assert result.success
    [materialization] = result.get_asset_materialization_events()
    metadata = {
        k: getattr(v, "value", v) for k, v in materialization.materialization.metadata.items()
    }
    assert metadata["lines_read"] == 400 + lines_in(junk)
    assert metadata["events_written"] == 400
    assert metadata["lines_quarantined"] == lines_in(junk)
    checks = {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert checks[ACCOUNTING_CHECK_NAME].passed
    rate = checks[QUARANTINE_RATE_CHECK_NAME]
    assert not rate.passed  # a whole binary file is far above 1%: reported, not blocking
    assert rate.metadata["quarantine_rate"].value == pytest.approx(
        lines_in(junk) / metadata["lines_read"]
    )
    partition = tmp_path / "raw" / "edxorg" / "mitx_tracking_logs" / f"dt={day}" / "data.parquet"
    assert pq.read_table(partition).num_rows == 400
