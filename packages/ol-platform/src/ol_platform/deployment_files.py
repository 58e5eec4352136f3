"""The files that list code locations, derived from `dg_projects/` (`ol-platform locations sync`).

- `pyproject.toml`: dg's `[[tool.dg.workspace.projects]]` entry per location (the one line dg
  itself needs; `sync` adds what is missing);
- `dg_deployments/local/workspace.yaml`: the local stack (`ol-platform ui`, `dagster dev -w`);
- `dg_deployments/docker/workspace.yaml`: a gRPC code server per location, one compose service each;
- `docker-compose.yaml`: between its `generated` markers, one service per location built from the
  root `Dockerfile`'s `code-location` target, and the webserver's dependency on each.

`check` says, file by file, which line is missing or stale; a test runs it, so a location
added by copying a folder fails CI with the command that fixes it instead of a half-listed stack.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ol_platform.locations import Location, discover_locations, registered_project_paths

SYNC_COMMAND = "uv run ol-platform locations sync"
CODE_SERVER_PORT = 4000
LOCAL_WORKSPACE = Path("dg_deployments/local/workspace.yaml")
DOCKER_WORKSPACE = Path("dg_deployments/docker/workspace.yaml")
COMPOSE_FILE = Path("docker-compose.yaml")
PYPROJECT = Path("pyproject.toml")
_HEADER = f"# Generated from the folders of dg_projects/ by `{SYNC_COMMAND}`: do not edit.\n"
_BEGIN = "# >>> generated code locations ({block}): `" + SYNC_COMMAND + "` rewrites this block\n"
_END = "# <<< generated code locations ({block})\n"


@dataclass(frozen=True)
class FileProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def render_local_workspace(locations: Sequence[Location]) -> str:
    lines = [
        _HEADER,
        "# The local stack: every code location from its project folder, in-process with the\n",
        "# workspace's virtual environment (`uv run ol-platform ui`).\n",
        "load_from:\n",
    ]
    for location in locations:
        lines += [
            "  - python_module:\n",
            f"      module_name: {location.module}\n",
            f"      location_name: {location.name}\n",
            f"      working_directory: ../../{location.relative_dir}\n",
        ]
    return "".join(lines)


def render_docker_workspace(locations: Sequence[Location]) -> str:
    lines = [
        _HEADER,
        "# Code servers of the docker compose stack (one container per code location).\n",
        "load_from:\n",
    ]
    for location in locations:
        lines += [
            "  - grpc_server:\n",
            f"      host: {location.name}\n",
            f"      port: {CODE_SERVER_PORT}\n",
            f"      location_name: {location.name}\n",
        ]
    return "".join(lines)


def _compose_services(locations: Sequence[Location]) -> str:
    lines = []
    for location in locations:
        lines += [
            f"  {location.name}:\n",
            "    build:\n",
            "      context: .\n",
            "      target: code-location\n",
            f"      args: {{LOCATION: {location.name}, DAGSTER_ENV: dev}}\n",
            "    environment: *platform-env\n",
            "    volumes: *dagster-home\n",
            "    depends_on: [sandbox]\n",
            "    healthcheck: *code-server-health\n",
        ]
    return "".join(lines)


def _compose_dependencies(locations: Sequence[Location]) -> str:
    lines = ["x-code-locations: &code-locations\n"]
    lines += [f"  {location.name}: {{condition: service_healthy}}\n" for location in locations]
    return "".join(lines)


def _replace_block(text: str, block: str, content: str, path: Path, indent: str = "") -> str:
    begin, end = indent + _BEGIN.format(block=block), indent + _END.format(block=block)
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        msg = f"{path}: the markers of the generated {block!r} block are missing ({begin.strip()})"
        raise ValueError(msg)
    return pattern.sub(lambda _: begin + content + end, text, count=1)


def render_compose(text: str, locations: Sequence[Location]) -> str:
    """`text` (docker-compose.yaml) with its generated blocks rewritten for `locations`."""
    text = _replace_block(text, "dependencies", _compose_dependencies(locations), COMPOSE_FILE)
    services = _compose_services(locations)
    return _replace_block(text, "services", services, COMPOSE_FILE, indent="  ")


def _project_entry(location: Location) -> str:
    return f'[[tool.dg.workspace.projects]]\npath = "{location.relative_dir}"\n'


def render_pyproject(text: str, repo_root: Path, locations: Sequence[Location]) -> str:
    """`text` (the root pyproject.toml) with a dg workspace entry for every location lacking one,
    added after the last existing entry."""
    registered = set(registered_project_paths(repo_root))
    missing = [loc for loc in locations if loc.relative_dir not in registered]
    if not missing:
        return text
    addition = "".join("\n" + _project_entry(location) for location in missing)
    entry = re.compile(r'^\[\[tool\.dg\.workspace\.projects\]\]\npath = ".*"\n', re.M)
    entries = list(entry.finditer(text))
    if entries:
        at = entries[-1].end()
        return text[:at] + addition + text[at:]
    return text.rstrip("\n") + "\n\n[tool.dg.workspace]\n" + addition


def expected_files(repo_root: Path) -> dict[Path, str]:
    """Each derived file's expected content (relative path -> text)."""
    locations = discover_locations(repo_root)
    return {
        PYPROJECT: render_pyproject(
            (repo_root / PYPROJECT).read_text(encoding="utf-8"), repo_root, locations
        ),
        LOCAL_WORKSPACE: render_local_workspace(locations),
        DOCKER_WORKSPACE: render_docker_workspace(locations),
        COMPOSE_FILE: render_compose(
            (repo_root / COMPOSE_FILE).read_text(encoding="utf-8"), locations
        ),
    }


def sync(repo_root: Path) -> list[Path]:
    """Rewrite every derived file that differs; returns the files changed."""
    changed = []
    for relative, text in expected_files(repo_root).items():
        path = repo_root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(relative)
    return changed


def check(repo_root: Path) -> list[FileProblem]:
    """What differs from the folders, one problem per missing or stale location and file."""
    problems = []
    locations = discover_locations(repo_root)
    registered = registered_project_paths(repo_root)
    for location in locations:
        if location.relative_dir not in registered:
            problems.append(
                FileProblem(
                    PYPROJECT,
                    f"code location {location.name!r} is not in dg's workspace; add\n"
                    + _project_entry(location),
                )
            )
    known = {location.relative_dir for location in locations}
    problems += [
        FileProblem(PYPROJECT, f"dg's workspace lists {path}, which is not a code location folder")
        for path in registered
        if path not in known
    ]
    for relative, text in expected_files(repo_root).items():
        if relative == PYPROJECT:
            continue
        path = repo_root / relative
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            names = [loc.name for loc in locations if loc.name not in current]
            what = f"missing {', '.join(names)}" if names else "out of date"
            problems.append(FileProblem(relative, f"{what}; run `{SYNC_COMMAND}`"))
    return problems
