"""edX.org archives: member names, the TSV and Mongo readers, and exploding an archive."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from upath import UPath

from ol_orchestrate.lib.edxorg import (
    ArchiveReadError,
    explode_archive,
    manifest_rows,
    parse_archive_name,
    parse_member_name,
    previous_outputs,
)
from ol_orchestrate.lib.edxorg.mongo import decode_extended_json, read_mongo
from ol_orchestrate.lib.edxorg.naming import COURSE_STRUCTURE, COURSE_XML, FORUM, TABLE, UNKNOWN
from ol_orchestrate.lib.edxorg.tsv import read_tsv, unescape

# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "kind", "course_id", "site", "name"),
    [
        (
            "mitx-2026-01-12/MITx-6.002x-2012_Fall-auth_user-prod-analytics.sql",
            TABLE,
            "MITx/6.002x/2012_Fall",
            "prod",
            "auth_user",
        ),
        (
            "course-v1-MITx-6.00.1x-2T2026-courseware_studentmodule-edge-analytics.sql",
            TABLE,
            "course-v1:MITx+6.00.1x+2T2026",
            "edge",
            "courseware_studentmodule",
        ),
        (
            "course-v1-MITx-6.00.1x-2T2026-ccx-3-student_courseenrollment-prod-analytics.sql",
            TABLE,
            "ccx-v1:MITx+6.00.1x+2T2026+ccx@3",
            "prod",
            "student_courseenrollment",
        ),
        (  # a course number holding hyphens: org and run never do
            "MITx-6.00-1-x-3T2014-user_id_map-prod-analytics.sql",
            TABLE,
            "MITx/6.00-1-x/3T2014",
            "prod",
            "user_id_map",
        ),
        ("MITx-6.002x-2012_Fall-prod.mongo", FORUM, "MITx/6.002x/2012_Fall", "prod", None),
        (
            "course-v1-MITx-8.01x-1T2026-course_structure-prod-analytics.json",
            COURSE_STRUCTURE,
            "course-v1:MITx+8.01x+1T2026",
            "prod",
            "course_structure",
        ),
        (
            "MITx-8.01x-2013_Spring-course-edge-analytics.xml.tar.gz",
            COURSE_XML,
            "MITx/8.01x/2013_Spring",
            "edge",
            "course",
        ),
        (
            "course-v1-MITx-8.01x-1T2026-prod-analytics.xml.tar.gz",
            COURSE_XML,
            "course-v1:MITx+8.01x+1T2026",
            "prod",
            None,
        ),
    ],
    ids=[
        "legacy",
        "course-v1-edge",
        "ccx",
        "hyphenated-number",
        "mongo",
        "structure",
        "xml",
        "xml-without-name",
    ],
)
def test_member_names_are_parsed_from_the_right(
    member: str, kind: str, course_id: str, site: str, name: str | None
) -> None:
    parsed = parse_member_name(member)
    assert (parsed.kind, parsed.course_id, parsed.source_system, parsed.name) == (
        kind,
        course_id,
        site,
        name,
    )


@pytest.mark.parametrize(
    "member",
    [
        "mitx-2026-01-12/README.txt",
        "MITx-6.002x-2012_Fall-auth_user-staging-analytics.sql",  # not prod or edge
        "auth_user-prod-analytics.sql",  # no course
        "MITx-6.002x-2012_Fall-whatever-prod-analytics.json",  # a JSON that is not the structure
    ],
)
def test_other_members_are_unknown(member: str) -> None:
    assert parse_member_name(member).kind == UNKNOWN


def test_archive_names() -> None:
    name = parse_archive_name("mitx/mitx-2026-01-12.tar.gz")
    assert name is not None
    assert (name.org, name.archive_date, name.stem) == ("mitx", "2026-01-12", "mitx-2026-01-12")
    assert parse_archive_name("mitx-2026-13-12.tar.gz") is None
    assert parse_archive_name("mitx-2026-01-12.zip") is None


# -- TSV ---------------------------------------------------------------------------------------


def test_tsv_null_literals_escapes_and_embedded_json() -> None:
    state = '{"answer": "a\\tb", "path": "C:\\\\x"}'  # JSON text holding a backslash escape
    escaped_state = state.replace("\\", "\\\\")
    body = (
        "id\tname\tgoals\tstate\tcreated\n"
        f"1\tO'Brien \\\\ MIT\tline one\\nline\\ttwo\t{escaped_state}\t2013-02-14 09:12:33\n"
        "2\tNULL\t\tNULL\t2026-01-08 10:11:12.123456\n"
    ).encode()
    table = read_tsv(body)
    assert table.header == ["id", "name", "goals", "state", "created"]
    rows = [row.values for row in table.rows]
    assert rows[0] == {
        "id": "1",
        "name": "O'Brien \\ MIT",
        "goals": "line one\nline\ttwo",
        "state": state,
        "created": "2013-02-14 09:12:33",  # naive UTC text, kept as written
    }
    assert json.loads(rows[0]["state"]) == {"answer": "a\tb", "path": "C:\\x"}
    assert rows[1] == {
        "id": "2",
        "name": None,
        "goals": "",
        "state": None,
        "created": "2026-01-08 10:11:12.123456",
    }
    assert unescape("\\0\\r\\Z\\q") == "\0\r\x1aq"


def test_tsv_lines_that_are_not_rows() -> None:
    body = b"a\tb\n1\t2\n1\t2\t3\n\xff\xfe\t1\n\n"
    rows = list(read_tsv(body).rows)
    assert [(r.line_number, r.reason) for r in rows] == [
        (2, None),
        (3, "field_count"),
        (4, "invalid_utf8"),
        (5, "blank_line"),
    ]
    assert read_tsv(b"").header == []
    assert list(read_tsv(b"a\tb\n").rows) == []


# -- Mongo -------------------------------------------------------------------------------------


def test_mongo_extended_json() -> None:
    document = {
        "_id": {"$oid": "5f1e2d3c4b5a69788796a5b4"},
        "created_at": {"$date": "2026-01-08T10:00:00.000Z"},
        "updated_at": {"$date": {"$numberLong": "1767866400000"}},
        "last_activity_at": {"$date": 1767866400123},
        "votes": {"up_count": {"$numberInt": "3"}, "point": {"$numberLong": "-1"}},
        "score": {"$numberDouble": "0.5"},
        "tags": [{"$oid": "000000000000000000000001"}],
    }
    assert decode_extended_json(document) == {
        "_id": "5f1e2d3c4b5a69788796a5b4",
        "created_at": "2026-01-08T10:00:00Z",
        "updated_at": "2026-01-08T10:00:00Z",
        "last_activity_at": "2026-01-08T10:00:00.123Z",
        "votes": {"up_count": 3, "point": -1},
        "score": 0.5,
        "tags": ["000000000000000000000001"],
    }
    lines = b'{"_id": {"$oid": "a"}}\n\n{"_id": \n[1]\n'
    parsed = list(read_mongo(lines))
    assert [(d.line_number, d.reason) for d in parsed] == [
        (1, None),
        (3, "invalid_json"),
        (4, "not_an_object"),
    ]


# -- exploding ---------------------------------------------------------------------------------

COURSE = "MITx-6.002x-2012_Fall"
ENROLLMENT_HEADER = "id\tuser_id\tcourse_id\tcreated\tis_active\tmode"


def tsv(header: str, *rows: str) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def members(profile_header: str, profile_row: str) -> dict[str, bytes]:
    forum = [
        json.dumps(
            {
                "_id": {"$oid": "aa"},
                "_type": "CommentThread",
                "course_id": "MITx/6.002x/2012_Fall",
                "author_id": "7",
                "author_username": "ann",
                "title": "Q",
                "body": "?",
                "created_at": {"$date": "2026-01-08T10:00:00.000Z"},
                "votes": {"up_count": 2},
                "comment_count": 1,
                "pinned": False,
            }
        ),
        json.dumps(
            {
                "_id": {"$oid": "bb"},
                "_type": "Comment",
                "comment_thread_id": {"$oid": "aa"},
                "course_id": "MITx/6.002x/2012_Fall",
                "author_id": "8",
                "body": "!",
                "endorsed": True,
            }
        ),
        '{"_id": {"$oid": "cc"}, "_type": "Comm',
    ]
    return {
        f"mitx-2026-01-12/{COURSE}-student_courseenrollment-prod-analytics.sql": tsv(
            ENROLLMENT_HEADER,
            "1\t7\tMITx/6.002x/2012_Fall\t2013-02-14 09:12:33\t1\taudit",
            "2\t8\tMITx/6.002x/2012_Fall\tNULL\t0\tverified",
            "NULL\t9\tMITx/6.002x/2012_Fall\tNULL\t1\thonor",  # a null id
            "3\t9\tshort row",
        ),
        f"mitx-2026-01-12/{COURSE}-auth_userprofile-prod-analytics.sql": tsv(
            profile_header, profile_row
        ),
        f"mitx-2026-01-12/{COURSE}-courseware_studentmodulehistory-prod-analytics.sql": tsv(
            "id", "1"
        ),
        f"mitx-2026-01-12/{COURSE}-prod.mongo": ("\n".join(forum) + "\n").encode(),
        "mitx-2026-01-12/README.txt": b"hello",
    }


FIRST_PROFILE = ("id\tuser_id\tname\tgender\tyear_of_birth", "1\t7\tAnn\tf\t1990")
# The next delivery: a column added (goals, declared), two swapped, one new (not declared).
LATER_PROFILE = (
    "id\tuser_id\tyear_of_birth\tname\tgoals\tgender\tphone",
    "1\t7\t1990\tAnn\tto learn\tf\t555",
)


def tar_gz(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def explode(source: Path | bytes, out: Path, previous=None):  # type: ignore[no-untyped-def]
    if isinstance(source, bytes):
        path = out.parent / "archive.tar.gz"
        path.write_bytes(source)
        source = path
    root = UPath(out)
    return explode_archive(
        source,
        lambda table, stem: root / table / f"{stem}.parquet",
        lambda table, stem: root / "quarantine" / table / f"{stem}.jsonl",
        archive_date="2026-01-12",
        retrieved_at="2026-01-12T06:00:00Z",
        previous=previous,
    )


def test_explode_lands_rows_and_quarantines_the_rest(tmp_path: Path) -> None:
    summary = explode(tar_gz(members(*FIRST_PROFILE)), tmp_path / "out")
    report = summary.to_dict()
    assert report["tables"]["student_courseenrollment"] == 2
    assert report["quarantined"] == {"field_count": 1, "invalid_json": 1, "missing id": 1}
    assert report["forum_documents"] == 2
    assert report["files"]["mitx-2026-01-12/README.txt"]["kind"] == "unknown"
    undeclared = report["files"][
        f"mitx-2026-01-12/{COURSE}-courseware_studentmodulehistory-prod-analytics.sql"
    ]
    assert undeclared["status"] == "undeclared"
    for outcome in summary.tables().values():
        assert outcome.balanced, outcome
    enrollments = pq.read_table(
        tmp_path / "out" / "student_courseenrollment" / f"{COURSE}-prod.parquet"
    ).to_pylist()
    assert enrollments[0]["archive_course_id"] == "MITx/6.002x/2012_Fall"  # legacy kept
    assert enrollments[0]["is_active"] is True
    assert enrollments[1]["is_active"] is False
    assert enrollments[0]["created"] == "2013-02-14 09:12:33"
    assert enrollments[1]["created"] is None  # the NULL literal
    rejects = (
        tmp_path / "out" / "quarantine" / "student_courseenrollment" / f"{COURSE}-prod.jsonl"
    ).read_text()
    assert [json.loads(line)["reason"] for line in rejects.splitlines()] == [
        "field_count",
        "missing id",
    ]
    posts = pq.read_table(tmp_path / "out" / "forum_posts" / f"{COURSE}-prod.parquet").to_pylist()
    assert [(p["post_id"], p["thread_id"], p["votes_up"]) for p in posts] == [
        ("aa", "aa", 2),
        ("bb", "aa", None),
    ]
    assert posts[0]["created_at"] == "2026-01-08T10:00:00Z"
    assert json.loads(posts[0]["extra_columns"]) == {"pinned": False}


def test_a_header_that_changed_between_deliveries_lands_by_name(tmp_path: Path) -> None:
    explode(tar_gz(members(*FIRST_PROFILE)), tmp_path / "first")
    explode(tar_gz(members(*LATER_PROFILE)), tmp_path / "later")
    name = f"auth_userprofile/{COURSE}-prod.parquet"
    first = pq.read_table(tmp_path / "first" / name)
    later = pq.read_table(tmp_path / "later" / name)
    assert first.schema == later.schema  # the declared columns, whatever the header
    first_row, later_row = first.to_pylist()[0], later.to_pylist()[0]
    assert (first_row["year_of_birth"], first_row["gender"], first_row["goals"]) == (
        1990,
        "f",
        None,
    )
    assert (later_row["year_of_birth"], later_row["gender"], later_row["goals"]) == (
        1990,
        "f",
        "to learn",
    )
    assert first_row["extra_columns"] is None
    assert json.loads(later_row["extra_columns"]) == {"phone": "555"}


def test_a_folder_of_members_explodes_like_the_archive(tmp_path: Path) -> None:
    folder = tmp_path / "mitx-2026-01-12"
    for name, body in members(*FIRST_PROFILE).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    from_folder = explode(folder, tmp_path / "a").to_dict()
    from_archive = explode(tar_gz(members(*FIRST_PROFILE)), tmp_path / "b").to_dict()
    assert from_folder["tables"] == from_archive["tables"]
    assert from_folder["quarantined"] == from_archive["quarantined"]


def test_a_redelivered_archive_rewrites_only_what_changed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = explode(tar_gz(members(*FIRST_PROFILE)), out)
    previous = previous_outputs(pa.Table.from_pylist(manifest_rows(first, "k", "etag1", "t")))
    enrollments = out / "student_courseenrollment" / f"{COURSE}-prod.parquet"
    profiles = out / "auth_userprofile" / f"{COURSE}-prod.parquet"
    os.utime(enrollments, (1, 1))
    os.utime(profiles, (1, 1))
    second = explode(tar_gz(members(*LATER_PROFILE)), out, previous=previous)
    statuses = {o.table: o.status for o in second.members if o.table}
    assert statuses["student_courseenrollment"] == "unchanged"
    assert statuses["auth_userprofile"] == "written"
    assert enrollments.stat().st_mtime == 1  # not rewritten
    assert profiles.stat().st_mtime != 1
    unchanged = second.tables()["student_courseenrollment"]
    assert (unchanged.files_unchanged, unchanged.rows_written, unchanged.rows_quarantined) == (
        1,
        2,
        2,
    )


def test_a_truncated_archive_lands_nothing(tmp_path: Path) -> None:
    data = tar_gz(members(*FIRST_PROFILE))
    with pytest.raises(ArchiveReadError, match="truncated or corrupt"):
        explode(data[: len(data) // 2], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ArchiveReadError):
        explode(b"not an archive at all", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_redelivered_archive_without_a_member_drops_its_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first_members = members(*FIRST_PROFILE)
    first = explode(tar_gz(first_members), out)
    previous = previous_outputs(pa.Table.from_pylist(manifest_rows(first, "k", "etag1", "t")))
    forum = out / "forum_posts" / f"{COURSE}-prod.parquet"
    forum_rejects = out / "quarantine" / "forum_posts" / f"{COURSE}-prod.jsonl"
    assert forum.exists()
    assert forum_rejects.exists()
    without_forum = {k: v for k, v in first_members.items() if not k.endswith(".mongo")}
    explode(tar_gz(without_forum), out, previous=previous)
    assert not forum.exists()
    assert not forum_rejects.exists()
    assert (out / "student_courseenrollment" / f"{COURSE}-prod.parquet").exists()
