"""The sandbox's Canvas LMS: deterministic synthetic courses and the Canvas REST API over them.

The canvas code location must run with no credentials, so the sandbox serves the Canvas endpoints
it uses with their real paths, payload shapes and behaviours: bearer tokens, `Link`-header
pagination (`per_page` up to 100, page numbers or opaque bookmarks), a leaky-bucket rate limit
answering `403 Forbidden (Rate Limit Exceeded)` with `X-Request-Cost` / `X-Rate-Limit-Remaining`
headers, permission-denied 403s, and the asynchronous Common Cartridge export workflow producing a
real `.imscc` zip whose manifest timestamps change per export while its content does not.

Data comes from an `Institution`'s seed and size knobs (`courses`, `learners`, `days`, `anchor`)
through private RNGs (one per course, one for users), never the wall clock: course ids are stable
(`10001`, `10002`, ...) so a course registry file can name them. `CanvasApi` holds the knobs tests
turn (`export_polls`, `failed_export_courses`, `forbidden_courses`, `content_revisions`, the rate
limit bucket, `inline_items_limit`).

Modules: `.data` (generation), `.payloads` (the JSON), `.exports` (the `.imscc` builder),
`.routes` (`CanvasApi`, the HTTP endpoints). The names below are the package's public API.
"""

from ol_sandbox.canvas.data import (
    ACCOUNTS,
    CUSTOM_ROLE,
    FIRST_COURSE_ID,
    ROLE_IDS,
    ROOT_ACCOUNT_ID,
    Account,
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
    Term,
)
from ol_sandbox.canvas.exports import build_imscc
from ol_sandbox.canvas.payloads import stringify_ids
from ol_sandbox.canvas.routes import (
    CANVAS_PREFIX,
    CANVAS_SANDBOX_TOKEN,
    DEFAULT_PER_PAGE,
    EXPORT_TYPES,
    MAX_PER_PAGE,
    STRING_IDS_MEDIA_TYPE,
    THROTTLE_BODY,
    CanvasApi,
    throttle_response,
)

__all__ = [
    "ACCOUNTS",
    "CANVAS_PREFIX",
    "CANVAS_SANDBOX_TOKEN",
    "CUSTOM_ROLE",
    "DEFAULT_PER_PAGE",
    "EXPORT_TYPES",
    "FIRST_COURSE_ID",
    "MAX_PER_PAGE",
    "ROLE_IDS",
    "ROOT_ACCOUNT_ID",
    "STRING_IDS_MEDIA_TYPE",
    "THROTTLE_BODY",
    "Account",
    "Assignment",
    "AssignmentGroup",
    "CanvasApi",
    "CanvasCourse",
    "CanvasData",
    "CanvasEnrollment",
    "CanvasFile",
    "CanvasUser",
    "Folder",
    "Module",
    "ModuleItem",
    "Page",
    "Section",
    "Submission",
    "Term",
    "build_imscc",
    "stringify_ids",
    "throttle_response",
]
