"""Lake IO managers: asset outputs as Parquet objects in the lake (local folder or S3).

See `file_object` for the path layout and the atomic-write protocol; `lake_path_for` is the one
place the path rules live, for the IO managers, the dbt sources and the tests alike.
"""

from ol_orchestrate.io_managers.file_object import (
    CONTENT_HASH_METADATA_KEY,
    LAKE_FILE_NAME,
    FileObjectIOManager,
    LakeObjectNotFoundError,
    S3FileObjectIOManager,
    content_hash,
    folder_content_hash,
    lake_io_manager_from_settings,
    lake_path_for,
    partition_segments,
    read_table_at,
    serialize_table,
    write_bytes_atomic,
)

__all__ = [
    "CONTENT_HASH_METADATA_KEY",
    "LAKE_FILE_NAME",
    "FileObjectIOManager",
    "LakeObjectNotFoundError",
    "S3FileObjectIOManager",
    "content_hash",
    "folder_content_hash",
    "lake_io_manager_from_settings",
    "lake_path_for",
    "partition_segments",
    "read_table_at",
    "serialize_table",
    "write_bytes_atomic",
]
