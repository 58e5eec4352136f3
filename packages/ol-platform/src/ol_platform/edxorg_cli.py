"""`ol-platform edxorg explode`: the edxorg location's archive exploder, outside Dagster.

For an engineer looking at a real delivery: explode an edX.org research data archive (a
`.tar.gz`, or a folder of its members) into `<output>/<table>/<course slug>-<site>.parquet` with
the rows that could not land in `<output>/quarantine/<table>/...jsonl`, using exactly the code the
Dagster assets run, and print a JSON summary: `tables` (rows written per table), `quarantined`
(rows by reason), `forum_documents`, `course_blocks` (published OLX blocks by type) and `files`
(each member's kind, course id, site, table and status). Quarantined rows are not an error (exit
0); a missing input or an unreadable archive is (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from upath import UPath

QUARANTINE_DIR = "quarantine"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `edxorg` command group (subcommand `explode`)."""
    group = commands.add_parser("edxorg", help="edX.org research data tools")
    actions = group.add_subparsers(dest="edxorg_command", required=True)
    explode = actions.add_parser(
        "explode",
        help="explode an edX.org archive into Parquet tables and print a JSON summary",
        description="Explode an edX.org research data archive (mitx-YYYY-MM-DD.tar.gz, or a "
        "folder of its members) into OUTPUT/<table>/<course>-<site>.parquet and print a JSON "
        "summary.",
    )
    explode.add_argument("archive", metavar="ARCHIVE_OR_DIR")
    explode.add_argument("--output", required=True, type=Path, metavar="DIR")
    explode.add_argument(
        "--archive-date",
        default=None,
        metavar="YYYY-MM-DD",
        help="the archive's date (default: from its name, else today)",
    )


def run(args: argparse.Namespace) -> int:
    from ol_orchestrate.lib.edxorg import ArchiveReadError, explode_archive, parse_archive_name
    from ol_orchestrate.lib.raw_tables import retrieved_now

    source = Path(args.archive)
    if not source.exists():
        print(f"error: no such archive or folder: {args.archive}", file=sys.stderr)
        return 2
    output: Path = args.output
    try:
        output.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        print(f"error: --output {output} is a file; give a folder (it is created)", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot create --output {output}: {error.strerror}", file=sys.stderr)
        return 2
    name = parse_archive_name(source.name) or parse_archive_name(f"{source.name}.tar.gz")
    archive_date = args.archive_date or (
        name.archive_date if name else datetime.now(UTC).date().isoformat()
    )
    root = UPath(output.resolve())
    try:
        summary = explode_archive(
            source,
            lambda table, stem: root / table / f"{stem}.parquet",
            lambda table, stem: root / QUARANTINE_DIR / table / f"{stem}.jsonl",
            archive_date=archive_date,
            retrieved_at=retrieved_now(),
        )
    except ArchiveReadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = summary.to_dict()
    report["output"] = str(output)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0
