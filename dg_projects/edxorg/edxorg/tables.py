"""The raw tables only this location lands (the archive tables are in
`ol_orchestrate.lib.edxorg.tables`, the catalog's in `ol_orchestrate.resources.edxorg_catalog`:
`ol-platform` uses those too)."""

from ol_orchestrate.lib.raw_tables import RETRIEVED_AT, RawTable, bool_, int64, string

DELIVERIES = RawTable(
    "tracking_log_deliveries",
    (
        string("day", nullable=False, description="YYYY-MM-DD, from the file name"),
        string("object_key", nullable=False, description="the object in edX's bucket"),
        string("etag", nullable=False),
        int64("size_bytes", nullable=False),
        string("landing_path", nullable=False, description="where the copy is in the lake"),
        bool_("copied", nullable=False, description="copied by this run (false: unchanged)"),
        RETRIEVED_AT,
    ),
    "one row per delivered tracking-log file: where it is and whether this run copied it",
)

TABLES: tuple[RawTable, ...] = (DELIVERIES,)
