"""Raw learning-catalog tables (docs/contracts.md, "Learning resources") as the location lands them.

The sandbox's catalogs for the small institution, through the learning_resources location's own
row builders (`learning_resources.tables`): an HTML entity in a title, articles without an image,
an unpublished OLL course, Sloan courses with one and two offerings, and OVS details for every
video of which the last one is no longer listed (deleted from OVS: its detail stays in the lake,
the models must drop it). MIT's edX.org programs come from the edxorg fixture's catalog.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq

from learning_resources.tables import (
    MIT_CLIMATE_ARTICLES,
    MITPE_RESOURCES,
    OLL_COURSES,
    OVS_VIDEO_LIST,
    OVS_VIDEOS,
    SLOAN_COURSE_OFFERINGS,
    SLOAN_COURSES,
    climate_article_rows,
    mitpe_rows,
    oll_rows,
    ovs_list_rows,
    ovs_video_rows,
    sloan_course_rows,
    sloan_offering_rows,
)
from ol_sandbox.data import Institution
from ol_sandbox.learn_sources import LearnSourcesData
from ol_sandbox.learn_sources.routes import oll_csv

LEARN_DATA = LearnSourcesData.for_institution(Institution.from_size("small"))
LEARN_RETRIEVED = "2026-01-20T07:30:00Z"
# The OVS video deleted after its detail was fetched: in the lake, not in the list.
OVS_DELETED_VIDEO = LEARN_DATA.list("ovs")[-1]["key"]


def _write(lake_root: Path, name: str, table: object, partition: str | None = None) -> None:
    folder = lake_root / "raw" / "learning_resources" / name
    if partition is not None:
        folder = folder / f"dt={partition}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "data.parquet")  # type: ignore[arg-type]


def write_learning_resources_raw_lake(lake_root: Path) -> None:
    at = LEARN_RETRIEVED
    csv_records = list(csv.DictReader(io.StringIO(oll_csv(LEARN_DATA.list("oll")).decode())))
    videos = LEARN_DATA.list("ovs")
    tables = (
        (MIT_CLIMATE_ARTICLES, climate_article_rows(LEARN_DATA.list("mit_climate"), at)),
        (
            MITPE_RESOURCES,
            mitpe_rows(LEARN_DATA.list("mitpe_courses"), LEARN_DATA.list("mitpe_programs"), at),
        ),
        (OLL_COURSES, oll_rows(csv_records, at)),
        (SLOAN_COURSES, sloan_course_rows(LEARN_DATA.list("sloan_courses"), at)),
        (SLOAN_COURSE_OFFERINGS, sloan_offering_rows(LEARN_DATA.list("sloan_offerings"), at)),
        (OVS_VIDEO_LIST, ovs_list_rows(videos[:-1], at)),
    )
    for declaration, rows in tables:
        _write(lake_root, declaration.name, declaration.to_table(rows))
    for video in videos:
        _write(
            lake_root,
            OVS_VIDEOS.name,
            OVS_VIDEOS.to_table(ovs_video_rows(video, at)),
            partition=video["key"],
        )
