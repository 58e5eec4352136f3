"""Reading run failures and asset check evaluations from the event log, after a storage id.

Both the local instance (SQLite, one database per run plus an index database) and the deployed
one (PostgreSQL, one table) give these events ids from one sequence: Dagster mirrors run status
changes and asset check events into SQLite's index database, which is where its own run-status
sensors read them. So a sensor's cursor is one storage id, and "after it, oldest first, at most
N" reads the same way in every environment.
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

NO_EVENTS = -1


def latest_run_failure_id(instance: dg.DagsterInstance) -> int:
    """The storage id of the newest run failure (NO_EVENTS when there is none)."""
    records = instance.fetch_run_status_changes(
        DagsterEventType.RUN_FAILURE, limit=1, ascending=False
    ).records
    return records[0].storage_id if records else NO_EVENTS


def fetch_run_failures(
    instance: dg.DagsterInstance, after_storage_id: int, limit: int
) -> list[dg.EventLogRecord]:
    """Run failure events after `after_storage_id`, oldest first, at most `limit`."""
    records_filter = dg.RunStatusChangeRecordsFilter(
        event_type=DagsterEventType.RUN_FAILURE, after_storage_id=after_storage_id
    )
    return list(
        instance.fetch_run_status_changes(records_filter, limit=limit, ascending=True).records
    )


def _index_event_records(
    instance: dg.DagsterInstance, records_filter: dg.EventRecordsFilter, limit: int, ascending: bool
) -> list[dg.EventLogRecord]:
    storage = instance.event_log_storage
    if isinstance(storage, SqlEventLogStorage):
        # The SQL implementation reads the index database; SQLite's override would read the
        # per-run databases, whose ids are not one sequence (see the module doc).
        return list(
            SqlEventLogStorage.get_event_records(
                storage, records_filter, limit=limit, ascending=ascending
            )
        )
    return list(storage.get_event_records(records_filter, limit=limit, ascending=ascending))


def latest_check_evaluation_id(instance: dg.DagsterInstance) -> int:
    """The storage id of the newest asset check evaluation (NO_EVENTS when there is none)."""
    records = _index_event_records(
        instance,
        dg.EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION),
        limit=1,
        ascending=False,
    )
    return records[0].storage_id if records else NO_EVENTS


def fetch_check_evaluations(
    instance: dg.DagsterInstance,
    *,
    after_storage_id: int = NO_EVENTS,
    after_time: datetime | None = None,
    limit: int,
    ascending: bool = True,
) -> list[dg.EventLogRecord]:
    """Asset check evaluations after a storage id (and a time), at most `limit`, oldest first
    (`ascending=False`: the newest `limit`, newest first)."""
    records_filter = dg.EventRecordsFilter(
        event_type=DagsterEventType.ASSET_CHECK_EVALUATION,
        after_cursor=after_storage_id if after_storage_id != NO_EVENTS else None,
        after_timestamp=after_time.timestamp() if after_time else None,
    )
    return _index_event_records(instance, records_filter, limit=limit, ascending=ascending)
