"""The IRx bundle: the daily files MIT's Institutional Research consumes, built from the raw
LMS tables and delivered to the results bucket.

Layout (`<results>/<deployment>/<YYYY-MM-DD>/`):

    course_ids.csv                          the course list, deduplicated (course_id)
    role_users.csv                          forum roles: role_users ⋈ role ⋈ course
    <course_id>.tar.gz                      the course's OLX export from Studio
    <course_id>/users_query.csv             auth_user ⋈ student_courseenrollment ⋈ auth_userprofile
    <course_id>/studentmodule_query.csv     courseware_studentmodule (every row, latest version)
    <course_id>/enrollment_query.csv        student_courseenrollment
    <course_id>/role_query.csv              student_courseaccessrole
    <course_id>/forum.jsonl                 the course's forum: one JSON object per thread,
                                            response and comment (the forum_posts columns)
    manifest.json                           written last: the files, their rows, bytes and sha256

The CSVs and JSON lines are built by DuckDB from the day's Parquet files (all partitions for the
incremental `courseware_studentmodule`, keeping each row's latest version), spilling to disk
rather than holding tables in memory; the tarballs are the day's OLX exports in the lake
(`legacy_openedx.course_exports`), copied as they are. The results bucket is `ResultsBucket`: a
local folder in dev/ci, S3 in qa/production through `dagster_aws.s3.S3Resource` (boto3). A
delivery first removes the day's `manifest.json`, uploads every file, removes files of an
earlier delivery that are no longer part of the bundle, and writes the manifest last: a bundle
is complete when its manifest is there.
"""

import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_aws.s3 import S3Resource
from pydantic import Field
from upath import UPath

from ol_orchestrate.io_managers import lake_path_for
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.run_summary import summary_metadata
from ol_orchestrate.resources.openedx_forum import FORUM_POSTS

MANIFEST = "manifest.json"
DUCKDB_MEMORY_LIMIT = "1GB"
FORUM_TABLE = FORUM_POSTS.name
FORUM_FILE = "forum.jsonl"


class BundleInputMissingError(dg.Failure):
    """A file the bundle is built from is not in the lake (a course's OLX export)."""


