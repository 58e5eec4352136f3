"""The lake IO managers, through real Dagster materializations, on a local folder and on S3.

Every behavioural test runs twice: against a temporary folder (`FileObjectIOManager`) and against
an S3 bucket on a moto server over HTTP (`S3FileObjectIOManager` with `endpoint_url`), so the one
implementation is checked on both kinds of filesystem it has to serve.
"""

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    DailyPartitionsDefinition,
    Definitions,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
    TimeWindowPartitionMapping,
    asset,
    job,
    materialize,
    op,
)
from upath import UPath

from ol_orchestrate.io_managers import (
    FileObjectIOManager,
    LakeObjectNotFoundError,
    S3FileObjectIOManager,
    file_object,
    folder_content_hash,
    lake_io_manager_from_settings,
    lake_path_for,
    read_table_at,
)
from ol_orchestrate.lib.environment import load_settings

# --------------------------------------------------------------------------------------------
# Lakes: a local folder and an S3 bucket on moto
# --------------------------------------------------------------------------------------------


@dataclass
class Lake:
    kind: str
    io_manager: FileObjectIOManager
    list_files: Callable[[], list[str]]  # every object/file under the root, hidden ones too
    read_bytes: Callable[[str], bytes]
    pending_uploads: Callable[[], list[str]]

    @property
    def root(self) -> str:
        return self.io_manager.lake_root

    def path(self, *key: str, partition: Any = None) -> UPath:
        return lake_path_for(self.io_manager.root(), list(key), partition)

    def rel(self, *key: str, partition: Any = None) -> str:
        return str(self.path(*key, partition=partition)).removeprefix(self.root + "/")


def _local_lake(tmp_path: Path) -> Lake:
    root = tmp_path / "lake"

    def list_files() -> list[str]:
        if not root.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    return Lake(
        kind="local",
        io_manager=FileObjectIOManager(lake_root=str(root)),
        list_files=list_files,
        read_bytes=lambda rel: (root / rel).read_bytes(),
        pending_uploads=list,
    )


def _s3_lake(endpoint: str) -> Lake:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)

    def list_files() -> list[str]:
        response = client.list_objects_v2(Bucket=bucket, Prefix="lake/")
        return sorted(o["Key"].removeprefix("lake/") for o in response.get("Contents", []))

    def read_bytes(rel: str) -> bytes:
        return client.get_object(Bucket=bucket, Key=f"lake/{rel}")["Body"].read()

    def pending_uploads() -> list[str]:
        response = client.list_multipart_uploads(Bucket=bucket)
        return [u["Key"] for u in response.get("Uploads", [])]

    return Lake(
        kind="s3",
        io_manager=S3FileObjectIOManager(
            lake_root=f"s3://{bucket}/lake", endpoint_url=endpoint, region_name="us-east-1"
        ),
        list_files=list_files,
        read_bytes=read_bytes,
        pending_uploads=pending_uploads,
    )


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "local":
        return _local_lake(tmp_path)
    request.getfixturevalue("aws_env")
    return _s3_lake(request.getfixturevalue("moto_endpoint"))


def _table(n: int, start: int = 0, tag: str = "v1") -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + n), pa.int64()),
            "tag": pa.array([tag] * n, pa.string()),
        }
    )


def _materialized_metadata(result: Any, node: str) -> dict[str, Any]:
    (event,) = result.asset_materializations_for_node(node)
    return {k: v.value for k, v in event.metadata.items()}


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


# --------------------------------------------------------------------------------------------
# Round trips through Dagster
# --------------------------------------------------------------------------------------------


def test_round_trip_upstream_to_downstream(lake: Lake) -> None:
    received: dict[str, pa.Table] = {}

    @asset(key=["openedx", "raw", "mitxonline_course_runs"])
    def course_runs() -> pa.Table:
        return _table(5)

    @asset(
        key=["openedx", "staging", "course_runs"],
        ins={"raw": AssetIn(key=["openedx", "raw", "mitxonline_course_runs"])},
    )
    def staged(raw: pa.Table) -> pa.Table:
        received["raw"] = raw
        return raw.filter(pa.compute.greater(raw["id"], 1))

    result = materialize([course_runs, staged], resources={"io_manager": lake.io_manager})
    assert result.success
    assert received["raw"].equals(_table(5))

    raw_rel = "raw/openedx/mitxonline_course_runs/data.parquet"
    staged_rel = "staging/openedx/course_runs/data.parquet"
    assert lake.list_files() == sorted([raw_rel, staged_rel])
    assert lake.rel("openedx", "raw", "mitxonline_course_runs") == raw_rel

    meta = _materialized_metadata(result, "openedx__raw__mitxonline_course_runs")
    assert meta["path"] == f"{lake.root}/{raw_rel}"
    assert meta["row_count"] == 5
    assert meta["bytes"] == len(lake.read_bytes(raw_rel))
    staged_meta = _materialized_metadata(result, "openedx__staging__course_runs")
    assert staged_meta["row_count"] == 3
    assert pq.read_table(pa.BufferReader(lake.read_bytes(staged_rel)))["id"].to_pylist() == [
        2,
        3,
        4,
    ]


