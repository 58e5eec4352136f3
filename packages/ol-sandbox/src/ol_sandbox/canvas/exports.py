"""Canvas content exports: the export job record and the `.imscc` (Common Cartridge) builder.

The builder is pure: `build_imscc(course, exported_at, revision)` gives the file's bytes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from ol_sandbox.canvas.data import CanvasCourse
from ol_sandbox.data import iso_z


@dataclass
class ContentExport:
    """One content export job: its workflow state and, once exported, the file's bytes."""

    id: int
    course_id: int
    export_type: str
    created_at: str
    polls: int = 0
    workflow_state: str = "created"
    attachment_id: int | None = None
    data: bytes | None = None


def build_imscc(course: CanvasCourse, exported_at: datetime, revision: int = 0) -> bytes:
    """A Common Cartridge 1.1 zip of `course`, as Canvas exports it (much abridged).

    Only the manifest's metadata dates and the zip entries' timestamps depend on `exported_at`:
    exporting an unchanged course twice gives different bytes but the same content. `revision`
    stands for edits to the course (a higher revision changes the course settings).
    """
    stamp = iso_z(exported_at)
    ident = f"g{hashlib.md5(str(course.id).encode(), usedforsecurity=False).hexdigest()}"
    members: list[tuple[str, bytes]] = []
    resources: list[str] = []

    settings = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<course identifier="{ident}" xmlns="http://canvas.instructure.com/xsd/cccv1p0">\n'
        f"  <title>{escape(course.name)}</title>\n"
        f"  <course_code>{escape(course.course_code)}</course_code>\n"
        f"  <start_at>{course.start_at or ''}</start_at>\n"
        f"  <conclude_at>{course.end_at or ''}</conclude_at>\n"
        f"  <default_view>{course.default_view}</default_view>\n"
        f"  <revision>{revision}</revision>\n"
        "</course>\n"
    )
    members.append(("course_settings/course_settings.xml", settings.encode()))
    module_meta = "".join(
        f'  <module identifier="m{m.id}"><title>{escape(m.name)}</title>'
        f"<position>{m.position}</position><items>"
        + "".join(
            f'<item identifier="i{i.id}"><content_type>{i.type}</content_type>'
            f"<title>{escape(i.title)}</title><position>{i.position}</position></item>"
            for i in m.items
        )
        + "</items></module>\n"
        for m in course.modules
    )
    members.append(
        ("course_settings/module_meta.xml", f"<modules>\n{module_meta}</modules>\n".encode())
    )
    resources.append(
        f'<resource identifier="{ident}_settings" type="associatedcontent/imscc_xmlv1p1/'
        'learning-application-resource" href="course_settings/canvas_export.txt">'
        '<file href="course_settings/course_settings.xml"/>'
        '<file href="course_settings/module_meta.xml"/></resource>'
    )
    for page in course.pages:
        href = f"wiki_content/{page.url}.html"
        members.append((href, f"<html><body>{page.body}</body></html>\n".encode()))
        resources.append(
            f'<resource identifier="p{page.id}" type="webcontent" href="{href}">'
            f'<file href="{href}"/></resource>'
        )
    for assignment in course.assignments:
        folder = f"a{assignment.id}"
        xml = (
            f'<assignment identifier="{folder}"><title>{escape(assignment.name)}</title>'
            f"<due_at>{assignment.due_at or ''}</due_at>"
            f"<points_possible>{assignment.points_possible}</points_possible>"
            f"<grading_type>{assignment.grading_type}</grading_type></assignment>\n"
        )
        members.append((f"{folder}/assignment_settings.xml", xml.encode()))
        resources.append(
            f'<resource identifier="{folder}" type="associatedcontent/imscc_xmlv1p1/'
            f'learning-application-resource" href="{folder}/assignment_settings.xml">'
            f'<file href="{folder}/assignment_settings.xml"/></resource>'
        )
    folders = {f.id: f for f in course.folders}
    for file in course.files:
        prefix = folders[file.folder_id].full_name.removeprefix("course files").strip("/")
        href = "/".join(p for p in ("web_resources", prefix, file.filename) if p)
        members.append((href, file.content()))
        resources.append(
            f'<resource identifier="f{file.id}" type="webcontent" href="{href}">'
            f'<file href="{href}"/></resource>'
        )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<manifest identifier="{ident}" '
        'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1" '
        'xmlns:lom="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource" '
        'xmlns:lomimscc="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest">\n'
        "  <metadata>\n    <schema>IMS Common Cartridge</schema>\n"
        "    <schemaversion>1.1.0</schemaversion>\n    <lomimscc:lom>\n"
        "      <lomimscc:general><lomimscc:title><lomimscc:string>"
        f"{escape(course.name)}</lomimscc:string></lomimscc:title></lomimscc:general>\n"
        "      <lomimscc:lifeCycle><lomimscc:contribute><lomimscc:date>"
        f"<lomimscc:dateTime>{stamp[:10]}</lomimscc:dateTime>"
        "</lomimscc:date></lomimscc:contribute></lomimscc:lifeCycle>\n"
        "      <lomimscc:rights><lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes"
        "</lomimscc:value></lomimscc:copyrightAndOtherRestrictions><lomimscc:description>"
        "<lomimscc:string>Private (Copyrighted) - http://en.wikipedia.org/wiki/Copyright"
        "</lomimscc:string></lomimscc:description></lomimscc:rights>\n"
        "    </lomimscc:lom>\n  </metadata>\n"
        f'  <organizations><organization identifier="org_1" structure="rooted-hierarchy">'
        f'<item identifier="LearningModules"/></organization></organizations>\n'
        f"  <resources>\n    {chr(10).join('    ' + r for r in resources).strip()}\n"
        "  </resources>\n"
        f"  <!-- exported {stamp} -->\n"
        "</manifest>\n"
    )
    buffer = io.BytesIO()
    zip_time = exported_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("imsmanifest.xml", manifest.encode()), *members]:
            info = zipfile.ZipInfo(name, date_time=zip_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
