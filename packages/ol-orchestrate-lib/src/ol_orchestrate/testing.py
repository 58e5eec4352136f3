"""Helpers for the code locations' own tests: load a location under an environment, snapshot it.

Every location tests the same two things — it loads in dev, ci, qa and production with no
credentials, and its asset graph matches a reviewed snapshot — so the mechanics live here once.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from ol_orchestrate.lib.environment import environ_overrides, reset_settings_cache

UPDATE_SNAPSHOTS_ENV = "UPDATE_SNAPSHOTS"


@contextmanager
def environment(env: str, extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Run a block under `DAGSTER_ENV=env` (plus `extra` variables), restoring everything after."""
    reset_settings_cache()
    try:
        with environ_overrides({"DAGSTER_ENV": env, **(extra or {})}):
            reset_settings_cache()
            yield
    finally:
        reset_settings_cache()


def load_definitions(module_name: str) -> dg.Definitions:
    """Import (or re-import) a location's definitions module and return its validated `defs`."""
    if module_name in sys.modules:
        module = importlib.reload(sys.modules[module_name])
    else:
        module = importlib.import_module(module_name)
    defs = module.defs
    assert isinstance(defs, dg.Definitions), f"{module_name}.defs is not a Definitions"
    dg.Definitions.validate_loadable(defs)
    return defs


def asset_key_lines(defs: dg.Definitions) -> list[str]:
    """One line per asset: its key, group and kinds, sorted — the reviewed shape of the graph."""
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        kinds = ",".join(sorted(node.kinds))
        lines.append(f"{key.to_user_string()}  group={node.group_name}  kinds={kinds}")
    return lines


def assert_matches_snapshot(lines: list[str], snapshot: Path) -> None:
    """Compare with the committed snapshot; `UPDATE_SNAPSHOTS=1` rewrites it instead."""
    text = "\n".join(lines) + "\n"
    if os.environ.get(UPDATE_SNAPSHOTS_ENV) == "1" or not snapshot.exists():
        if os.environ.get("CI") == "true" and not snapshot.exists():
            msg = f"snapshot {snapshot} is missing; run the tests with {UPDATE_SNAPSHOTS_ENV}=1"
            raise AssertionError(msg)
        snapshot.write_text(text)
        return
    expected = snapshot.read_text()
    assert text == expected, (
        f"asset graph differs from {snapshot.name}; if the change is intended, re-run with "
        f"{UPDATE_SNAPSHOTS_ENV}=1 and commit the snapshot"
    )


@contextmanager
def persistent_instance() -> Iterator[dg.DagsterInstance]:
    """A throwaway persistent (SQLite) Dagster instance, disposed afterwards.

    Use instead of `dg.instance_for_test()`: entering an instance as a context manager sets
    Dagster's current defs-state storage in a context variable that its `__exit__` does not reset,
    so every later `Definitions` resolution in the same test session fails with "Attempted to
    resolve undefined DagsterInstance weakref". Sensor ticks with partitioned run requests and
    schedule contexts need a persistent instance (one with an instance ref), hence this helper.
    """
    with tempfile.TemporaryDirectory(prefix="dagster-instance-") as home:
        instance = dg.DagsterInstance.local_temp(tempdir=home)
        try:
            yield instance
        finally:
            instance.dispose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for a test server that needs a fixed port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