def test_other_key_lengths_join_the_key_path(lake: Lake) -> None:
    @asset(key=["platform", "metrics"])
    def two() -> pa.Table:
        return _table(1)

    @asset(key=["canvas", "raw", "course", "modules"])
    def four() -> pa.Table:
        return _table(2)

    assert materialize([two, four], resources={"io_manager": lake.io_manager}).success
    assert lake.list_files() == [
        "canvas/raw/course/modules/data.parquet",
        "platform/metrics/data.parquet",
    ]


def test_rematerializing_replaces_the_object(lake: Lake) -> None:
    version: dict[str, Any] = {"n": 3, "tag": "v1"}

    @asset(key=["openedx", "raw", "xpro_enrollments"])
    def enrollments() -> pa.Table:
        return _table(version["n"], tag=version["tag"])

    assert materialize([enrollments], resources={"io_manager": lake.io_manager}).success
    first = read_table_at(lake.path("openedx", "raw", "xpro_enrollments"), ["x"])
    assert first.equals(_table(3, tag="v1"))
    version.update(n=2, tag="v2")
    assert materialize([enrollments], resources={"io_manager": lake.io_manager}).success

    assert lake.list_files() == ["raw/openedx/xpro_enrollments/data.parquet"]
    loaded = read_table_at(lake.path("openedx", "raw", "xpro_enrollments"), ["x"])
    assert loaded.equals(_table(2, tag="v2"))


def test_partitioned_assets_and_loading_many_partitions(lake: Lake) -> None:
    daily = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
    seen: dict[str, list[int]] = {}

    @asset(key=["openedx", "raw", "tracking_logs"], partitions_def=daily)
    def tracking_logs(context: AssetExecutionContext) -> pa.Table:
        day = int(context.partition_key[-2:])
        return _table(2, start=day * 10, tag=context.partition_key)

    @asset(
        key=["openedx", "staging", "tracking_two_days"],
        partitions_def=daily,
        ins={
            "logs": AssetIn(
                key=["openedx", "raw", "tracking_logs"],
                partition_mapping=TimeWindowPartitionMapping(start_offset=-1),
            )
        },
    )
    def two_days(context: AssetExecutionContext, logs: pa.Table) -> pa.Table:
        seen[context.partition_key] = logs["id"].to_pylist()
        return logs

    @asset(
        key=["openedx", "marts", "all_tracking"],
        ins={"logs": AssetIn(key=["openedx", "raw", "tracking_logs"])},
    )
    def all_tracking(logs: pa.Table) -> pa.Table:
        seen["all"] = logs["id"].to_pylist()
        return logs

    resources = {"io_manager": lake.io_manager}
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        result = materialize([tracking_logs], partition_key=day, resources=resources)
        assert result.success
    meta = _materialized_metadata(result, "openedx__raw__tracking_logs")
    assert meta["path"].endswith("raw/openedx/tracking_logs/dt=2024-01-03/data.parquet")
    assert meta["row_count"] == 2

    assert materialize(
        [two_days, tracking_logs],
        partition_key="2024-01-03",
        resources=resources,
        selection=[two_days],
    ).success
    assert seen["2024-01-03"] == [20, 21, 30, 31]  # a range of two partitions, concatenated

    assert materialize(
        [all_tracking, tracking_logs], resources=resources, selection=[all_tracking]
    ).success
    assert seen["all"] == [10, 11, 20, 21, 30, 31]

    assert lake.list_files() == [
        "marts/openedx/all_tracking/data.parquet",
        *[f"raw/openedx/tracking_logs/dt=2024-01-0{d}/data.parquet" for d in (1, 2, 3)],
        "staging/openedx/tracking_two_days/dt=2024-01-03/data.parquet",
    ]


