"""Canvas API payloads: the JSON Canvas answers with, built from the sandbox's Canvas data.

`site` is the emulator's root URL (`<origin>/canvas`); absolute URLs in payloads start there.
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.sax.saxutils import escape

from ol_sandbox.canvas.data import (
    ROOT_ACCOUNT_ID,
    Assignment,
    AssignmentGroup,
    CanvasCourse,
    CanvasData,
    CanvasEnrollment,
    CanvasFile,
    CanvasUser,
    Folder,
    Module,
    ModuleItem,
    Page,
    Section,
    Submission,
    slug,
)
from ol_sandbox.canvas.exports import ContentExport


def course_json(
    data: CanvasData, course: CanvasCourse, include: set[str], site: str
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": course.id,
        "name": course.name,
        "account_id": course.account_id,
        "uuid": course.uuid,
        "start_at": course.start_at,
        "grading_standard_id": None,
        "is_public": course.is_public,
        "created_at": course.created_at,
        "course_code": course.course_code,
        "default_view": course.default_view,
        "root_account_id": ROOT_ACCOUNT_ID,
        "enrollment_term_id": course.enrollment_term_id,
        "license": "private",
        "grade_passback_setting": None,
        "end_at": course.end_at,
        "public_syllabus": False,
        "public_syllabus_to_auth": False,
        "storage_quota_mb": 500,
        "is_public_to_auth_users": False,
        "homeroom_course": False,
        "course_color": None,
        "friendly_name": None,
        "apply_assignment_group_weights": True,
        "calendar": {"ics": f"{site}/feeds/calendars/course_{course.uuid}.ics"},
        "time_zone": course.time_zone,
        "blueprint": False,
        "template": False,
        "sis_course_id": course.sis_course_id,
        "integration_id": None,
        "hide_final_grades": False,
        "workflow_state": course.workflow_state,
        "restrict_enrollments_to_course_dates": False,
    }
    if "term" in include:
        term = data.term(course.enrollment_term_id)
        payload["term"] = {
            "id": term.id,
            "name": term.name,
            "start_at": term.start_at,
            "end_at": term.end_at,
            "created_at": "2019-06-01T12:00:00Z",
            "workflow_state": "active",
            "grading_period_group_id": None,
        }
    if "account" in include:
        account = data.account(course.account_id)
        assert account is not None
        payload["account"] = {
            "id": account.id,
            "name": account.name,
            "workflow_state": "active",
            "parent_account_id": account.parent_account_id,
            "root_account_id": account.root_account_id,
            "uuid": hashlib.sha1(
                f"account:{account.id}".encode(), usedforsecurity=False
            ).hexdigest()[:40],
            "default_time_zone": "America/New_York",
        }
    return payload


def section_json(course: CanvasCourse, section: Section) -> dict[str, Any]:
    return {
        "id": section.id,
        "course_id": course.id,
        "name": section.name,
        "start_at": section.start_at,
        "end_at": section.end_at,
        "created_at": section.created_at,
        "restrict_enrollments_to_section_dates": section.restrict_enrollments_to_section_dates,
        "nonxlist_course_id": None,
        "sis_section_id": section.sis_section_id,
        "sis_course_id": course.sis_course_id,
        "integration_id": None,
        "sis_import_id": None,
    }


def user_json(user: CanvasUser, include: set[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "created_at": user.created_at,
        "sortable_name": user.sortable_name,
        "short_name": user.short_name,
        "sis_user_id": user.sis_user_id,
        "integration_id": None,
        "root_account": "canvas.example.edu",
        "login_id": user.login_id,
    }
    if "email" in include:
        payload["email"] = user.email
    return payload


def enrollment_json(
    data: CanvasData, course: CanvasCourse, enrollment: CanvasEnrollment, site: str
) -> dict[str, Any]:
    user = data.users[enrollment.user_id]
    payload: dict[str, Any] = {
        "id": enrollment.id,
        "user_id": enrollment.user_id,
        "course_id": course.id,
        "type": enrollment.type,
        "created_at": enrollment.created_at,
        "updated_at": enrollment.updated_at,
        "associated_user_id": None,
        "start_at": None,
        "end_at": None,
        "course_section_id": enrollment.section_id,
        "root_account_id": ROOT_ACCOUNT_ID,
        "limit_privileges_to_course_section": False,
        "enrollment_state": enrollment.enrollment_state,
        "role": enrollment.role,
        "role_id": enrollment.role_id,
        "last_activity_at": enrollment.last_activity_at,
        "last_attended_at": None,
        "total_activity_time": enrollment.total_activity_time,
        "sis_account_id": None,
        "sis_course_id": course.sis_course_id,
        "course_integration_id": None,
        "sis_section_id": None,
        "section_integration_id": None,
        "sis_user_id": user.sis_user_id,
        "html_url": f"{site}/courses/{course.id}/users/{user.id}",
        "user": {
            "id": user.id,
            "name": user.name,
            "created_at": user.created_at,
            "sortable_name": user.sortable_name,
            "short_name": user.short_name,
            "sis_user_id": user.sis_user_id,
            "integration_id": None,
            "login_id": user.login_id,
        },
    }
    if enrollment.type == "StudentEnrollment":
        payload["grades"] = {
            "html_url": f"{site}/courses/{course.id}/grades/{user.id}",
            "current_grade": enrollment.current_grade,
            "current_score": enrollment.current_score,
            "final_grade": enrollment.final_grade,
            "final_score": enrollment.final_score,
            "unposted_current_score": enrollment.current_score,
            "unposted_final_score": enrollment.final_score,
        }
    return payload


def assignment_json(course: CanvasCourse, a: Assignment, site: str) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "description": f"<p>{escape(a.name)} for {escape(course.course_code)}.</p>",
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "due_at": a.due_at,
        "lock_at": a.lock_at,
        "unlock_at": a.unlock_at,
        "has_overrides": False,
        "course_id": course.id,
        "html_url": f"{site}/courses/{course.id}/assignments/{a.id}",
        "submissions_download_url": (
            f"{site}/courses/{course.id}/assignments/{a.id}/submissions?zip=1"
        ),
        "assignment_group_id": a.assignment_group_id,
        "due_date_required": False,
        "allowed_extensions": [],
        "max_name_length": 255,
        "turnitin_enabled": False,
        "grade_group_students_individually": False,
        "peer_reviews": False,
        "automatic_peer_reviews": False,
        "group_category_id": None,
        "position": a.position,
        "post_to_sis": False,
        "points_possible": a.points_possible,
        "submission_types": list(a.submission_types),
        "has_submitted_submissions": True,
        "grading_type": a.grading_type,
        "grading_standard_id": None,
        "published": a.published,
        "unpublishable": False,
        "only_visible_to_overrides": False,
        "locked_for_user": False,
        "omit_from_final_grade": a.omit_from_final_grade,
        "workflow_state": "published" if a.published else "unpublished",
        "muted": False,
        "anonymous_grading": False,
    }


def submission_json(course: CanvasCourse, s: Submission, site: str) -> dict[str, Any]:
    assignment = next(a for a in course.assignments if a.id == s.assignment_id)
    return {
        "id": s.id,
        "body": None,
        "url": None,
        "grade": s.grade,
        "score": s.score,
        "submitted_at": s.submitted_at,
        "assignment_id": s.assignment_id,
        "user_id": s.user_id,
        "submission_type": s.submission_type,
        "workflow_state": s.workflow_state,
        "grade_matches_current_submission": True,
        "graded_at": s.graded_at,
        "grader_id": None if s.graded_at is None else course.enrollments[0].user_id,
        "attempt": s.attempt,
        "cached_due_date": assignment.due_at,
        "excused": s.excused,
        "late_policy_status": s.late_policy_status,
        "points_deducted": None,
        "grading_period_id": None,
        "extra_attempts": None,
        "posted_at": s.graded_at,
        "redo_request": False,
        "late": s.late,
        "missing": s.missing,
        "seconds_late": s.seconds_late,
        "entered_grade": s.grade,
        "entered_score": s.score,
        "preview_url": (
            f"{site}/courses/{course.id}/assignments/{s.assignment_id}"
            f"/submissions/{s.user_id}?preview=1&version=1"
        ),
    }


def module_item_json(course: CanvasCourse, item: ModuleItem, site: str) -> dict[str, Any]:
    api = f"{site}/api/v1/courses/{course.id}"
    payload: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "position": item.position,
        "indent": item.indent,
        "quiz_lti": False,
        "type": item.type,
        "module_id": item.module_id,
        "html_url": f"{site}/courses/{course.id}/modules/items/{item.id}",
        "published": item.published,
        "unpublishable": True,
    }
    if item.content_id is not None:
        payload["content_id"] = item.content_id
        kind = "assignments" if item.type == "Assignment" else "files"
        payload["url"] = f"{api}/{kind}/{item.content_id}"
    if item.page_url is not None:
        payload["page_url"] = item.page_url
        payload["url"] = f"{api}/pages/{item.page_url}"
    if item.external_url is not None:
        payload["external_url"] = item.external_url
        payload["new_tab"] = True
    return payload


def module_json(
    course: CanvasCourse, module: Module, include: set[str], inline_limit: int, site: str
) -> dict[str, Any]:
    api = f"{site}/api/v1/courses/{course.id}"
    payload: dict[str, Any] = {
        "id": module.id,
        "name": module.name,
        "position": module.position,
        "unlock_at": module.unlock_at,
        "require_sequential_progress": module.require_sequential_progress,
        "requirement_type": "all",
        "publish_final_grade": False,
        "prerequisite_module_ids": [],
        "published": module.published,
        "items_count": len(module.items),
        "items_url": f"{api}/modules/{module.id}/items",
    }
    # Like Canvas: items come inline only when asked for and "not too numerous".
    if "items" in include and len(module.items) <= inline_limit:
        payload["items"] = [module_item_json(course, item, site) for item in module.items]
    return payload


def page_json(course: CanvasCourse, page: Page, site: str) -> dict[str, Any]:
    return {
        "page_id": page.id,
        "url": page.url,
        "title": page.title,
        "created_at": page.created_at,
        "updated_at": page.updated_at,
        "hide_from_students": not page.published,
        "editing_roles": page.editing_roles,
        "last_edited_by": None,
        "published": page.published,
        "front_page": page.front_page,
        "html_url": f"{site}/courses/{course.id}/pages/{page.url}",
        "todo_date": None,
        "publish_at": None,
        "locked_for_user": False,
    }


def folder_json(course: CanvasCourse, folder: Folder, site: str) -> dict[str, Any]:
    api = f"{site}/api/v1/folders/{folder.id}"
    return {
        "id": folder.id,
        "name": folder.name,
        "full_name": folder.full_name,
        "context_id": course.id,
        "context_type": "Course",
        "parent_folder_id": folder.parent_folder_id,
        "created_at": folder.created_at,
        "updated_at": folder.updated_at,
        "lock_at": None,
        "unlock_at": None,
        "position": folder.position,
        "locked": folder.locked,
        "folders_url": f"{api}/folders",
        "files_url": f"{api}/files",
        "files_count": sum(1 for f in course.files if f.folder_id == folder.id),
        "folders_count": sum(1 for f in course.folders if f.parent_folder_id == folder.id),
        "hidden": folder.hidden,
        "locked_for_user": False,
        "hidden_for_user": False,
        "for_submissions": False,
        "can_upload": True,
    }


def file_json(course: CanvasCourse, file: CanvasFile, site: str) -> dict[str, Any]:
    return {
        "id": file.id,
        "uuid": file.uuid,
        "folder_id": file.folder_id,
        "display_name": file.display_name,
        "filename": file.filename,
        "upload_status": "success",
        "content-type": file.content_type,
        "url": f"{site}/files/{file.id}/download?download_frd=1&verifier={file.uuid[:20]}",
        "size": file.size,
        "created_at": file.created_at,
        "updated_at": file.updated_at,
        "unlock_at": None,
        "locked": file.locked,
        "hidden": file.hidden,
        "lock_at": None,
        "hidden_for_user": False,
        "thumbnail_url": None,
        "modified_at": file.modified_at,
        "mime_class": file.content_type.split("/")[-1][:10],
        "media_entry_id": None,
        "category": "uncategorized",
        "locked_for_user": False,
    }


def stringify_ids(payload: Any) -> Any:
    """What `Accept: application/json+canvas-string-ids` does: every id becomes a string."""
    if isinstance(payload, list):
        return [stringify_ids(item) for item in payload]
    if isinstance(payload, dict):
        out: dict[str, Any] = {}
        for key, value in payload.items():
            is_id = key == "id" or key.endswith("_id")
            if is_id and isinstance(value, int) and not isinstance(value, bool):
                out[key] = str(value)
            elif key.endswith("_ids") and isinstance(value, list):
                out[key] = [str(v) if isinstance(v, int) else v for v in value]
            else:
                out[key] = stringify_ids(value)
        return out
    return payload


def assignment_group_json(
    course: CanvasCourse, group: AssignmentGroup, include: set[str], site: str
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "position": group.position,
        "group_weight": group.group_weight,
        "sis_source_id": None,
        "integration_data": {},
        "rules": {},
    }
    if "assignments" in include:
        payload["assignments"] = [
            assignment_json(course, a, site)
            for a in course.assignments
            if a.assignment_group_id == group.id
        ]
    return payload


def download_verifier(attachment_id: int) -> str:
    """The `verifier` an attachment's download URL carries (downloads need no token)."""
    return hashlib.sha1(f"verifier:{attachment_id}".encode(), usedforsecurity=False).hexdigest()[
        :24
    ]


