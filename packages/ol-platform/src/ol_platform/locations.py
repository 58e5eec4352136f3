"""The code locations of the local stack, read from `dg_deployments/local/workspace.yaml`.

The CLI loads locations by module name, exactly as Dagster's workspace does, so it never imports
a location's code directly and the workspace file stays the single list of locations.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import dagster as dg
import yaml


@dataclass(frozen=True)
class Location:
    name: str
    module: str

    def load(self) -> dg.Definitions:
        module = importlib.import_module(self.module)
        defs = getattr(module, "defs", None)
        if not isinstance(defs, dg.Definitions):
            msg = f"code location {self.name!r}: module {self.module} has no `defs` Definitions"
            raise TypeError(msg)
        return defs


def workspace_file(repo_root: Path) -> Path:
    return repo_root / "dg_deployments" / "local" / "workspace.yaml"


def read_workspace(path: Path) -> list[Location]:
    document = yaml.safe_load(path.read_text()) or {}
    locations = []
    for entry in document.get("load_from", []):
        target = entry.get("python_module")
        if not target:
            msg = f"{path}: only python_module entries are supported, got {entry!r}"
            raise ValueError(msg)
        module = target["module_name"]
        locations.append(Location(name=target.get("location_name", module), module=module))
    return locations


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
    """Location names ordered so that a location runs after every location it reads from."""
    producers = {name: _produced_keys(defs) for name, defs in loaded.items()}
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name, defs in loaded.items():
        needs = _upstream_keys(defs) - producers[name]
        upstream = [other for other, keys in producers.items() if other != name and keys & needs]
        sorter.add(name, *upstream)
    try:
        return list(sorter.static_order())
    except CycleError as error:
        msg = f"code locations depend on each other in a cycle: {error.args[1]}"
        raise ValueError(msg) from error