def test_multi_dimensional_partitions(lake: Lake) -> None:
    multi = MultiPartitionsDefinition(
        {
            "date": DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03"),
            "deployment": StaticPartitionsDefinition(["mitxonline", "xpro"]),
        }
    )

    @asset(key=["openedx", "raw", "grades"], partitions_def=multi)
    def grades(context: AssetExecutionContext) -> pa.Table:
        key = context.partition_key
        assert isinstance(key, MultiPartitionKey)
        return _table(1, tag=key.keys_by_dimension["deployment"])

    @asset(ins={"g": AssetIn(key=["openedx", "raw", "grades"])}, key=["openedx", "marts", "all"])
    def combined(g: pa.Table) -> pa.Table:
        return g

    resources = {"io_manager": lake.io_manager}
    for deployment in ("mitxonline", "xpro"):
        key = MultiPartitionKey({"date": "2024-01-02", "deployment": deployment})
        assert materialize([grades], partition_key=key, resources=resources).success
    assert [f for f in lake.list_files() if f.startswith("raw/")] == [
        "raw/openedx/grades/date=2024-01-02/deployment=mitxonline/data.parquet",
        "raw/openedx/grades/date=2024-01-02/deployment=xpro/data.parquet",
    ]

    # the other two date partitions were never written: loading them all names the missing path
    with pytest.raises(Exception) as err:
        materialize([combined, grades], resources=resources, selection=[combined])
    missing = _find_cause(err.value, LakeObjectNotFoundError)
    assert missing is not None
    assert "openedx/raw/grades" in str(missing)
    assert "date=2024-01-01/deployment=mitxonline/data.parquet" in str(missing)


# --------------------------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------------------------


def test_missing_upstream_names_the_asset_key_and_path(lake: Lake) -> None:
    @asset(key=["openedx", "raw", "mitxonline_course_blocks"])
    def blocks() -> pa.Table:
        return _table(1)

    @asset(ins={"b": AssetIn(key=["openedx", "raw", "mitxonline_course_blocks"])})
    def uses_blocks(b: pa.Table) -> pa.Table:
        return b

    with pytest.raises(Exception) as err:
        materialize(
            [uses_blocks, blocks],
            resources={"io_manager": lake.io_manager},
            selection=[uses_blocks],
        )
    missing = _find_cause(err.value, LakeObjectNotFoundError)
    assert isinstance(missing, LakeObjectNotFoundError)
    expected = f"{lake.root}/raw/openedx/mitxonline_course_blocks/data.parquet"
    assert missing.path == expected
    assert missing.asset_key == AssetKey(["openedx", "raw", "mitxonline_course_blocks"])
    assert "openedx/raw/mitxonline_course_blocks" in str(missing)
    assert expected in str(missing)
    assert isinstance(missing, FileNotFoundError)


