#!/usr/bin/env python3
"""Run uv across the workspace: the root and every member (packages/*, dg_projects/*).

    python bin/uv-operations.py sync --continue-on-error
    python bin/uv-operations.py lock --upgrade
    python bin/uv-operations.py sync --dry-run          # print the commands, run nothing

The workspace has ONE lock file and ONE environment (.venv), so the root step does the work and
each member's step checks that member on its own:

    sync  root    uv sync [--upgrade]                            every member into .venv
          member  uv sync --package NAME --inexact [--upgrade]   the member installs from the lock
                                                                 (--inexact: the others stay)
    lock  root    uv lock [--upgrade]                            uv.lock for every member
          member  uv sync --package NAME --inexact --locked --dry-run
                                                                 the member resolves from the new
                                                                 lock (installs nothing)

Arguments after `--` go to every uv command. It reports each member (ok / FAILED and how long it
took); the first failure stops the run unless --continue-on-error, which runs every member and
exits 1 at the end naming those that failed. Members are the folders the root pyproject.toml's
`[tool.uv.workspace] members` globs match (minus `exclude`), so a new code location is included
without an edit here. Pure standard library: it runs with a plain `python`, before any `uv sync`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Member:
    path: Path  # relative to the workspace root; Path() is the root
    package: str | None  # the [project] name; None for the (virtual) root

    @property
    def label(self) -> str:
        return "workspace root" if self.package is None else self.path.as_posix()


def workspace_members(root: Path) -> list[Member]:
    """The root, then every member folder in the order of the `members` globs."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    workspace = pyproject.get("tool", {}).get("uv", {}).get("workspace", {})
    excluded = {
        path.resolve() for pattern in workspace.get("exclude", []) for path in root.glob(pattern)
    }
    members = [Member(Path(), pyproject.get("project", {}).get("name"))]
    seen: set[Path] = set()
    for pattern in workspace.get("members", []):
        for folder in sorted(root.glob(pattern)):
            manifest = folder / "pyproject.toml"
            if folder.resolve() in excluded | seen or not manifest.is_file():
                continue
            seen.add(folder.resolve())
            project = tomllib.loads(manifest.read_text(encoding="utf-8")).get("project", {})
            members.append(Member(folder.relative_to(root), project.get("name", folder.name)))
    return members


def command_for(member: Member, args: argparse.Namespace, uv: str) -> list[str]:
    upgrade = ["--upgrade"] if args.upgrade else []
    extra = list(args.uv_args)
    if member.path == Path():
        return [uv, args.operation, *upgrade, *extra]
    assert member.package is not None
    package = ["--package", member.package, "--inexact"]
    if args.operation == "sync":
        return [uv, "sync", *package, *upgrade, *extra]
    return [uv, "sync", *package, "--locked", "--dry-run", *extra]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bin/uv-operations.py",
        usage="%(prog)s [options] {sync,lock} [-- UV_ARG ...]",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        epilog=(
            "examples:\n"
            "  python bin/uv-operations.py sync --continue-on-error\n"
            "  python bin/uv-operations.py lock --upgrade\n"
            "  python bin/uv-operations.py sync --dry-run -- --frozen  (after --: uv's own)\n\n"
            "exit status: 0 every member ok, 1 a member failed, 2 bad usage or no uv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "operation",
        choices=("sync", "lock"),
        help="sync: install the workspace and check each member; lock: (re)lock the workspace",
    )
    parser.add_argument(
        "--upgrade", action="store_true", help="allow package upgrades (uv's --upgrade)"
    )
    parser.add_argument(
        "--continue-on-error",
        action="store_true",
        help="run every member even after a failure; exit 1 at the end naming the failures",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the commands, run nothing (no network)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="MEMBER",
        help="only this member (its path or package name; `root` for the root); repeatable",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the workspace root (default: this repository)"
    )
    parser.add_argument(
        "--uv", default=os.environ.get("UV", "uv"), help="the uv executable (default: UV or uv)"
    )
    return parser


def _selected(members: list[Member], only: list[str] | None) -> list[Member]:
    if not only:
        return members
    wanted = set(only)
    chosen = [
        member
        for member in members
        if {member.path.as_posix(), member.package or "", member.path.name} & wanted
        or (member.package is None and wanted & {"root", "."})
    ]
    unknown = wanted - {
        name for m in chosen for name in (m.path.as_posix(), m.package or "", m.path.name)
    }
    unknown -= {"root", "."}
    if unknown:
        names = ", ".join(m.path.as_posix() for m in members[1:])
        msg = f"unknown member(s): {', '.join(sorted(unknown))} (members: root, {names})"
        raise ValueError(msg)
    return chosen


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything after `--` goes to uv untouched (argparse would read it as its own options).
    split = argv.index("--") if "--" in argv else len(argv)
    args = build_parser().parse_args(argv[:split])
    args.uv_args = argv[split + 1 :]
    root = args.root.resolve()
    if not (root / "pyproject.toml").is_file():
        print(f"bin/uv-operations.py: no pyproject.toml in {root}", file=sys.stderr)
        return 2
    try:
        members = _selected(workspace_members(root), args.only)
    except ValueError as error:
        print(f"bin/uv-operations.py: {error}", file=sys.stderr)
        return 2
    uv = args.uv
    if not args.dry_run and shutil.which(uv) is None:
        print(
            f"bin/uv-operations.py: {uv!r} not found on PATH (pip install uv, or --uv PATH)",
            file=sys.stderr,
        )
        return 2

    results: list[tuple[Member, int | None, float]] = []
    for index, member in enumerate(members, start=1):
        command = command_for(member, args, uv)
        print(
            f"==> [{index}/{len(members)}] {member.label}: {shlex.join(command)}",
            flush=True,
        )
        if args.dry_run:
            results.append((member, None, 0.0))
            continue
        started = time.monotonic()
        returncode = subprocess.run(command, cwd=root, check=False).returncode
        results.append((member, returncode, time.monotonic() - started))
        if returncode != 0 and not args.continue_on_error:
            break

    print(f"\nuv {args.operation}:")
    for member, outcome, seconds in results:
        if outcome is None:
            status = "would run"
        elif outcome == 0:
            status = f"ok ({seconds:.1f}s)"
        else:
            status = f"FAILED (exit {outcome}, {seconds:.1f}s)"
        print(f"  {member.label:<40} {status}")
    skipped = members[len(results) :]
    for member in skipped:
        print(f"  {member.label:<40} not run")

    failed = [member for member, outcome, _ in results if outcome not in (0, None)]
    if failed:
        names = ", ".join(member.label for member in failed)
        hint = f"; {len(skipped)} not run (--continue-on-error runs them all)" if skipped else ""
        print(f"uv {args.operation} failed for: {names}{hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
