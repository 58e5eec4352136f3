"""Refresh the state of the code locations' state-backed components (Airbyte's workspace, ...).

A component whose assets come from a remote system's state (`dagster.StateBackedComponent`, e.g.
the lakehouse's Airbyte connections) loads from a state prepared beforehand, never from the
network. This is `dg utils refresh-defs-state` for every location at once, for the components
keeping their state in the project (`LOCAL_FILESYSTEM`): `ol-platform prepare` and
`ol-platform materialize` call it, like they prepare the dbt manifest. Nothing here knows a
location: the components are found in each location's component tree.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from dagster.components.component.state_backed_component import StateBackedComponent
from dagster.components.core.component_tree import ComponentTree
from dagster_shared.serdes.objects.models.defs_state_info import DefsStateManagementType
from dagster_shared.utils.warnings import disable_dagster_warnings

from ol_platform.locations import Location


class DefsStateRefreshError(RuntimeError):
    """A component's state could not be fetched (its remote system is unreachable, say)."""


@dataclass(frozen=True)
class RefreshedState:
    location: str
    key: str
    seconds: float


def state_backed_components(location: Location) -> list[StateBackedComponent]:
    """The location's state-backed components that keep their state in the project."""
    if str(location.project_dir) not in sys.path:
        sys.path.append(str(location.project_dir))  # as Location.load: not installed yet is fine
    with disable_dagster_warnings():
        tree = ComponentTree.for_project(location.project_dir)
        components = tree.get_all_components(of_type=StateBackedComponent)  # type: ignore[type-abstract]
    return [
        component
        for component in components
        if component.defs_state_config.management_type == DefsStateManagementType.LOCAL_FILESYSTEM
    ]


def _run_coroutine(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """`asyncio.run`, also from code that already runs inside an event loop (a test session
    with a browser driver, say): then the coroutine runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def refresh_defs_state(locations: Sequence[Location]) -> list[RefreshedState]:
    """Fetch and store the state of every location's state-backed components (one per key)."""
    refreshed: list[RefreshedState] = []
    for location in locations:
        seen: set[str] = set()
        for component in state_backed_components(location):
            key = component.defs_state_config.key
            if key in seen:
                continue
            seen.add(key)
            start = time.monotonic()
            try:
                _run_coroutine(component.refresh_state(location.project_dir))
            except Exception as error:
                msg = (
                    f"code location {location.name!r}: could not refresh the state {key!r} of "
                    f"{type(component).__name__}: {type(error).__name__}: {error}"
                )
                raise DefsStateRefreshError(msg) from error
            refreshed.append(RefreshedState(location.name, key, time.monotonic() - start))
    return refreshed