class ResultsBucket(dg.ConfigurableResource):
    """Where IRx bundles are delivered: `s3://bucket[/prefix]` through `s3`, or a local folder."""

    url: str = Field(description="s3://bucket[/prefix] (qa/production) or a local folder (dev/ci)")
    s3: S3Resource | None = Field(default=None, description="boto3 access to the S3 bucket")

    def __init__(self, **data: Any) -> None:
        if "s3" in data and data["s3"] is None:  # no nested resource for a local folder
            del data["s3"]
        super().__init__(**data)

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    def _bucket_prefix(self) -> tuple[str, str]:
        bucket, _, prefix = self.url.removeprefix("s3://").partition("/")
        return bucket, prefix.strip("/")

    def _client(self) -> Any:
        return (self.s3 or S3Resource()).get_client()

    def location(self, key: str) -> str:
        return f"{self.url.rstrip('/')}/{key}"

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (relative to the bucket's root)."""
        if self.is_s3:
            bucket, root = self._bucket_prefix()
            full = f"{root}/{prefix}" if root else prefix
            paginator = self._client().get_paginator("list_objects_v2")
            found = []
            for page in paginator.paginate(Bucket=bucket, Prefix=full.rstrip("/") + "/"):
                for item in page.get("Contents", []):
                    found.append(item["Key"][len(root) + 1 :] if root else item["Key"])
            return sorted(found)
        base = Path(self.url) / prefix
        if not base.is_dir():
            return []
        return sorted(
            str(path.relative_to(self.url))
            for path in base.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )

    def put_file(self, local: Path, key: str) -> None:
        """Upload one file (S3: boto3's managed upload, visible only once complete; a local
        folder: a hidden temporary sibling renamed into place)."""
        if self.is_s3:
            bucket, root = self._bucket_prefix()
            self._client().upload_file(str(local), bucket, f"{root}/{key}" if root else key)
            return
        target = Path(self.url) / key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            shutil.copyfile(local, tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        if self.is_s3:
            bucket, root = self._bucket_prefix()
            self._client().delete_object(Bucket=bucket, Key=f"{root}/{key}" if root else key)
            return
        (Path(self.url) / key).unlink(missing_ok=True)

    def read_bytes(self, key: str) -> bytes:
        if self.is_s3:
            bucket, root = self._bucket_prefix()
            response = self._client().get_object(
                Bucket=bucket, Key=f"{root}/{key}" if root else key
            )
            return bytes(response["Body"].read())
        return (Path(self.url) / key).read_bytes()


@dataclass(frozen=True)
class BundleFile:
    key: str  # relative to the bundle's prefix
    rows: int | None  # None for a file that is not a table (an OLX tarball)
    bytes: int
    sha256: str


def bundle_prefix(deployment: str, day: str) -> str:
    return f"{deployment}/{day}"


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def _local_copies(paths: Mapping[str, Sequence[UPath]]) -> Iterator[dict[str, list[str]]]:
    """Local paths of the raw files DuckDB reads (an object-store lake is downloaded first)."""
    with tempfile.TemporaryDirectory(prefix="ol-irx-inputs-") as scratch:
        local: dict[str, list[str]] = {}
        for name, files in paths.items():
            local[name] = []
            for index, path in enumerate(files):
                if path.protocol in ("", "file", "local"):
                    local[name].append(path.path)
                else:
                    copy = Path(scratch) / f"{name}-{index}.parquet"
                    path.fs.get_file(path.path, str(copy))
                    local[name].append(str(copy))
        yield local


def raw_files(
    lake_root: str, deployment: str, partition: str, tables: Sequence[str], incremental: str
) -> dict[str, list[UPath]]:
    """The Parquet files the bundle reads: the partition's for every table, and every partition
    up to it for the incremental one."""
    from legacy_openedx.extraction import table_key

    files: dict[str, list[UPath]] = {}
    for table in tables:
        key = table_key(deployment, table)
        if table == incremental:
            folder = lake_path_for(lake_root, key).parent
            found = sorted(
                UPath(folder, **folder.storage_options).joinpath(*path.split("/")[-2:])
                for path in folder.fs.glob(f"{folder.path}/dt=*/data.parquet")
            )
            files[table] = [p for p in found if p.parent.name <= f"dt={partition}"]
        else:
            files[table] = [lake_path_for(lake_root, key, partition)]
    return files


_PER_COURSE: dict[str, str] = {
    "users_query.csv": """
        select u.id, u.username, u.first_name, u.last_name, u.email, u.is_staff, u.is_active,
            u.is_superuser, u.last_login, u.date_joined, p.name, p.language, p.location,
            p.year_of_birth, p.gender, p.level_of_education, p.mailing_address, p.city,
            p.country, p.goals, p.allow_certificate, e.mode as enrollment_mode,
            e.is_active as enrollment_is_active, e.created as enrollment_created
        from student_courseenrollment as e
        join auth_user as u on u.id = e.user_id
        left join auth_userprofile as p on p.user_id = u.id
        where e.course_id = {course} order by u.id
    """,
    "studentmodule_query.csv": """
        select id, module_type, module_id, student_id, state, grade, max_grade, created, modified
        from courseware_studentmodule where course_id = {course} order by id
    """,
    "enrollment_query.csv": """
        select id, user_id, course_id, created, is_active, mode
        from student_courseenrollment where course_id = {course} order by id
    """,
    "role_query.csv": """
        select id, user_id, org, course_id, role
        from student_courseaccessrole where course_id = {course} order by id
    """,
}
# The course's forum, thread by thread: the thread, then its responses and comments by time.
_FORUM_COLUMNS = ", ".join(
    f'"{name}"' for name in FORUM_POSTS.names if name not in ("deployment", "retrieved_at")
)
_FORUM = f"""
    select {_FORUM_COLUMNS}
    from {FORUM_TABLE} where course_id = {{course}}
    order by thread_id, case when post_type = 'CommentThread' then 0 else 1 end, created_at,
        post_id
"""
_TOP_LEVEL: dict[str, str] = {
    "course_ids.csv": """
        select distinct id as course_id from course_overviews_courseoverview order by course_id
    """,
    "role_users.csv": """
        select ru.id, ru.user_id, r.name as role, r.course_id
        from django_comment_client_role_users as ru
        join django_comment_client_role as r on r.id = ru.role_id
        join course_overviews_courseoverview as c on c.id = r.course_id
        order by r.course_id, ru.user_id, ru.id
    """,
}


def build_bundle(
    files: Mapping[str, Sequence[UPath]],
    out_dir: Path,
    *,
    incremental: str,
    olx_folder: UPath | None = None,
) -> list[BundleFile]:
    """Write the bundle under `out_dir` from the raw Parquet `files` (table -> paths): the CSVs,
    each course's `forum.jsonl` (when `forum_posts` is among the tables) and each course's OLX
    tarball from `olx_folder` (the day's exports; a missing one is `BundleInputMissingError`)."""
    with (
        _local_copies(files) as local,
        tempfile.TemporaryDirectory(prefix="ol-irx-duckdb-") as spill,
    ):
        connection = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY_LIMIT})
        try:
            connection.execute(f"set temp_directory = {_sql_literal(spill)}")
            for table, paths in local.items():
                listed = ", ".join(_sql_literal(path) for path in paths)
                source = f"read_parquet([{listed}], union_by_name = true)"
                if table == incremental:
                    # Every partition up to the day: keep each row's latest version.
                    connection.execute(
                        f"create temp table {table} as select * from {source} "
                        "qualify row_number() over "
                        "(partition by id order by modified desc, retrieved_at desc) = 1"
                    )
                else:
                    connection.execute(f"create temp table {table} as select * from {source}")
            written: list[BundleFile] = []
            for name, sql in _TOP_LEVEL.items():
                written.append(_copy(connection, sql, out_dir, name))
            course_ids = [
                row[0]
                for row in connection.execute(
                    "select distinct id from course_overviews_courseoverview order by 1"
                ).fetchall()
            ]
            per_course = dict(_PER_COURSE)
            if FORUM_TABLE in local:
                per_course[FORUM_FILE] = _FORUM
            for course_id in course_ids:
                if olx_folder is not None:
                    written.append(_copy_tarball(olx_folder, out_dir, course_id))
                for name, sql in per_course.items():
                    query = sql.format(course=_sql_literal(course_id))
                    written.append(_copy(connection, query, out_dir, f"{course_id}/{name}"))
            return written
        finally:
            connection.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _copy(connection: duckdb.DuckDBPyConnection, sql: str, out_dir: Path, key: str) -> BundleFile:
    """One query's rows as `key`: CSV with a header, or JSON lines for a `.jsonl` key."""
    target = out_dir / key
    target.parent.mkdir(parents=True, exist_ok=True)
    options = "format json" if key.endswith(".jsonl") else "format csv, header true"
    connection.execute(f"copy ({sql}) to {_sql_literal(str(target))} ({options})")
    # Rows from DuckDB, not lines: a quoted value (JSON state, an address) may hold newlines.
    counted = connection.execute(f"select count(*) from ({sql})").fetchone()
    rows = int(counted[0]) if counted else 0
    return BundleFile(key, rows, target.stat().st_size, _sha256(target))


