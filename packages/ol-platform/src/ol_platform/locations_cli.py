"""`ol-platform locations`: list the code locations, scaffold a new one, derive the files that
list them (`sync`) or check those files (`check`, what CI's test runs)."""

from __future__ import annotations

import argparse

from rich.console import Console

from ol_orchestrate.lib.environment import get_settings
from ol_platform.deployment_files import SYNC_COMMAND, check, sync
from ol_platform.locations import LocationError, discover_locations
from ol_platform.scaffold import ScaffoldError, new_location


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("locations", help="list, add and sync the code locations")
    actions = group.add_subparsers(dest="locations_command", required=True)
    actions.add_parser("list", help="the code locations found in dg_projects/")
    new = actions.add_parser("new", help="scaffold a new code location in dg_projects/<NAME>")
    new.add_argument("name", metavar="NAME")
    actions.add_parser(
        "sync", help="derive the workspace, compose and dg files from the dg_projects/ folders"
    )
    actions.add_parser("check", help="exit 1 if a derived file is out of step with the folders")


def run(args: argparse.Namespace, console: Console) -> int:
    root = get_settings().repo_root
    try:
        if args.locations_command == "list":
            for location in discover_locations(root):
                console.print(f"{location.name:<20} {location.relative_dir}  ({location.module})")
            return 0
        if args.locations_command == "new":
            written = new_location(root, args.name)
            for path in written:
                console.print(f"wrote {path}")
            console.print(
                f"Next: add assets under dg_projects/{args.name}/{args.name}/defs/, then "
                "`uv run dg check defs --use-active-venv` and commit uv.lock after `uv lock`."
            )
            return 0
        if args.locations_command == "sync":
            changed = sync(root)
            console.print("\n".join(f"updated {path}" for path in changed) or "up to date")
            return 0
        problems = check(root)
    except (LocationError, ScaffoldError, ValueError) as error:
        console.print(f"[red]{error}[/red]")
        return 2
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    if problems:
        console.print(f"fix: `{SYNC_COMMAND}`")
    return 1 if problems else 0
