"""The raw lake the dbt tests build on: small, realistic raw tables of every source as Parquet.

One module per source: `openedx` (the Open edX API tables), `canvas` (the Canvas tables) and
`tracking_logs` (normalized tracking-log partitions). Their schemas are the sources' own
declarations, so a fixture cannot drift from what the code locations land. The names the tests
read (course ids, usernames, personal values) are re-exported here.
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
from .openedx import MITX_600, MITX_1801, USERNAMES, XPRO_DS, write_openedx_raw_lake
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
    "MITX_600",
    "MITX_600_VIDEO",
    "MITX_1801",
    "PII_SALT",
    "TRACKING_IPS",
    "TRACKING_USER_IDS",
    "USERNAMES",
    "XPRO_DS",
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
    return written
