"""The code locations of the workspace, found from the folders of `dg_projects/`.

A code location is a folder `dg_projects/<name>/` whose `pyproject.toml` says it is a dg project
(`[tool.dg] directory_type = "project"`); its code location name is its root module's. Everything
that lists locations (the local and docker workspaces, the compose services, `ol-platform
materialize`) is derived from this list, never written by hand.

Locations are loaded by module name, the way Dagster's workspace loads them (with the project
folder as the working directory), so the CLI never imports a location's code directly and a new
folder loads before it has been installed.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg

PROJECTS_DIR = "dg_projects"


class LocationError(ValueError):
    """A folder of dg_projects/ is not a well-formed code location; the message names it."""


@dataclass(frozen=True)
class Location:
    name: str
    module: str
    project_dir: Path

    def load(self) -> dg.Definitions:
        # Dagster's `working_directory`: the project folder goes on sys.path, so a location that
        # is not installed (yet) still imports.
        if str(self.project_dir) not in sys.path:
            sys.path.append(str(self.project_dir))
        module = importlib.import_module(self.module)
        defs = getattr(module, "defs", None)
        if not isinstance(defs, dg.Definitions):
            msg = f"code location {self.name!r}: module {self.module} has no `defs` Definitions"
            raise TypeError(msg)
        return defs

    @property
    def relative_dir(self) -> str:
        return f"{PROJECTS_DIR}/{self.project_dir.name}"


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        msg = f"{path} is not valid TOML: {error}"
        raise LocationError(msg) from None


def read_location(project_dir: Path) -> Location | None:
    """The location in `project_dir`, or None when the folder is not a dg project."""
    pyproject = project_dir / "pyproject.toml"
    if not pyproject.is_file():
        return None
    dg_config = _toml(pyproject).get("tool", {}).get("dg", {})
    if dg_config.get("directory_type") != "project":
        return None
    project = dg_config.get("project") or {}
    root_module = project.get("root_module")
    if not root_module:
        msg = f"{pyproject}: [tool.dg.project] needs root_module"
        raise LocationError(msg)
    if root_module != project_dir.name:
        msg = (
            f"{pyproject}: root_module {root_module!r} differs from the folder name "
            f"{project_dir.name!r}; a code location's folder, package and module share one name"
        )
        raise LocationError(msg)
    module = project.get("code_location_target_module") or f"{root_module}.definitions"
    return Location(name=root_module, module=module, project_dir=project_dir.resolve())


def discover_locations(repo_root: Path) -> list[Location]:
    """Every code location under `<repo_root>/dg_projects/`, sorted by name."""
    base = repo_root / PROJECTS_DIR
    found = []
    for project_dir in sorted(base.iterdir()) if base.is_dir() else ():
        if project_dir.is_dir() and not project_dir.name.startswith("."):
            location = read_location(project_dir)
            if location is not None:
                found.append(location)
    return found


def registered_project_paths(repo_root: Path) -> list[str]:
    """The project paths of the root pyproject's `[tool.dg.workspace]` (dg's own list)."""
    workspace = _toml(repo_root / "pyproject.toml").get("tool", {}).get("dg", {}).get("workspace")
    return [str(entry["path"]) for entry in (workspace or {}).get("projects", [])]


def _produced_keys(defs: dg.Definitions) -> set[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    return {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}


def _upstream_keys(defs: dg.Definitions) -> set[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    upstream: set[dg.AssetKey] = set()
    for key in graph.get_all_asset_keys():
        upstream |= set(graph.get(key).parent_keys)
    return upstream


def order_by_lineage(loaded: dict[str, dg.Definitions]) -> list[str]:
    """Location names ordered so that a location runs after every location it reads from
    (alphabetical among locations that do not depend on each other)."""
    producers = {name: _produced_keys(defs) for name, defs in loaded.items()}
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name, defs in sorted(loaded.items()):
        needs = _upstream_keys(defs) - producers[name]
        upstream = [other for other, keys in producers.items() if other != name and keys & needs]
        sorter.add(name, *sorted(upstream))
    try:
        sorter.prepare()
    except CycleError as error:
        msg = f"code locations depend on each other in a cycle: {error.args[1]}"
        raise ValueError(msg) from error
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order
