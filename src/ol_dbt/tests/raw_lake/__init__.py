"""The raw lake the dbt tests build on: small, realistic raw tables of every source as Parquet.

One module per source: `openedx` (the Open edX API tables), `canvas` (the Canvas tables),
`tracking_logs` (normalized tracking-log partitions), `platform` (a platform-health snapshot),
`edxorg` (edX.org's archives, catalog and logs), `legacy_openedx` (the legacy LMS tables,
forums and OLX exports of residential MITx, MITx Online and xPro), `learning_resources` (the
learning catalogs MIT Learn is fed from) and `mitx_apps` (the MITx Online and xPro application
databases as Airbyte lands them). Their schemas are the sources' own declarations, so a
fixture cannot drift from what the code locations land. The names the tests read (course ids,
usernames, personal values) are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from .canvas import (
    CANVAS_PERSONAL_VALUES,
    CANVAS_PHYSICS,
    CANVAS_SHARDED_USER,
    CANVAS_SPANISH,
    CANVAS_USERS,
    CANVAS_ZERO_POINTS_ASSIGNMENT,
    write_canvas_raw_lake,
)
from .edxorg import (
    EDXORG_LEGACY_COURSE,
    EDXORG_USERNAMES,
    write_edxorg_raw_lake,
)
from .learning_resources import (
    LEARN_DATA,
    OVS_DELETED_VIDEO,
    write_learning_resources_raw_lake,
)
from .legacy_openedx import (
    RESIDENTIAL_CHANGED_MODULES,
    RESIDENTIAL_DAYS,
    RESIDENTIAL_DEPLOYMENTS,
    RESIDENTIAL_FORUM_DEPLOYMENTS,
    write_legacy_openedx_raw_lake,
)
from .mitx_apps import MITX_APPS, mitx_app_count, write_mitx_apps_raw_lake
from .openedx import MITX_600, MITX_1801, USERNAMES, XPRO_DS, write_openedx_raw_lake
from .platform import PLATFORM_RUN_OUTCOMES, PLATFORM_SNAPSHOT_AT, write_platform_raw_lake
from .tracking_logs import (
    MITX_600_VIDEO,
    TRACKING_IPS,
    TRACKING_USER_IDS,
    write_tracking_logs_raw_lake,
)

__all__ = [
    "CANVAS_PERSONAL_VALUES",
    "CANVAS_PHYSICS",
    "CANVAS_SHARDED_USER",
    "CANVAS_SPANISH",
    "CANVAS_USERS",
    "CANVAS_ZERO_POINTS_ASSIGNMENT",
    "EDXORG_LEGACY_COURSE",
    "EDXORG_USERNAMES",
    "LEARN_DATA",
    "MITX_600",
    "MITX_600_VIDEO",
    "MITX_1801",
    "MITX_APPS",
    "OVS_DELETED_VIDEO",
    "PII_SALT",
    "PLATFORM_RUN_OUTCOMES",
    "PLATFORM_SNAPSHOT_AT",
    "RESIDENTIAL_CHANGED_MODULES",
    "RESIDENTIAL_DAYS",
    "RESIDENTIAL_DEPLOYMENTS",
    "RESIDENTIAL_FORUM_DEPLOYMENTS",
    "TRACKING_IPS",
    "TRACKING_USER_IDS",
    "USERNAMES",
    "XPRO_DS",
    "mitx_app_count",
    "write_raw_lake",
]

# The salt the test build hashes personal data with (OL_PII_SALT).
PII_SALT = "pytest-salt"


def write_raw_lake(lake_root: Path) -> dict[str, Path]:
    """Write every source's raw tables under `<lake_root>/raw/`; return the file of each Open
    edX API table."""
    written = write_openedx_raw_lake(lake_root)
    write_canvas_raw_lake(lake_root)
    write_tracking_logs_raw_lake(lake_root)
    write_edxorg_raw_lake(lake_root)
    write_platform_raw_lake(lake_root)
    write_legacy_openedx_raw_lake(lake_root)
    write_learning_resources_raw_lake(lake_root)
    write_mitx_apps_raw_lake(lake_root)
    return written