def _copy_tarball(olx_folder: UPath, out_dir: Path, course_id: str) -> BundleFile:
    """The course's OLX export from the lake, as `<course_id>.tar.gz`."""
    from legacy_openedx.course_exports import tarball_name

    source = olx_folder / tarball_name(course_id)
    if not source.exists():
        raise BundleInputMissingError(
            description=(
                f"the OLX export of {course_id} is not in the lake ({source}): run the day's "
                "course exports first"
            )
        )
    key = f"{course_id}.tar.gz"
    target = out_dir / key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return BundleFile(key, None, target.stat().st_size, _sha256(target))


def deliver_bundle(
    bucket: ResultsBucket,
    out_dir: Path,
    written: Sequence[BundleFile],
    *,
    deployment: str,
    day: str,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Upload the bundle under `<deployment>/<day>/`, manifest last; returns its location."""
    prefix = bundle_prefix(deployment, day)
    before = set(bucket.list_keys(prefix))
    if f"{prefix}/{MANIFEST}" in before:
        bucket.delete(f"{prefix}/{MANIFEST}")  # incomplete until the new manifest is written
    for item in written:
        bucket.put_file(out_dir / item.key, f"{prefix}/{item.key}")
    keep = {f"{prefix}/{item.key}" for item in written} | {f"{prefix}/{MANIFEST}"}
    for stale in sorted(before - keep):
        bucket.delete(stale)
    manifest = {
        "deployment": deployment,
        "date": day,
        **(extra or {}),
        "files": {
            item.key: {"rows": item.rows, "bytes": item.bytes, "sha256": item.sha256}
            for item in written
        },
    }
    manifest_path = out_dir / MANIFEST
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))
    bucket.put_file(manifest_path, f"{prefix}/{MANIFEST}")
    return bucket.location(prefix)


def results_bucket_url(hosts: Mapping[str, str]) -> str:
    """The results bucket of this environment: the component's bucket in qa/production, a local
    folder (`<data dir>/irx_results`) in dev and ci."""
    settings = get_settings()
    if settings.is_local:
        return str(settings.data_dir / "irx_results")
    url = hosts.get(settings.environment.value)
    if not url:
        from ol_orchestrate.lib.environment import MissingSourceConfigError

        msg = (
            f"legacy_openedx: no results bucket configured for DAGSTER_ENV="
            f"{settings.environment.value} (results_bucket in the deployment's defs.yaml)"
        )
        raise MissingSourceConfigError(msg)
    return url


def build_irx_bundle_asset(
    deployment: str,
    partitions_def: dg.PartitionsDefinition,
    upstream: Sequence[dg.AssetKey],
    *,
    tables: Sequence[str],
    incremental: str,
    bucket_key: str,
    healthcheck_key: str,
    group: str,
    with_olx: bool = True,
) -> dg.AssetsDefinition:
    """`legacy_openedx/export/<deployment>_irx_bundle`: the day's bundle in the results bucket;
    its success pings the deployment's healthcheck (its failure pings `fail`). `with_olx` adds
    each course's OLX tarball (`legacy_openedx.course_exports`), a `forum_posts` table among
    `tables` each course's `forum.jsonl`."""

    @dg.asset(
        key=["legacy_openedx", "export", f"{deployment}_irx_bundle"],
        group_name=group,
        kinds={"csv", "s3"},
        description=(
            f"The daily IRx bundle of {deployment} for Institutional Research, under "
            f"<results bucket>/{deployment}/<YYYY-MM-DD>/ (course_ids.csv, role_users.csv, per "
            "course <course_id>.tar.gz (its OLX export), users_query/studentmodule_query/"
            "enrollment_query/role_query.csv and forum.jsonl, manifest.json)."
        ),
        partitions_def=partitions_def,
        deps=list(upstream),
        required_resource_keys={bucket_key, healthcheck_key},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=30),
    )
    def irx_bundle(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        bucket: ResultsBucket = getattr(context.resources, bucket_key)
        healthcheck = getattr(context.resources, healthcheck_key)
        day = context.partition_key
        try:
            lake_root = get_settings().lake_root
            files = raw_files(lake_root, deployment, day, tables, incremental)
            olx_folder = None
            if with_olx:
                from legacy_openedx.course_exports import exports_folder

                olx_folder = exports_folder(lake_root, deployment, day)
            with tempfile.TemporaryDirectory(prefix="ol-irx-bundle-") as out:
                written = build_bundle(
                    files, Path(out), incremental=incremental, olx_folder=olx_folder
                )
                location = deliver_bundle(
                    bucket,
                    Path(out),
                    written,
                    deployment=deployment,
                    day=day,
                    extra={"run_id": context.run_id},
                )
        except Exception as error:
            healthcheck.ping("fail", f"{deployment} IRx bundle {day} failed: {error}", context.log)
            raise
        courses = len({item.key.split("/")[0] for item in written if "/" in item.key})
        rows = {
            item.key: item.rows for item in written if "/" not in item.key and item.rows is not None
        }
        tarballs = sum(1 for item in written if item.key.endswith(".tar.gz"))
        forum = [item for item in written if item.key.endswith(f"/{FORUM_FILE}")]
        summary = (
            f"{deployment} {day}: {len(written)} files and the manifest, {courses} courses "
            f"({tarballs} OLX tarballs, {len(forum)} forum files of "
            f"{sum(item.rows or 0 for item in forum)} posts) at {location}"
        )
        healthcheck.ping("success", f"IRx bundle {summary}", context.log)
        return dg.MaterializeResult(
            metadata={
                "location": location,
                "files": len(written),
                "courses": courses,
                "olx_tarballs": tarballs,
                "forum_posts": sum(item.rows or 0 for item in forum),
                "bytes": sum(item.bytes for item in written),
                "top_level_rows": dg.MetadataValue.json(rows),
                **summary_metadata(summary),
            }
        )

    return irx_bundle