def export_json(data: CanvasData, export: ContentExport, site: str) -> dict[str, Any]:
    api = f"{site}/api/v1"
    payload: dict[str, Any] = {
        "id": export.id,
        "created_at": export.created_at,
        "export_type": export.export_type,
        "attachment": None,
        "progress_url": f"{api}/progress/{export.id}",
        "user_id": 1001,
        "workflow_state": export.workflow_state,
    }
    if (
        export.workflow_state == "exported"
        and export.data is not None
        and export.attachment_id is not None
    ):
        course = data.course(export.course_id)
        assert course is not None
        name = f"{slug(course.course_code)}-export.imscc"
        payload["attachment"] = {
            "id": export.attachment_id,
            "uuid": hashlib.sha1(
                f"attachment:{export.attachment_id}".encode(), usedforsecurity=False
            ).hexdigest(),
            "display_name": name,
            "filename": name,
            "content-type": "application/zip",
            "url": (
                f"{site}/files/{export.attachment_id}/download"
                f"?download_frd=1&verifier={download_verifier(export.attachment_id)}"
            ),
            "size": len(export.data),
            "created_at": export.created_at,
            "updated_at": export.created_at,
        }
    return payload


def progress_json(export: ContentExport, site: str) -> dict[str, Any]:
    """The `Progress` of an export's job (Canvas's generic async-job resource)."""
    state = {"created": "queued", "exporting": "running", "exported": "completed"}.get(
        export.workflow_state, "failed"
    )
    return {
        "id": export.id,
        "context_id": export.course_id,
        "context_type": "Course",
        "user_id": 1001,
        "tag": "content_export",
        "completion": 100.0 if state == "completed" else (50.0 if export.polls else 0.0),
        "workflow_state": state,
        "created_at": export.created_at,
        "updated_at": export.created_at,
        "message": None,
        "url": f"{site}/api/v1/progress/{export.id}",
    }
