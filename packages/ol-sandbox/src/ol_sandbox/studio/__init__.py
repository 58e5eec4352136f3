"""The sandbox's Studio: each legacy LMS deployment's course export API and its OLX tarballs.

Served under `/studio/<deployment>/` for `ol_sandbox.edxapp.LEGACY_DEPLOYMENTS` (the courses
of each deployment's LMS database): `.routes` (`StudioApi`: start an export, poll its task,
download the tarball), `.olx` (`course_export`: a course's OLX export as Studio writes it).
"""

from ol_sandbox.studio.olx import course_export, course_export_files
from ol_sandbox.studio.routes import STUDIO_PREFIX, ExportTask, StudioApi

__all__ = ["STUDIO_PREFIX", "ExportTask", "StudioApi", "course_export", "course_export_files"]
