"""Raw MITx Online and xPro application tables as Airbyte lands them, written by the sandbox's
Airbyte: two real full-refresh syncs of each app's connection into the lake's S3-destination
layout (raw/ol_warehouse_raw_data/<table>/<date>_<epoch>_0.parquet with the `_airbyte_*`
columns). The first generation's users file is put back beside the second's, as a reader sees it
while a sync commits, so staging must keep one record per id.

The apps' learners and course runs are those of the legacy LMS fixture's institution
(legacy_openedx.py): the app users link to the same LMS accounts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ol_sandbox.airbyte import NAMESPACE, AirbyteApi, app_tables, table_folder
from ol_sandbox.airbyte.workspace import CONNECTIONS
from ol_sandbox.data import Institution

from .legacy_openedx import _institution

MITX_APPS = ("mitxonline", "xpro")


def mitx_apps_institution() -> Institution:
    return _institution()


def write_mitx_apps_raw_lake(lake_root: Path) -> None:
    institution = mitx_apps_institution()
    api = AirbyteApi(institution, lake_root=str(lake_root), sync_seconds=0)
    for app in MITX_APPS:
        first = api.start_sync(app)
        assert first.done.wait(60), f"{app}: the first sync did not finish"
        assert first.status == "succeeded", first.failure
        users = table_folder(str(lake_root), NAMESPACE, CONNECTIONS[app].table_name("users_user"))
        (stale,) = users.glob("*.parquet")
        kept = lake_root / f".{app}-generation-1.parquet"
        shutil.copy(stale, kept)
        second = api.start_sync(app)
        assert second.done.wait(60), f"{app}: the second sync did not finish"
        assert second.status == "succeeded", second.failure
        shutil.move(kept, users / stale.name)
        assert len(list(users.glob("*.parquet"))) == 2


def mitx_app_count(app: str, stream: str) -> int:
    """Rows of one app table in the fixture (every generation holds the same rows)."""
    return app_tables(mitx_apps_institution(), app).count(stream)
