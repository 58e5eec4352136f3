"""One `ol-platform` writer per data folder.

`materialize` and `ui` write the same lake, DuckDB warehouse and Dagster instance; DuckDB allows
one writer, and two drivers would race on the sandbox's files and on each other's runs. Each
command holds an exclusive lock on `<data dir>/.ol-platform.lock` while it runs; a second command
exits at once with the holder's command and pid. The lock is the operating system's (`flock`), so
a killed process releases it and the next command proceeds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE_NAME = ".ol-platform.lock"


class DataFolderLockedError(RuntimeError):
    """Another `ol-platform` command holds the data folder."""


@contextlib.contextmanager
def data_folder_lock(data_dir: Path, command: str) -> Iterator[None]:
    """Hold the data folder for `command`, or raise `DataFolderLockedError` naming the holder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE_NAME
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another ol-platform command"
            msg = (
                f"the data folder {data_dir} is in use by {holder}; wait for it to finish or stop "
                "it (one ol-platform command per data folder; OL_DATA_DIR picks another)"
            )
            raise DataFolderLockedError(msg) from None
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        handle.seek(0)
        handle.truncate()
        handle.write(f"`ol-platform {command}` (pid {os.getpid()}, since {since})\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
