"""The tracking-log normalizer on the input real Open edX deployments produce, one case per test.

Each test writes a small log file with the lines that show the case and checks the normalized row
(or the quarantine row) it becomes; every test also checks that every line is accounted for.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import xxhash

from ol_orchestrate.lib.tracking_logs import (
    NORMALIZED_SCHEMA,
    QUARANTINE_RAW_LINE_MAX,
    QUARANTINE_SCHEMA,
    NormalizeSummary,
    normalize_files,
)

COURSE = "course-v1:MITx+6.00x+2T2026"
BLOCK = "block-v1:MITx+6.00x+2T2026+type@problem+block@a1b2c3"
VIDEO = "block-v1:MITx+6.00x+2T2026+type@video+block@v1d30"


def server_event(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "username": "learner1",
        "event_type": "problem_check",
        "event_source": "server",
        "time": "2026-03-01T10:00:00.123456+00:00",
        "ip": "10.0.0.1",
        "agent": "Mozilla/5.0",
        "host": "lms.example.edu",
        "referer": f"https://lms.example.edu/courses/{COURSE}/courseware/",
        "session": "s1",
        "page": None,
        "event": {"problem_id": BLOCK, "attempts": 1, "success": "correct"},
        "context": {"course_id": COURSE, "org_id": "MITx", "user_id": 42, "path": "/x"},
    }
    record.update(overrides)
    return record


def browser_event(**overrides: Any) -> dict[str, Any]:
    record = server_event(
        event_type="play_video",
        name="play_video",
        event_source="browser",
        page=f"https://lms.example.edu/courses/{COURSE}/courseware/week1/",
        event=json.dumps({"id": VIDEO, "currentTime": 12.5, "code": "html5"}),
    )
    record["context"] = {**record["context"], "path": "/event"}
    record.update(overrides)
    return record


def line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


class Run:
    """One normalization of some lines: its summary, event rows and quarantine rows."""

    def __init__(self, summary: NormalizeSummary, folder: Path) -> None:
        self.summary = summary
        self.events_table = pq.read_table(folder / "events.parquet")
        self.quarantine_table = pq.read_table(folder / "quarantine.parquet")
        self.events = self.events_table.to_pylist()
        self.quarantine = self.quarantine_table.to_pylist()
        assert self.events_table.schema.equals(NORMALIZED_SCHEMA)
        assert self.quarantine_table.schema.equals(QUARANTINE_SCHEMA)
        assert summary.lines_read == summary.events_written + summary.quarantined
        assert summary.events_written == len(self.events)
        assert summary.quarantined == len(self.quarantine)

    def event(self) -> dict[str, Any]:
        assert len(self.events) == 1, (self.events, self.quarantine)
        return self.events[0]

    def reasons(self) -> dict[int, str]:
        return {row["line_number"]: row["reason"] for row in self.quarantine}


def write_log(path: Path, lines: list[str | bytes], *, newline: bytes = b"\n") -> Path:
    data = newline.join(item if isinstance(item, bytes) else item.encode() for item in lines)
    data += newline
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def run(tmp_path: Path, lines: list[str | bytes], name: str = "tracking.log", **kw: Any) -> Run:
    source = write_log(tmp_path / name, lines)
    out = tmp_path / "out"
    summary = normalize_files([source], out / "events.parquet", out / "quarantine.parquet", **kw)
    return Run(summary, out)


# -- `event` in every shape ------------------------------------------------------------------------


def test_event_as_a_json_encoded_string_is_decoded(tmp_path: Path) -> None:
    row = run(tmp_path, [line(browser_event())]).event()
    assert json.loads(row["event_payload"]) == {"id": VIDEO, "currentTime": 12.5, "code": "html5"}
    assert row["block_key"] == VIDEO
    assert row["event_source"] == "browser"


def test_event_as_an_object(tmp_path: Path) -> None:
    row = run(tmp_path, [line(server_event())]).event()
    assert json.loads(row["event_payload"]) == {
        "problem_id": BLOCK,
        "attempts": 1,
        "success": "correct",
    }
    assert row["block_key"] == BLOCK


@pytest.mark.parametrize(
    "payload",
    [
        "input_a1b2c3_2_1=choice_1&input_a1b2c3_3_1=%5B%2242%22%5D",  # browser problem_check
        "",
        # A server payload the LMS cut at 512 characters: looks like JSON, is not.
        ('{"POST": {"input_a1b2c3_2_1": ["' + "x" * 600)[:512],
    ],
    ids=["url-encoded-answers", "empty", "cut-at-512"],
)
def test_event_as_a_non_json_string_is_kept_as_a_json_string(tmp_path: Path, payload: str) -> None:
    row = run(tmp_path, [line(server_event(event=payload))]).event()
    assert json.loads(row["event_payload"]) == payload
    assert row["event_type"] == "problem_check"


def test_event_as_a_list(tmp_path: Path) -> None:
    row = run(tmp_path, [line(server_event(event=[1, "two", {"three": 3}]))]).event()
    assert json.loads(row["event_payload"]) == [1, "two", {"three": 3}]


def test_event_missing(tmp_path: Path) -> None:
    record = server_event()
    del record["event"]
    row = run(tmp_path, [line(record)]).event()
    assert row["event_payload"] is None
    assert row["user_id"] == 42


# -- context, user ids -----------------------------------------------------------------------------


def test_context_as_an_object_and_as_a_json_string_give_the_same_fields(tmp_path: Path) -> None:
    as_object = server_event()
    as_string = server_event(context=json.dumps(as_object["context"]))
    result = run(tmp_path, [line(as_object), line(as_string)])
    first, second = result.events
    for column in ("course_id", "course_key", "org_id", "user_id", "path", "block_key"):
        assert first[column] == second[column], column
    assert json.loads(first["context_payload"]) == as_object["context"]
    assert json.loads(second["context_payload"]) == as_object["context"]
    assert first["event_id"] != second["event_id"]  # different raw lines


def test_context_as_a_string_that_is_not_json_still_gives_the_event(tmp_path: Path) -> None:
    row = run(tmp_path, [line(server_event(context="not json", event={"attempts": 1}))]).event()
    assert row["event_type"] == "problem_check"
    assert json.loads(row["context_payload"]) == "not json"
    assert row["user_id"] is None
    assert row["course_id"] is None
    assert row["course_key"] is None


@pytest.mark.parametrize(
    ("context_user_id", "top_user_id", "expected"),
    [(42, None, 42), ("42", None, 42), (None, None, None), (None, "7", 7), ("", 9, 9)],
    ids=["int", "numeric-string", "null", "top-level-string", "empty-in-context"],
)
def test_user_id_as_int_numeric_string_or_null(
    tmp_path: Path, context_user_id: Any, top_user_id: Any, expected: int | None
) -> None:
    record = server_event(event={"attempts": 1})
    record["context"]["user_id"] = context_user_id
    if top_user_id is not None:
        record["user_id"] = top_user_id
    assert run(tmp_path, [line(record)]).event()["user_id"] == expected


# -- timestamps ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("2026-03-01T10:00:00.123456+00:00", datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T10:00:00.123Z", datetime(2026, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-03-01T10:00:00.5", datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-01T05:00:00-05:00", datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)),
    ],
    ids=["offset-micros", "z-millis", "no-timezone", "other-offset"],
)
def test_timestamps_become_utc(tmp_path: Path, logged: str, expected: datetime) -> None:
    row = run(tmp_path, [line(server_event(time=logged))]).event()
    assert row["event_time"] == expected


# -- course ids and block keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("course_id", "expected_key", "expected_org"),
    [
        (COURSE, COURSE, "MITx"),
        ("MITx/6.002x/2012_Fall", "MITx/6.002x/2012_Fall", "MITx"),  # legacy stays legacy
        ("ccx-v1:MITx+6.00x+2T2026+ccx@3", "ccx-v1:MITx+6.00x+2T2026+ccx@3", "MITx"),
        ("not a course", None, None),
    ],
    ids=["course-v1", "legacy", "ccx", "garbage"],
)
def test_course_ids_are_kept_as_written(
    tmp_path: Path, course_id: str, expected_key: str | None, expected_org: str | None
) -> None:
    record = server_event(event={"attempts": 1})
    record["context"] = {"course_id": course_id, "user_id": 1}
    row = run(tmp_path, [line(record)]).event()
    assert row["course_id"] == course_id
    assert row["course_key"] == expected_key
    assert row["org_id"] == expected_org


@pytest.mark.parametrize(
    ("url_field", "url", "expected"),
    [
        ("page", f"https://lms.example.edu/courses/{COURSE}/courseware/w1/", COURSE),
        (
            "page",
            "https://lms.example.edu/courses/MITx/6.002x/2012_Fall/info",
            "MITx/6.002x/2012_Fall",
        ),
        ("page", f"https://apps.example.edu/learning/course/{COURSE}/home", COURSE),
        ("path", f"/courses/{COURSE}/xblock/{BLOCK}/handler/xmodule_handler/problem_check", COURSE),
        ("path", f"/course/{COURSE}/{BLOCK}", COURSE),
        ("event_type", f"/courses/{COURSE}/courseware/week1/", COURSE),
        ("page", "https://lms.example.edu/courses/course-v1%3AMITx%2B6.00x%2B2T2026/about", COURSE),
    ],
    ids=[
        "classic-page",
        "legacy-page",
        "mfe-page",
        "classic-path",
        "mfe-path",
        "url-event-type",
        "encoded",
    ],
)
@pytest.mark.parametrize("logged", ["", None], ids=["empty", "absent"])
def test_a_missing_course_id_is_taken_from_the_url(
    tmp_path: Path, url_field: str, url: str, expected: str, logged: str | None
) -> None:
    record = server_event(event={"attempts": 1})
    record["context"] = {"user_id": 1} if logged is None else {"user_id": 1, "course_id": logged}
    if url_field == "path":
        record["context"]["path"] = url
    else:
        record[url_field] = url
    row = run(tmp_path, [line(record)]).event()
    assert row["course_id"] == logged
    assert row["course_key"] == expected
    assert row["org_id"] == "MITx"


@pytest.mark.parametrize(
    ("event", "context_extra", "expected"),
    [
        ({"id": VIDEO}, {}, VIDEO),
        (
            {"problem_id": "i4x://MITx/6.002x/problem/Sample_Problem"},
            {},
            "i4x://MITx/6.002x/problem/Sample_Problem",
        ),
        (
            {"usage_key": "asset-v1:MITx+6.00x+2T2026+type@asset+block@notes.pdf"},
            {},
            "asset-v1:MITx+6.00x+2T2026+type@asset+block@notes.pdf",
        ),
        ({"attempts": 1}, {"module": {"usage_key": BLOCK, "display_name": "Q1"}}, BLOCK),
        ({"id": "5f1e2d3c4b5a"}, {}, None),  # a forum thread id is no usage key
        ({"id": "block-v1:broken"}, {}, None),  # looks like one, does not parse
    ],
    ids=["block-v1", "i4x", "asset-v1", "context-module", "not-a-key", "invalid-key"],
)
def test_block_keys(
    tmp_path: Path, event: dict[str, Any], context_extra: dict[str, Any], expected: str | None
) -> None:
    record = server_event(event=event)
    record["context"].update(context_extra)
    assert run(tmp_path, [line(record)]).event()["block_key"] == expected


def test_block_key_from_a_url_shaped_event_type(tmp_path: Path) -> None:
    record = server_event(
        event_type=f"/courses/{COURSE}/xblock/{BLOCK}/handler/xmodule_handler/problem_get",
        event={"GET": {}, "POST": {}},
    )
    record["context"]["path"] = "/x"
    assert run(tmp_path, [line(record)]).event()["block_key"] == BLOCK


# -- headers, comments, blank lines, broken lines --------------------------------------------------


def test_syslog_and_logger_headers_are_removed(tmp_path: Path) -> None:
    body = line(server_event())
    result = run(
        tmp_path,
        [
            f"Mar  1 00:00:01 lms-1 tracking: {body}",
            f"2026-03-01 00:00:01,123 INFO 123 [tracking] logger.py:42 - {body}",
            body,
        ],
    )
    assert len(result.events) == 3
    payloads = {
        json.dumps(
            {k: v for k, v in row.items() if k not in ("event_id", "line_number")}, default=str
        )
        for row in result.events
    }
    assert len(payloads) == 1  # the same event three times
    assert len({row["event_id"] for row in result.events}) == 3  # three different raw lines


def test_comment_and_blank_lines_are_counted_not_lost(tmp_path: Path) -> None:
    result = run(
        tmp_path, ["# rotated 2026-03-01", "", "   \t", line(server_event()), "  # indented"]
    )
    assert result.reasons() == {1: "comment", 2: "blank", 3: "blank", 5: "comment"}
    assert result.summary.rejected == 0
    assert result.summary.quarantined_by_reason == {"comment": 2, "blank": 2}
    assert [row["line_number"] for row in result.events] == [4]


def test_invalid_lines_are_quarantined_with_reason_and_position(tmp_path: Path) -> None:
    good = line(server_event())
    no_type = server_event()
    del no_type["event_type"]
    bad_time = server_event(time="yesterday")
    lines: list[str | bytes] = [
        good,
        good[:100],  # truncated
        good.replace('", "', '" "', 1),  # a missing comma
        "[1, 2, 3]",  # JSON, not an object
        line(no_type),
        line(server_event(event_type="\u200b")),  # only a zero-width character
        line(bad_time),
        b'{"username": "\xff\xfe", "event_type": "x"}',  # invalid UTF-8
        "Mar  1 00:00:01 lms-1 tracking: no json here",
        "{'event_type': 'x'}",  # not JSON: single quotes
        good,
    ]
    result = run(tmp_path, lines)
    assert result.reasons() == {
        2: "truncated_json",
        3: "invalid_json",
        4: "not_an_object",
        5: "missing_event_type",
        6: "missing_event_type",
        7: "invalid_time",
        8: "invalid_utf8",
        9: "invalid_json",
        10: "invalid_json",
    }
    assert [row["line_number"] for row in result.events] == [1, 11]
    assert result.summary.rejected == 9
    by_line = {row["line_number"]: row for row in result.quarantine}
    assert by_line[2]["raw_line"] == good[:100]
    assert by_line[8]["raw_line"] == '{"username": "\\xff\\xfe", "event_type": "x"}'
    assert by_line[8]["raw_line_bytes"] == 37
    assert {row["source_file"] for row in result.quarantine} == {str(tmp_path / "tracking.log")}


def test_zero_width_characters_are_removed_from_event_types(tmp_path: Path) -> None:
    record = browser_event(event_type="\u200bplay_video\ufeff", name="play\u200d_video")
    row = run(tmp_path, [line(record)]).event()
    assert row["event_type"] == "play_video"
    assert row["event_name"] is None  # the same name once cleaned


def test_event_name_is_kept_where_it_differs(tmp_path: Path) -> None:
    record = browser_event(event_type="edx.video.played", name="play_video", event_source="mobile")
    row = run(tmp_path, [line(record)]).event()
    assert (row["event_type"], row["event_name"]) == ("edx.video.played", "play_video")


def test_non_ascii_usernames_and_payloads(tmp_path: Path) -> None:
    record = server_event(
        username="José_Ñúñez_学生",
        event_type="edx.forum.thread.created",
        event={"body": "Pourquoi ça ne marche pas ? 🤔", "title": "Задача 3"},
    )
    row = run(tmp_path, [line(record)]).event()
    assert row["username"] == "José_Ñúñez_学生"
    assert json.loads(row["event_payload"])["body"] == "Pourquoi ça ne marche pas ? 🤔"


def test_very_large_events(tmp_path: Path) -> None:
    big = server_event(
        event={"state": {"student_answers": {f"q{i}": "x" * 100 for i in range(600)}}}
    )
    text = line(big)
    assert len(text) > 60_000
    result = run(tmp_path, [text, text[:-1]])  # a big event, and the same cut short
    row = result.events[0]
    assert len(json.loads(row["event_payload"])["state"]["student_answers"]) == 600
    assert result.reasons() == {2: "truncated_json"}
    assert len(result.quarantine[0]["raw_line"]) == QUARANTINE_RAW_LINE_MAX
    assert result.quarantine[0]["raw_line_bytes"] == len(text) - 1


# -- files, chunks, accounting ---------------------------------------------------------------------


def _mixed_lines(count: int) -> list[str | bytes]:
    lines: list[str | bytes] = []
    for i in range(count):
        if i % 97 == 5:
            lines.append("")
        elif i % 89 == 7:
            lines.append(line(server_event())[:50])
        elif i % 3 == 0:
            lines.append(line(browser_event(username=f"u{i}")))
        else:
            lines.append(
                line(
                    server_event(
                        username=f"u{i}",
                        context=json.dumps({"user_id": i})
                        if i % 50 == 1
                        else {"user_id": i, "course_id": COURSE},
                    )
                )
            )
    return lines


def test_crlf_line_endings(tmp_path: Path) -> None:
    body = line(server_event())
    source = write_log(tmp_path / "crlf.log", [body, "", body], newline=b"\r\n")
    out = tmp_path / "out"
    result = Run(normalize_files([source], out / "events.parquet", out / "quarantine.parquet"), out)
    assert [row["line_number"] for row in result.events] == [1, 3]
    assert result.reasons() == {2: "blank"}
    assert result.events[0]["event_id"] == xxhash.xxh3_128_hexdigest(body.encode())


def test_gzip_and_plain_input_give_the_same_events(tmp_path: Path) -> None:
    lines = _mixed_lines(300)
    plain = write_log(tmp_path / "a.log", lines)
    zipped = write_log(tmp_path / "a.log.gz", lines)
    normalize_files([plain], tmp_path / "p" / "e.parquet", tmp_path / "p" / "q.parquet")
    normalize_files([zipped], tmp_path / "z" / "e.parquet", tmp_path / "z" / "q.parquet")
    drop = ["source_file"]
    assert (
        pq.read_table(tmp_path / "p" / "e.parquet")
        .drop(drop)
        .equals(pq.read_table(tmp_path / "z" / "e.parquet").drop(drop))
    )


def test_concatenated_gzip_members_are_all_read(tmp_path: Path) -> None:
    source = tmp_path / "rotated.log.gz"
    source.write_bytes(
        gzip.compress((line(server_event()) + "\n").encode())
        + gzip.compress((line(browser_event()) + "\n").encode())
    )
    out = tmp_path / "out"
    result = Run(normalize_files([source], out / "events.parquet", out / "quarantine.parquet"), out)
    assert [row["event_type"] for row in result.events] == ["problem_check", "play_video"]


def test_multiple_files_per_day_keep_their_own_line_numbers(tmp_path: Path) -> None:
    first = write_log(
        tmp_path / "tracking.log-1.gz", [line(server_event()), "# c", line(browser_event())]
    )
    second = write_log(
        tmp_path / "tracking.log-2", [line(browser_event()), line(server_event())[:10]]
    )
    out = tmp_path / "out"
    summary = normalize_files(
        [first, str(second)], out / "events.parquet", out / "quarantine.parquet", source_name="mitx"
    )
    result = Run(summary, out)
    assert [(Path(r["source_file"]).name, r["line_number"]) for r in result.events] == [
        ("tracking.log-1.gz", 1),
        ("tracking.log-1.gz", 3),
        ("tracking.log-2", 1),
    ]
    assert [
        (Path(r["source_file"]).name, r["line_number"], r["reason"]) for r in result.quarantine
    ] == [
        ("tracking.log-1.gz", 2, "comment"),
        ("tracking.log-2", 2, "truncated_json"),
    ]
    assert {r["source_name"] for r in result.events + result.quarantine} == {"mitx"}
    assert summary.files == [str(first), str(second)]
    assert summary.lines_read == 5
    assert summary.bytes_in == first.stat().st_size + second.stat().st_size
    assert (
        summary.bytes_out
        == (out / "events.parquet").stat().st_size + (out / "quarantine.parquet").stat().st_size
    )
    assert summary.event_types_seen == {"problem_check": 1, "play_video": 2}


def test_small_chunks_give_exactly_the_same_output(tmp_path: Path) -> None:
    lines = _mixed_lines(1000)
    source = write_log(tmp_path / "day.log.gz", lines)
    big = normalize_files([source], tmp_path / "a" / "e.parquet", tmp_path / "a" / "q.parquet")
    small = normalize_files(
        [source],
        tmp_path / "b" / "e.parquet",
        tmp_path / "b" / "q.parquet",
        chunk_lines=37,
        chunk_bytes=4096,
    )
    ignored = {"seconds": 0, "events_per_second": 0, "bytes_out": 0}
    assert big.to_dict() | ignored == small.to_dict() | ignored
    for name in ("e.parquet", "q.parquet"):
        assert pq.read_table(tmp_path / "a" / name).equals(pq.read_table(tmp_path / "b" / name))
    events = pq.read_table(tmp_path / "a" / "e.parquet")
    assert events.column("line_number").to_pylist() == sorted(
        events.column("line_number").to_pylist()
    )
    assert big.lines_read == 1000
    assert big.lines_read == big.events_written + big.quarantined


def test_rerunning_gives_identical_output(tmp_path: Path) -> None:
    source = write_log(tmp_path / "day.log.gz", _mixed_lines(500))
    out = tmp_path / "out"
    normalize_files([source], out / "events.parquet", out / "quarantine.parquet")
    first = ((out / "events.parquet").read_bytes(), (out / "quarantine.parquet").read_bytes())
    normalize_files([source], out / "events.parquet", out / "quarantine.parquet")
    assert (
        (out / "events.parquet").read_bytes(),
        (out / "quarantine.parquet").read_bytes(),
    ) == first
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "quarantine.parquet"]


def test_event_id_is_a_stable_hash_of_the_raw_line(tmp_path: Path) -> None:
    text = '{"event_type": "play_video", "time": "2026-03-01T00:00:00Z", "username": "a"}'
    result = run(tmp_path, [text, text, "Mar  1 00:00:00 h tracking: " + text])
    ids = [row["event_id"] for row in result.events]
    assert ids[0] == ids[1] == xxhash.xxh3_128_hexdigest(text.encode())
    # Pinned: the id must not change between releases (the lake dedups on it).
    assert ids[0] == PINNED_EVENT_ID
    assert ids[2] != ids[0]


PINNED_EVENT_ID = "c8bd05dcc3361ef374c80a1b955b7b60"


def test_an_empty_file_writes_empty_typed_outputs(tmp_path: Path) -> None:
    source = tmp_path / "empty.log.gz"
    source.write_bytes(gzip.compress(b""))
    out = tmp_path / "out"
    result = Run(normalize_files([source], out / "events.parquet", out / "quarantine.parquet"), out)
    assert result.summary.lines_read == 0
    assert result.events == []
    assert result.quarantine == []


def test_a_last_line_without_newline_counts(tmp_path: Path) -> None:
    source = tmp_path / "day.log"
    source.write_text(line(server_event()) + "\n" + line(browser_event()))
    out = tmp_path / "out"
    result = Run(normalize_files([source], out / "events.parquet", out / "quarantine.parquet"), out)
    assert [row["line_number"] for row in result.events] == [1, 2]


def test_a_failure_midway_leaves_no_output_and_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ol_orchestrate.lib.tracking_logs import normalize as module

    source = write_log(tmp_path / "day.log.gz", _mixed_lines(400))
    out = tmp_path / "out"
    out.mkdir()
    (out / "events.parquet").write_bytes(b"previous version")
    calls = {"n": 0}
    original = module._ChunkNormalizer.normalize

    def failing(self: Any, prepared: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return original(self, prepared)

    monkeypatch.setattr(module._ChunkNormalizer, "normalize", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        normalize_files(
            [source], out / "events.parquet", out / "quarantine.parquet", chunk_lines=50
        )
    assert calls["n"] == 3  # it failed after writing two chunks
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet"]
    assert (out / "events.parquet").read_bytes() == b"previous version"


def test_summary_to_dict(tmp_path: Path) -> None:
    result = run(tmp_path, [line(server_event()), line(browser_event()), line(browser_event()), ""])
    summary = result.summary.to_dict()
    assert summary["lines_read"] == 4
    assert summary["events_written"] == 3
    assert summary["quarantined_by_reason"] == {"blank": 1}
    assert summary["event_types_seen"] == {"play_video": 2, "problem_check": 1}
    assert json.loads(json.dumps(summary)) == summary
