"""File-based sources of the sandbox: what real systems drop as files, written into the lake.

Some sources are not APIs but files that land in the lake's `landing/` area (tracking logs, research
exports). `provision_landing` writes the sandbox institution's files there, so that local runs and
tests find them exactly where production finds the real ones. It is idempotent: files already
present with the same content are left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from ol_sandbox.data import Institution
from ol_sandbox.edxapp import write_edxapp_sqlite
from ol_sandbox.tracking_logs import write_tracking_logs

# Each provisioner writes one kind of file into the landing area under `lake_root` and returns
# the paths it wrote. Add new file-based sources here.
LandingProvisioner = Callable[[Institution, str], list[str]]
PROVISIONERS: tuple[LandingProvisioner, ...] = (
    write_tracking_logs,
    # The legacy LMS database of the embedded default (SQLite; legacy_openedx reads it).
    write_edxapp_sqlite,
)


def provision_landing(institution: Institution, lake_root: str) -> list[str]:
    """Write every file-based source of `institution` below `lake_root`/landing."""
    written: list[str] = []
    for provisioner in PROVISIONERS:
        written.extend(provisioner(institution, lake_root))
    return written
