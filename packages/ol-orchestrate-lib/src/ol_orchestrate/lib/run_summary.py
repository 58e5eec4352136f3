"""A one-line outcome an asset reports for people, shown by `ol-platform materialize`.

An asset that has something to say beyond "materialized" (a webhook delivery's sent / unchanged /
deleted / failed counts) adds `summary_metadata(text)` to its materialization metadata; the
`materialize` command prints that line under the asset in its summary. Any asset may use it.
"""

from __future__ import annotations

SUMMARY_METADATA_KEY = "ol/summary"


def summary_metadata(text: str) -> dict[str, str]:
    """Materialization metadata carrying `text` as the asset's one-line summary."""
    return {SUMMARY_METADATA_KEY: " ".join(text.split())}
