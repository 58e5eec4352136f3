"""A course's OLX export as Studio writes it: a `.tar.gz` whose root folder is `course/`.

Small but real: `course.xml` (the run, org and number), the run file `course/<run>.xml`, one
file per chapter, sequential, vertical, problem, video and html block (every child a
`url_name` pointer, as Studio exports them), an html block's `.html` body, the course settings
and grading policy under `policies/<run>/`, and the about page. Graded subsections carry
`graded`, `format` and `due`. Deterministic: the same course gives the same bytes (tar and gzip
without timestamps), so a test can compare exports.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from typing import Any
from xml.sax.saxutils import quoteattr

from ol_sandbox.data import Block, CourseRun

ROOT = "course"


def _attributes(**values: Any) -> str:
    return "".join(f" {name}={quoteattr(str(value))}" for name, value in values.items() if value)


def _block_attributes(block: Block) -> str:
    return _attributes(
        display_name=block.display_name,
        graded="true" if block.graded else None,
        format=block.format,
        due=block.due,
    )


def _problem(block: Block) -> str:
    # A multiple-choice problem with a label, a hint and a solution, as Studio saves one.
    return (
        f'<problem{_block_attributes(block)} max_attempts="3" weight="1.0">\n'
        "  <multiplechoiceresponse>\n"
        "    <label>Which of these is a passive component?</label>\n"
        '    <choicegroup type="MultipleChoice">\n'
        '      <choice correct="false">Transistor</choice>\n'
        '      <choice correct="true">Resistor <choicehint>Right: R = V / I.</choicehint>'
        "</choice>\n"
        "    </choicegroup>\n"
        "  </multiplechoiceresponse>\n"
        '  <solution><div class="detailed-solution"><p>Résumé: a resistor.</p></div>'
        "</solution>\n"
        "</problem>\n"
    )


def _video(block: Block) -> str:
    youtube = block.block_id[:11]
    return (
        f'<video{_block_attributes(block)} youtube="1.00:{youtube}" '
        f'youtube_id_1_0="{youtube}" download_video="false" edx_video_id="">\n'
        f'  <source src="https://videos.example.edu/{block.block_id}.mp4"/>\n'
        f'  <transcript language="en" src="{block.block_id}-en.srt"/>\n'
        "</video>\n"
    )


def course_export_files(course: CourseRun) -> dict[str, bytes]:
    """The export's files by path inside the tarball (`course/...`), in a stable order."""
    by_key = {block.usage_key: block for block in course.blocks}
    run = course.run
    files: dict[str, str] = {
        "course.xml": f'<course url_name="{run}" org="{course.org}" course="{course.number}"/>\n'
    }
    root = course.blocks[0]

    def pointer(block: Block) -> str:
        return f'  <{block.block_type} url_name="{block.block_id}"/>\n'

    def write_block(block: Block) -> None:
        kind, name = block.block_type, block.block_id
        if kind == "problem":
            files[f"problem/{name}.xml"] = _problem(block)
        elif kind == "video":
            files[f"video/{name}.xml"] = _video(block)
        elif kind == "html":
            files[f"html/{name}.xml"] = f'<html filename="{name}"{_block_attributes(block)}/>\n'
            files[f"html/{name}.html"] = (
                f"<p>{block.display_name}: read §{name[:4]} before the next unit.</p>\n"
            )
        else:
            children = [by_key[child] for child in block.children]
            files[f"{kind}/{name}.xml"] = (
                f"<{kind}{_block_attributes(block)}>\n"
                + "".join(pointer(child) for child in children)
                + f"</{kind}>\n"
            )
            for child in children:
                write_block(child)

    chapters = [by_key[child] for child in root.children]
    files[f"course/{run}.xml"] = (
        f"<course{_attributes(display_name=course.name, language='en')}>\n"
        + "".join(pointer(chapter) for chapter in chapters)
        + "</course>\n"
    )
    for chapter in chapters:
        write_block(chapter)
    settings: dict[str, Any] = {
        "display_name": course.name,
        "start": course.start,
        "end": course.end,
        "enrollment_start": course.enrollment_start,
        "enrollment_end": course.enrollment_end,
        "self_paced": course.pacing == "self",
        "invitation_only": course.invitation_only,
        "mobile_available": course.mobile_available,
        "discussion_topics": {"General": {"id": "course"}},
        "tabs": [
            {"type": "courseware", "name": "Course"},
            {"type": "progress", "name": "Progress"},
            {"type": "discussion", "name": "Discussion"},
        ],
    }
    files[f"policies/{run}/policy.json"] = json.dumps(
        {f"course/{run}": {k: v for k, v in settings.items() if v is not None}},
        indent=4,
        sort_keys=True,
        ensure_ascii=False,
    )
    formats = sorted({block.format for block in course.blocks if block.format})
    files[f"policies/{run}/grading_policy.json"] = json.dumps(
        {
            "GRADER": [
                {"type": fmt, "min_count": 1, "drop_count": 0, "weight": round(1 / len(formats), 4)}
                for fmt in formats
            ],
            "GRADE_CUTOFFS": {"Pass": 0.5},
        },
        indent=4,
        sort_keys=True,
    )
    files["policies/assets.json"] = "{}"
    files["about/overview.html"] = (
        f'<section class="about"><p>{course.short_description}</p></section>\n'
    )
    return {f"{ROOT}/{path}": body.encode("utf-8") for path, body in files.items()}


def course_export(course: CourseRun) -> bytes:
    """The course's OLX export: a deterministic `.tar.gz` (no timestamps)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data in course_export_files(course).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
