"""The OLX parser: pointers, inline blocks, policy overrides, drafts and usage keys."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ol_orchestrate.lib.olx import OlxError, OlxFiles, parse_olx

COURSE_XML = '<course url_name="2012_Fall" org="MITx" course="6.002x"/>'
RUN_XML = (
    '<course display_name="Circuits">'
    '<chapter url_name="week1"/>'  # a pointer: chapter/week1.xml
    '<chapter url_name="week2" display_name="Week 2"><sequential url_name="hw2" graded="true" '
    'format="Homework"><vertical url_name="v2"><problem url_name="p2" display_name="Q2">'
    "<choiceresponse/></problem></vertical></sequential></chapter>"  # inline
    "</course>"
)
FILES = {
    "course.xml": COURSE_XML,
    "course/2012_Fall.xml": RUN_XML,
    "chapter/week1.xml": '<chapter display_name="Week 1"><sequential url_name="lec1"/></chapter>',
    "sequential/lec1.xml": (
        '<sequential display_name="Lecture 1"><vertical url_name="v1" display_name="Unit 1">'
        '<video url_name="vid1"/><html url_name="intro"/>'
        '<peergrading url_name="old" display_name="Retired"><rubric/></peergrading>'
        "</vertical></sequential>"
    ),
    "video/vid1.xml": '<video display_name="Intro video"><source src="v.mp4"/></video>',
    "html/intro.xml": '<html display_name="Intro" filename="intro"/>',
    "policies/2012_Fall/policy.json": (
        '{"course/2012_Fall": {"start": "2012-09-05T12:00:00Z", "end": "2012-12-20T00:00:00Z"},'
        ' "chapter/week1": {"display_name": "Week 1 (policy)"}}'
    ),
    "policies/2012_Fall/grading_policy.json": '{"GRADE_CUTOFFS": {"Pass": 0.5}}',
    "drafts/vertical/draft.xml": (
        '<vertical display_name="Draft"><problem url_name="dp"/></vertical>'
    ),
}


def write_export(root: Path) -> Path:
    for name, body in FILES.items():
        path = root / "course" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root


def tar_export(files: dict[str, str]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for name, body in files.items():
            data = body.encode()
            info = tarfile.TarInfo(f"export/course/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return raw.getvalue()


@pytest.fixture(params=["folder", "tar.gz", "bytes"])
def export(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path | bytes:
    if request.param == "folder":
        return write_export(tmp_path)
    data = tar_export(FILES)
    if request.param == "bytes":
        return data
    path = tmp_path / "course.xml.tar.gz"
    path.write_bytes(data)
    return path


def test_pointers_and_inline_blocks_in_depth_first_order(export: str | Path | bytes) -> None:
    course = parse_olx(export, course_key="MITx/6.002x/2012_Fall")
    assert [(b.block_type, b.url_name, b.depth, b.position) for b in course.blocks] == [
        ("course", "2012_Fall", 0, 0),
        ("chapter", "week1", 1, 0),
        ("sequential", "lec1", 2, 0),
        ("vertical", "v1", 3, 0),
        ("video", "vid1", 4, 0),
        ("html", "intro", 4, 1),
        ("peergrading", "old", 4, 2),  # a retired block type, kept with its type
        ("chapter", "week2", 1, 1),
        ("sequential", "hw2", 2, 0),
        ("vertical", "v2", 3, 0),
        ("problem", "p2", 4, 0),
    ]
    assert [b.index for b in course.blocks] == list(range(11))
    by_name = {b.url_name: b for b in course.blocks}
    assert by_name["vid1"].display_name == "Intro video"  # from the pointer's file
    assert by_name["week1"].display_name == "Week 1 (policy)"  # policy.json wins over XML
    assert by_name["hw2"].graded
    assert by_name["hw2"].format == "Homework"
    assert by_name["p2"].parent_usage_key == by_name["v2"].usage_key
    assert course.settings["start"] == "2012-09-05T12:00:00Z"
    assert course.grading_policy == {"GRADE_CUTOFFS": {"Pass": 0.5}}
    assert course.display_name == "Circuits"


def test_drafts_are_never_published_blocks(export: str | Path | bytes) -> None:
    course = parse_olx(export)
    assert course.draft_files == 1
    assert "dp" not in {b.url_name for b in course.blocks}
    assert course.block_counts()["vertical"] == 2


def test_legacy_courses_get_i4x_keys_and_new_ones_block_v1(tmp_path: Path) -> None:
    root = write_export(tmp_path)
    legacy = parse_olx(root, course_key="MITx/6.002x/2012_Fall")
    assert legacy.course_key == "MITx/6.002x/2012_Fall"
    assert legacy.blocks[0].usage_key == "i4x://MITx/6.002x/course/2012_Fall"
    assert legacy.blocks[-1].usage_key == "i4x://MITx/6.002x/problem/p2"
    default = parse_olx(root)  # no key given: course-v1 from course.xml
    assert default.course_key == "course-v1:MITx+6.002x+2012_Fall"
    assert default.blocks[-1].usage_key == "block-v1:MITx+6.002x+2012_Fall+type@problem+block@p2"


def test_a_dangling_pointer_is_reported_and_kept(tmp_path: Path) -> None:
    files = dict(FILES)
    del files["video/vid1.xml"]
    course = parse_olx(tar_export(files))
    assert "vid1" in {b.url_name for b in course.blocks}
    assert any("video/vid1" in problem for problem in course.problems)


def test_no_course_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(OlxError, match=r"course\.xml"):
        parse_olx(tmp_path)
    with pytest.raises(OlxError):
        parse_olx(b"not a tarball")
    with pytest.raises(FileNotFoundError):
        parse_olx(tmp_path / "missing.tar.gz")


def test_entities_are_refused() -> None:
    files = dict(FILES)
    files["html/intro.xml"] = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><html display_name="&a;"/>'
    )
    course = parse_olx(
        OlxFiles(
            {name: body.encode() for name, body in files.items() if name != "course/2012_Fall.xml"}
            | {"course/2012_Fall.xml": RUN_XML.encode()}
        )
    )
    assert any("html/intro" in problem for problem in course.problems)