def _install_half_writing_parquet_writer(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`pq.write_table` that writes half of the file to its sink, then fails."""
    real = pq.write_table
    calls: list[int] = []

    def half_then_fail(table: pa.Table, where: Any, *args: Any, **kwargs: Any) -> None:
        buffer = pa.BufferOutputStream()
        real(table, buffer, *args, **kwargs)
        data = buffer.getvalue().to_pybytes()
        calls.append(len(data))
        if isinstance(where, str | os.PathLike):
            with open(where, "wb") as fh:  # noqa: PTH123 - mimics pyarrow's own open
                fh.write(data[: len(data) // 2])
        else:
            where.write(data[: len(data) // 2])
        raise OSError("connection reset while writing parquet")

    monkeypatch.setattr(pq, "write_table", half_then_fail)
    return calls


def test_interrupted_write_keeps_the_previous_version(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {"n": 4}

    @asset(key=["edxorg", "raw", "courses"])
    def courses() -> pa.Table:
        return _table(rows["n"])

    resources = {"io_manager": lake.io_manager}
    assert materialize([courses], resources=resources).success
    rel = "raw/edxorg/courses/data.parquet"
    before = lake.read_bytes(rel)

    calls = _install_half_writing_parquet_writer(monkeypatch)
    rows["n"] = 400
    with pytest.raises(Exception) as err:
        materialize([courses], resources=resources)
    assert _find_cause(err.value, OSError) is not None
    assert calls  # the failing writer really ran
    assert lake.list_files() == [rel]  # no temporary or partial objects
    assert lake.read_bytes(rel) == before
    assert lake.pending_uploads() == []


def test_interrupted_first_write_leaves_nothing(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    @asset(key=["edxorg", "raw", "programs"])
    def programs() -> pa.Table:
        return _table(50)

    _install_half_writing_parquet_writer(monkeypatch)
    with pytest.raises(Exception):  # noqa: B017 - Dagster wraps the IO manager's error
        materialize([programs], resources={"io_manager": lake.io_manager})
    assert lake.list_files() == []
    assert lake.pending_uploads() == []


def test_local_failure_during_the_file_write_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = _local_lake(tmp_path)
    path = lake.path("canvas", "raw", "courses")
    file_object.write_bytes_atomic(path, b"previous version")

    def write_half(fh: Any, data: bytes) -> None:
        fh.write(data[: len(data) // 2])
        fh.flush()
        temps = [f for f in lake.list_files() if f.endswith(".tmp")]
        assert len(temps) == 1  # the half-written data goes to a hidden sibling
        assert temps[0].startswith("raw/canvas/courses/.data.parquet.")
        raise OSError("No space left on device")

    monkeypatch.setattr(file_object, "_write_all", write_half)
    with pytest.raises(OSError, match="No space left"):
        file_object.write_bytes_atomic(path, b"new version that never lands" * 100)
    assert lake.list_files() == ["raw/canvas/courses/data.parquet"]
    assert Path(path.path).read_bytes() == b"previous version"


def test_s3_failed_put_keeps_the_previous_object(
    aws_env: None, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3fs

    lake = _s3_lake(moto_endpoint)
    path = lake.path("canvas", "raw", "courses")
    file_object.write_bytes_atomic(path, b"previous version")
    real_call = s3fs.S3FileSystem._call_s3
    methods: list[str] = []

    async def failing_put(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        methods.append(method)
        if method in ("put_object", "upload_part", "create_multipart_upload"):
            raise ConnectionResetError("connection reset by peer during upload")
        return await real_call(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_call_s3", failing_put)
    with pytest.raises(ConnectionResetError):
        file_object.write_bytes_atomic(path, b"x" * 1_000_000)
    assert methods == ["put_object"]  # one PUT of the complete bytes, no multipart upload
    assert lake.list_files() == ["raw/canvas/courses/data.parquet"]
    assert lake.read_bytes("raw/canvas/courses/data.parquet") == b"previous version"
    assert lake.pending_uploads() == []


# --------------------------------------------------------------------------------------------
# Edges
# --------------------------------------------------------------------------------------------


def test_none_output_writes_nothing(lake: Lake) -> None:
    @asset(key=["superset", "publish", "datasets"])
    def skipped():  # type: ignore[no-untyped-def]
        return None

    result = materialize([skipped], resources={"io_manager": lake.io_manager})
    assert result.success
    assert lake.list_files() == []


def test_non_table_output_is_a_clear_error(lake: Lake) -> None:
    @asset(key=["openedx", "raw", "bad"])
    def bad() -> dict[str, int]:
        return {"a": 1}

    with pytest.raises(Exception) as err:
        materialize([bad], resources={"io_manager": lake.io_manager})
    type_error = _find_cause(err.value, TypeError)
    assert type_error is not None
    assert "openedx/raw/bad" in str(type_error)
    assert "builtins.dict" in str(type_error)
    assert lake.list_files() == []


def test_op_outputs_round_trip(lake: Lake) -> None:
    got: list[int] = []

    @op
    def make() -> pa.Table:
        return _table(3)

    @op
    def consume(t: pa.Table) -> None:
        got.append(t.num_rows)

    @job
    def pipeline() -> None:
        consume(make())

    defs = Definitions(jobs=[pipeline], resources={"io_manager": lake.io_manager})
    result = defs.resolve_job_def("pipeline").execute_in_process()
    assert result.success
    assert got == [3]
    (written,) = lake.list_files()
    assert written == f"_ops/{result.run_id}/make/result/data.parquet"


def test_lake_path_rules() -> None:
    assert (
        str(lake_path_for("/lake", ["openedx", "raw", "x"])) == "/lake/raw/openedx/x/data.parquet"
    )
    assert str(lake_path_for("/lake", AssetKey(["a", "b"]))) == "/lake/a/b/data.parquet"
    assert (
        str(lake_path_for("s3://bucket/root", ["canvas", "raw", "c"], "2024-05-01"))
        == "s3://bucket/root/raw/canvas/c/dt=2024-05-01/data.parquet"
    )
    assert (
        str(lake_path_for("/lake", ["s", "l", "n"], {"deployment": "xpro", "date": "2024-01-01"}))
        == "/lake/l/s/n/date=2024-01-01/deployment=xpro/data.parquet"
    )
    # a value with "/" stays one directory, reversibly
    assert str(lake_path_for("/lake", ["s", "l", "n"], "course-v1:MITx+6.00x/2T%")) == (
        "/lake/l/s/n/dt=course-v1:MITx+6.00x%2F2T%25/data.parquet"
    )
    with pytest.raises(ValueError, match="segment"):
        lake_path_for("/lake", ["openedx", "..", "x"])
    root = UPath("s3://bucket", endpoint_url="http://127.0.0.1:1")
    assert lake_path_for(root, ["a", "b", "c"]).storage_options["endpoint_url"] == (
        "http://127.0.0.1:1"
    )
    with_key = lake_path_for(root, ["a", "b", "c"], key="k")
    assert with_key.storage_options == {"endpoint_url": "http://127.0.0.1:1", "key": "k"}
    as_kwargs = lake_path_for("s3://bucket", ["a", "b", "c"], endpoint_url="http://h:1")
    assert str(as_kwargs) == "s3://bucket/b/a/c/data.parquet"
    assert as_kwargs.storage_options == {"endpoint_url": "http://h:1"}


def test_lake_io_manager_from_settings(tmp_path: Path) -> None:
    local = lake_io_manager_from_settings(
        load_settings({"DAGSTER_ENV": "dev", "OL_LAKE_ROOT": str(tmp_path / "lake")})
    )
    assert type(local) is FileObjectIOManager
    assert local.lake_root == str(tmp_path / "lake")

    qa = lake_io_manager_from_settings(load_settings({"DAGSTER_ENV": "qa"}))
    assert isinstance(qa, S3FileObjectIOManager)
    assert qa.lake_root == "s3://ol-data-lake-qa"
    assert qa.storage_options() == {}  # the default AWS credential chain

    with pytest.raises(ValueError, match="s3://"):
        S3FileObjectIOManager(lake_root=str(tmp_path))


# --------------------------------------------------------------------------------------------
# Content digest of a folder another tool writes (Airbyte's destination)
# --------------------------------------------------------------------------------------------


def _write_parts(lake: Lake, folder: str, parts: dict[str, pa.Table]) -> UPath:
    """`parts` as Parquet files named like Airbyte's under `<lake>/<folder>/` (old ones removed)."""
    target = UPath(lake.io_manager.root()).joinpath(folder)
    if target.exists():
        for old in target.iterdir():
            old.unlink()
    for name, table in parts.items():
        file_object.write_bytes_atomic(target / name, file_object.serialize_table(table))
    return target


def _synced(rows: list[tuple[int, str | None]], sync_id: int) -> pa.Table:
    return pa.table(
        {
            "_airbyte_raw_id": [f"{sync_id}-{i}" for i in range(len(rows))],
            "_airbyte_extracted_at": pa.array([sync_id] * len(rows), pa.int64()),
            "id": pa.array([row[0] for row in rows], pa.int64()),
            "email": pa.array([row[1] for row in rows], pa.string()),
        }
    )


def test_folder_digest_ignores_stamps_file_names_and_row_order(lake: Lake) -> None:
    """A sync that wrote the same rows again (new ids and times, other files, another order)
    digests the same; a changed value, a lost row or a new column does not."""
    rows = [(1, "a@example.org"), (2, "b@example.org"), (3, None)]
    first = _write_parts(lake, "raw/app/users", {"2026_01_01_1_0.parquet": _synced(rows, 1)})
    digest = folder_content_hash(first, ignored_prefix="_airbyte_")

    again = _write_parts(
        lake,
        "raw/app/users",
        {
            "2026_01_02_2_0.parquet": _synced(rows[2:], 2),
            "2026_01_02_2_1.parquet": _synced(rows[1::-1], 2),
        },
    )
    assert folder_content_hash(again, ignored_prefix="_airbyte_") == digest

    changed = [(1, "a@example.org"), (2, "B@example.org"), (3, None)]
    _write_parts(lake, "raw/app/users", {"p_0.parquet": _synced(changed, 3)})
    assert folder_content_hash(first, ignored_prefix="_airbyte_") != digest
    _write_parts(lake, "raw/app/users", {"p_0.parquet": _synced(rows[:2], 4)})
    assert folder_content_hash(first, ignored_prefix="_airbyte_") != digest
    widened = _synced(rows, 5).append_column("name", pa.array([None, None, None], pa.string()))
    _write_parts(lake, "raw/app/users", {"p_0.parquet": widened})
    assert folder_content_hash(first, ignored_prefix="_airbyte_") != digest


def test_folder_digest_of_a_missing_folder_is_an_error(lake: Lake) -> None:
    with pytest.raises(FileNotFoundError):
        folder_content_hash(
            UPath(lake.io_manager.root()).joinpath("raw/app/never_synced"),
            ignored_prefix="_airbyte_",
        )
