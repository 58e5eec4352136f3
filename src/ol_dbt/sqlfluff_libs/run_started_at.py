"""A stand-in for dbt's `run_started_at` when sqlfluff's jinja templater renders the models.

dbt sets it to the invocation's start (a datetime); sqlfluff has no such variable. A fixed instant
renders `{{ run_started_at.strftime(...) }}` as a valid literal. dbt itself never imports this.
"""

from datetime import UTC, datetime

_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)


def strftime(fmt: str) -> str:
    return _INSTANT.strftime(fmt)


def isoformat() -> str:
    return _INSTANT.isoformat()
