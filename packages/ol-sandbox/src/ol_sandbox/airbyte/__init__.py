"""The sandbox's Airbyte: the application databases of MITx Online and xPro, replicated to the lake.

- `.apps`: the apps' tables (users, courses, runs, enrollments, grades, certificates, programs,
  orders, lines, products, discounts, ...) for the institution's learners, the same the Open edX
  deployments serve;
- `.workspace`: the workspace, its two Postgres sources, its S3 destination (the lake) and the
  connections `<source> → S3 Data Lake`, with stable ids;
- `.destination`: Airbyte's S3 destination: Parquet with the `_airbyte_*` columns, one folder per
  destination table, overwrite by generation;
- `.routes`: `AirbyteApi`, the public API (jobs: start, poll, cancel; connections, streams) and
  the configuration API calls clients make, running every sync for real.
"""

from ol_sandbox.airbyte.apps import APPS, SELECTED_STREAMS, STREAM_COLUMNS, AppTables, app_tables
from ol_sandbox.airbyte.destination import AIRBYTE_COLUMNS, arrow_schema, table_folder
from ol_sandbox.airbyte.routes import AIRBYTE_PREFIX, AirbyteApi, Job
from ol_sandbox.airbyte.workspace import (
    ARROW,
    CLIENT_ID,
    CLIENT_SECRET,
    CONNECTIONS,
    DESTINATION_ID,
    NAMESPACE,
    PASSWORD,
    USERNAME,
    WORKSPACE_ID,
)

__all__ = [
    "AIRBYTE_COLUMNS",
    "AIRBYTE_PREFIX",
    "APPS",
    "ARROW",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CONNECTIONS",
    "DESTINATION_ID",
    "NAMESPACE",
    "PASSWORD",
    "SELECTED_STREAMS",
    "STREAM_COLUMNS",
    "USERNAME",
    "WORKSPACE_ID",
    "AirbyteApi",
    "AppTables",
    "Job",
    "app_tables",
    "arrow_schema",
    "table_folder",
]
