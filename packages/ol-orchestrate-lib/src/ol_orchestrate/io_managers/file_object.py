"""Lake IO managers: pyarrow Tables as Parquet objects, on a local folder or on S3.

One implementation over UPath/fsspec serves dev/ci (a folder under `.data/lake`) and qa/production
(an S3 bucket), so the path layout and the write protocol are the same everywhere and the dbt
sources can read what the code locations write. The path rules live in `lake_path_for`:

    <lake_root>/<layer>/<source>/<name>/[<partition dirs>/]data.parquet

for an asset key ``[source, layer, name]``; other key lengths join the key path with ``/``.
A single-dimension partition key ``k`` is the directory ``dt=k``; a multi-dimensional key is one
``<dimension>=<value>`` directory per dimension, in dimension-name order. ``%`` and ``/`` in a
partition value are percent-encoded (``%25``, ``%2F``) so a value is always one directory.

Writes never leave a partial object behind: the table is serialized to Parquet in memory first;
a local file is written to a hidden temporary sibling, fsynced and renamed over the target with
`os.replace` (the temporary file is removed on any failure); an object store receives the
complete bytes in one PUT, which S3 only exposes once it has succeeded. Writing a partition again
replaces its object, so re-materializing is idempotent.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import (
    AssetKey,
    ConfigurableIOManager,
    InputContext,
    MetadataValue,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    OutputContext,
    PartitionsDefinition,
)
from pydantic import Field, field_validator
from upath import UPath

if TYPE_CHECKING:
    from ol_orchestrate.lib.environment import PlatformSettings

LAKE_FILE_NAME = "data.parquet"
SINGLE_PARTITION_DIMENSION = "dt"
LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
S3_PROTOCOLS = frozenset({"s3", "s3a"})
# Below S3's 5 GiB single-PUT limit s3fs sends one put_object when the size is < 2 * chunksize.
_S3_SINGLE_PUT_CHUNKSIZE = 5 * 2**30 // 2 - 1

PartitionKeyLike = str | Mapping[str, str]


class LakeObjectNotFoundError(FileNotFoundError):
    """An asset's (or partition's) Parquet object is not in the lake."""

    def __init__(self, asset_key: AssetKey | Sequence[str], path: UPath | str) -> None:
        key = asset_key if isinstance(asset_key, AssetKey) else AssetKey(list(asset_key))
        self.asset_key = key
        self.path = str(path)
        super().__init__(
            f"no lake object for asset {key.to_user_string()} at {self.path} "
            "(was the asset, or this partition of it, materialized?)"
        )

    def __str__(self) -> str:
        return str(self.args[0])


def _escape_partition_value(value: str) -> str:
    return value.replace("%", "%25").replace("/", "%2F")


def partition_segments(partition_key: PartitionKeyLike | None) -> list[str]:
    """The directories a partition key maps to (`[]` for an unpartitioned asset)."""
    if partition_key is None:
        return []
    if isinstance(partition_key, MultiPartitionKey):
        by_dimension: Mapping[str, str] = partition_key.keys_by_dimension
    elif isinstance(partition_key, Mapping):
        by_dimension = partition_key
    else:
        return [f"{SINGLE_PARTITION_DIMENSION}={_escape_partition_value(str(partition_key))}"]
    return [f"{dim}={_escape_partition_value(by_dimension[dim])}" for dim in sorted(by_dimension)]


def asset_key_segments(asset_key: AssetKey | Sequence[str]) -> list[str]:
    """Relative directories of an asset: `[layer, source, name]` for `[source, layer, name]`."""
    path = list(asset_key.path if isinstance(asset_key, AssetKey) else asset_key)
    for segment in path:
        if not segment or segment in (".", "..") or "/" in segment or "\\" in segment:
            msg = f"asset key {path!r} has a segment that cannot be a lake directory: {segment!r}"
            raise ValueError(msg)
    if len(path) == 3:
        source, layer, name = path
        return [layer, source, name]
    return path


def lake_path_for(
    lake_root: str | os.PathLike[str] | UPath,
    asset_key: AssetKey | Sequence[str],
    partition_key: PartitionKeyLike | None = None,
    **storage_options: Any,
) -> UPath:
    """Where the lake keeps `asset_key` (and one partition of it): the single source of path rules.

    `partition_key` is a plain key (-> ``dt=<key>``), a `MultiPartitionKey` or a mapping of
    dimension -> key (-> one ``<dimension>=<key>`` directory each). A `UPath` root keeps its
    storage options; extra keyword arguments are fsspec storage options (``endpoint_url``, ...).
    """
    if isinstance(lake_root, UPath):
        root = (
            UPath(str(lake_root), **{**lake_root.storage_options, **storage_options})
            if storage_options
            else lake_root
        )
    else:
        root = UPath(os.fspath(lake_root), **storage_options)
    return root.joinpath(
        *asset_key_segments(asset_key), *partition_segments(partition_key), LAKE_FILE_NAME
    )


def is_local(path: UPath) -> bool:
    return path.protocol in LOCAL_PROTOCOLS


# Output metadata: a digest of the table's content without its retrieval stamps, so a consumer
# can tell a raw table that was fetched again with the same data (the dbt build of the lakehouse
# skips what no raw table it reads changed) from one whose data changed.
CONTENT_HASH_METADATA_KEY = "ol/content_hash"
# Columns that change at every retrieval whatever the data (raw_tables.RETRIEVED_AT).
RETRIEVAL_STAMP_COLUMNS = frozenset({"retrieved_at"})


def content_hash(table: pa.Table) -> str:
    """A digest of `table`'s schema and rows, its retrieval stamps left out: the same for the
    same data in the same order, whenever it was retrieved."""
    kept = table.drop_columns([c for c in table.column_names if c in RETRIEVAL_STAMP_COLUMNS])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, kept.schema) as writer:
        writer.write_table(kept.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:32]


def folder_content_hash(folder: UPath, *, ignored_prefix: str) -> str:
    """A digest of the rows of every Parquet file under `folder` (one table written as many
    files by another tool, such as Airbyte's S3 destination), the columns whose names start with
    `ignored_prefix` (that tool's per-sync stamps) left out; independent of the files' names and
    of the rows' order, so a sync that wrote the same data again digests the same.

    Reads the files in a stream (DuckDB sums a 64-bit hash per row over pyarrow's scanner):
    memory stays flat whatever the table's size. Raises `FileNotFoundError` for a folder with no
    Parquet file.
    """
    import duckdb
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    if is_local(folder):
        dataset = ds.dataset(Path(folder.path), format="parquet")
    else:
        filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(folder.fs))
        dataset = ds.dataset(folder.path, format="parquet", filesystem=filesystem)
    if not dataset.files:
        msg = f"no Parquet file under {folder}"
        raise FileNotFoundError(msg)
    columns = [name for name in dataset.schema.names if not name.startswith(ignored_prefix)]
    kept = pa.schema([dataset.schema.field(name) for name in columns])
    with duckdb.connect() as con:
        con.register("rows", dataset.scanner(columns=columns).to_reader())
        count, total = con.execute(
            "SELECT count(*), coalesce(sum(hash(r)::HUGEINT), 0) FROM rows AS r"
        ).fetchone() or (0, 0)
    digest = hashlib.sha256(f"{kept}\n{count}\n{total}".encode())
    return digest.hexdigest()[:32]


def serialize_table(table: pa.Table) -> bytes:
    """The complete Parquet file for `table`, in memory."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _write_all(fh: IO[bytes], data: bytes) -> None:
    fh.write(data)


def write_bytes_atomic(path: UPath, data: bytes) -> None:
    """Replace the object at `path` with `data`; readers see the old or the new object only."""
    if is_local(path):
        target = Path(path.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as fh:
                _write_all(fh, data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return
    kwargs: dict[str, Any] = {}
    if path.protocol in S3_PROTOCOLS:
        kwargs["chunksize"] = _S3_SINGLE_PUT_CHUNKSIZE
    # One request with the whole object: an object store never exposes a partial upload.
    path.fs.pipe_file(path.path, data, **kwargs)


def read_table_at(path: UPath, asset_key: AssetKey | Sequence[str]) -> pa.Table:
    """The Parquet table at `path`; `LakeObjectNotFoundError` if there is none."""
    try:
        data = Path(path.path).read_bytes() if is_local(path) else path.fs.cat_file(path.path)
    except FileNotFoundError:
        raise LakeObjectNotFoundError(asset_key, path) from None
    return pq.read_table(pa.BufferReader(data))


def _normalize_partition_key(
    key: str, partitions_def: PartitionsDefinition | None
) -> PartitionKeyLike:
    if isinstance(partitions_def, MultiPartitionsDefinition) and not isinstance(
        key, MultiPartitionKey
    ):
        return partitions_def.get_partition_key_from_str(key)
    return key


class FileObjectIOManager(ConfigurableIOManager):
    """Stores asset outputs (`pyarrow.Table`) as Parquet under `lake_root` (any UPath/fsspec URL).

    Output metadata: `path`, `row_count`, `bytes` (and `dagster/row_count`), `ol/content_hash`
    (`content_hash`: the data without its retrieval stamps). A `None` output is
    not written (assets that report "skipped"). Inputs from a partitioned upstream spanning
    several partitions are the concatenation of those partitions, in partition order.
    """

    lake_root: str = Field(description="Lake root: a local folder or an fsspec URL (s3://...)")

    def storage_options(self) -> dict[str, Any]:
        """fsspec options for the root (credentials, endpoint); none for a local folder."""
        return {}

    def root(self) -> UPath:
        return UPath(self.lake_root, **self.storage_options())

    def path_for(
        self, asset_key: AssetKey | Sequence[str], partition_key: PartitionKeyLike | None = None
    ) -> UPath:
        return lake_path_for(self.root(), asset_key, partition_key)

    # -- Dagster hooks ------------------------------------------------------------------------

    @staticmethod
    def _output_key(context: OutputContext) -> AssetKey | list[str]:
        if context.has_asset_key:
            return context.asset_key
        return ["_ops", *context.get_identifier()]

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        key = self._output_key(context)
        if obj is None:
            context.log.info(f"{_describe(key)} returned None: nothing written to the lake")
            return
        if isinstance(obj, pa.RecordBatch):
            obj = pa.Table.from_batches([obj])
        if not isinstance(obj, pa.Table):
            msg = (
                f"{type(self).__name__} stores pyarrow.Table outputs; {_describe(key)} "
                f"returned {type(obj).__module__}.{type(obj).__qualname__}"
            )
            raise TypeError(msg)

        partition: PartitionKeyLike | None = None
        if context.has_asset_key and context.has_asset_partitions:
            keys = list(context.asset_partition_keys)
            if len(keys) != 1:
                msg = (
                    f"{_describe(key)}: one run writes one partition, got {len(keys)} "
                    f"({keys[0]} .. {keys[-1]}); backfill with one run per partition"
                )
                raise ValueError(msg)
            partition = _normalize_partition_key(keys[0], context.asset_partitions_def)

        path = self.path_for(key, partition)
        data = serialize_table(obj)
        write_bytes_atomic(path, data)
        context.add_output_metadata(
            {
                "path": MetadataValue.path(str(path)),
                "row_count": MetadataValue.int(obj.num_rows),
                "dagster/row_count": MetadataValue.int(obj.num_rows),
                "bytes": MetadataValue.int(len(data)),
                CONTENT_HASH_METADATA_KEY: MetadataValue.text(content_hash(obj)),
            }
        )

    def load_input(self, context: InputContext) -> pa.Table:
        if context.has_asset_key:
            key: AssetKey | list[str] = context.asset_key
        else:
            upstream = context.upstream_output
            if upstream is None:
                msg = f"{type(self).__name__} can only load asset inputs or op outputs"
                raise TypeError(msg)
            key = ["_ops", *upstream.get_identifier()]

        if not (context.has_asset_key and context.has_asset_partitions):
            return read_table_at(self.path_for(key), key)

        partitions_def = context.asset_partitions_def
        keys = list(context.asset_partition_keys)
        if not keys:
            msg = f"{_describe(key)}: no upstream partitions to load"
            raise ValueError(msg)
        tables = [
            read_table_at(self.path_for(key, _normalize_partition_key(k, partitions_def)), key)
            for k in keys
        ]
        if len(tables) == 1:
            return tables[0]
        return pa.concat_tables(tables, promote_options="default")


class S3FileObjectIOManager(FileObjectIOManager):
    """`FileObjectIOManager` on S3 (or an S3-compatible store via `endpoint_url`).

    Credentials default to the normal AWS chain (environment, profile, instance/IRSA role).
    """

    endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint URL")
    region_name: str | None = Field(default=None, description="AWS region")
    aws_access_key_id: str | None = Field(default=None, description="default: AWS chain")
    aws_secret_access_key: str | None = Field(default=None, description="default: AWS chain")
    aws_session_token: str | None = Field(default=None, description="default: AWS chain")

    @field_validator("lake_root")
    @classmethod
    def _check_s3_root(cls, value: str) -> str:
        if not value.startswith(("s3://", "s3a://")):
            msg = f"S3FileObjectIOManager needs an s3:// lake_root, got {value!r}"
            raise ValueError(msg)
        return value.rstrip("/")

    def storage_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        if self.region_name:
            options["client_kwargs"] = {"region_name": self.region_name}
        if self.aws_access_key_id:
            options["key"] = self.aws_access_key_id
        if self.aws_secret_access_key:
            options["secret"] = self.aws_secret_access_key
        if self.aws_session_token:
            options["token"] = self.aws_session_token
        return options


def lake_io_manager_from_settings(
    settings: PlatformSettings, *, endpoint_url: str | None = None
) -> FileObjectIOManager:
    """The lake IO manager for `settings.lake_root`: S3 for ``s3://``, else a local folder."""
    if settings.lake_root.startswith(("s3://", "s3a://")):
        return S3FileObjectIOManager(lake_root=settings.lake_root, endpoint_url=endpoint_url)
    return FileObjectIOManager(lake_root=settings.lake_root)


def _describe(key: AssetKey | Sequence[str]) -> str:
    if isinstance(key, AssetKey):
        return f"asset {key.to_user_string()}"
    return f"output {'/'.join(key)}"
