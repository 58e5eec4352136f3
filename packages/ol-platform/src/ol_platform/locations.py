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

from ol_orchestrate.lib.automation import OBSERVES_INSTANCE_TAG

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


def _observes_instance(defs: dg.Definitions) -> bool:
    graph = defs.resolve_asset_graph()
    return any(
        (graph.get(key).tags or {}).get(OBSERVES_INSTANCE_TAG) == "true"
        for key in graph.get_all_asset_keys()
    )


def _observers_last(passes: list[Pass], loaded: dict[str, dg.Definitions]) -> list[Pass]:
    """`passes` with each location that snapshots the Dagster instance (`OBSERVES_INSTANCE_TAG`)
    moved as late as its readers allow: just before the first location reading its assets, or to
    the end. Its snapshot then shows the runs this pass made rather than only earlier ones."""
    for observer in sorted(name for name, defs in loaded.items() if _observes_instance(defs)):
        mine = [step for step in passes if step.location == observer]
        if len(mine) != 1 or mine[0].assets is not None:
            continue  # a location split into passes keeps its lineage order
        produced = _produced_keys(loaded[observer])
        rest = [step for step in passes if step is not mine[0]]
        readers = [
            index
            for index, step in enumerate(rest)
            if step.location != observer and _upstream_keys(loaded[step.location]) & produced
        ]
        at = readers[0] if readers else len(rest)
        passes = [*rest[:at], mine[0], *rest[at:]]
    return passes


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


@dataclass(frozen=True)
class Pass:
    """One pass of `ol-platform materialize` over a location: `assets` (None: all of them) run
    once every location they read from has run, see `plan_passes`. `after` names the other
    locations the pass waits for (a label for people)."""

    location: str
    assets: frozenset[dg.AssetKey] | None = None
    after: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.location} (after {', '.join(self.after)})" if self.after else self.location


def plan_passes(loaded: dict[str, dg.Definitions]) -> list[Pass]:
    """The order `materialize` runs the locations in: one pass per location in lineage order
    (`order_by_lineage`), unless locations read from each other in a cycle at the location level
    (learning_resources' raw tables feed the lakehouse's dbt models, whose outputs its delivery
    assets read). The asset graph itself has no cycle, so then the passes come from it: each
    asset's stage is how many location boundaries lie on the longest path to it, assets run in
    the latest stage of their location that is still early enough for every asset downstream
    (so a location is split only where it must be), and a location runs once per stage it has
    assets in: raw tables, then the lakehouse, then the deliveries."""
    try:
        return _observers_last([Pass(name) for name in order_by_lineage(loaded)], loaded)
    except ValueError:
        pass
    owner: dict[dg.AssetKey, str] = {}
    parents: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    for name, defs in sorted(loaded.items()):
        graph = defs.resolve_asset_graph()
        for key in _produced_keys(defs):
            owner[key] = name
            parents[key] = set(graph.get(key).parent_keys)
    for key in parents:
        parents[key] &= set(owner)
    order = list(TopologicalSorter(parents).static_order())  # the asset graph is acyclic
    earliest: dict[dg.AssetKey, int] = {}
    for key in order:
        earliest[key] = max(
            (earliest[p] + (owner[p] != owner[key]) for p in parents[key]), default=0
        )
    stages_of: dict[str, set[int]] = {}
    for key, stage in earliest.items():
        stages_of.setdefault(owner[key], set()).add(stage)
    children: dict[dg.AssetKey, set[dg.AssetKey]] = {key: set() for key in parents}
    for key, ups in parents.items():
        for parent in ups:
            children[parent].add(key)
    stage_of: dict[dg.AssetKey, int] = {}
    for key in reversed(order):
        latest = min(
            (stage_of[c] - (owner[c] != owner[key]) for c in children[key]),
            default=max(stages_of[owner[key]]),
        )
        stage_of[key] = max(s for s in stages_of[owner[key]] if earliest[key] <= s <= latest)
    by_pass: dict[tuple[int, str], set[dg.AssetKey]] = {}
    for key, stage in stage_of.items():
        by_pass.setdefault((stage, owner[key]), set()).add(key)
    split = {name for (_stage, name) in by_pass if sum(n == name for _, n in by_pass) > 1}
    passes: list[Pass] = []
    for (_stage, name), keys in sorted(by_pass.items()):
        if name not in split:
            passes.append(Pass(name))
            continue
        first = not any(existing.location == name for existing in passes)
        upstream = {owner[p] for key in keys for p in parents[key]} - {name}
        passes.append(Pass(name, frozenset(keys), () if first else tuple(sorted(upstream))))
    # A location producing nothing (only sensors, say) still gets its pass.
    passes += [Pass(name) for name in sorted(set(loaded) - set(owner.values()))]
    return _observers_last(passes, loaded)
