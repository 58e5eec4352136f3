"""`ol-platform olx blocks`: the OLX parser (`ol_orchestrate.lib.olx`) on one course export.

Parses a course export (a `.tar.gz` or its folder) into `<output>/course_blocks.parquet` (one row
per published block, as the `course_blocks` raw table has them) and prints the course key, its
settings' dates, the published blocks by type, the draft files left out and any pointer that did
not resolve, as JSON. Exit 2 for a missing input or an export with no course in it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BLOCKS_FILE = "course_blocks.parquet"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `olx` command group (subcommand `blocks`)."""
    group = commands.add_parser("olx", help="Open edX course export (OLX) tools")
    actions = group.add_subparsers(dest="olx_command", required=True)
    blocks = actions.add_parser(
        "blocks",
        help="parse an OLX course export into a course-blocks table and print blocks by type",
        description="Parse an OLX course export (.tar.gz or folder) into "
        "OUTPUT/course_blocks.parquet and print a JSON summary.",
    )
    blocks.add_argument("path", metavar="PATH")
    blocks.add_argument("--output", required=True, type=Path, metavar="DIR")
    blocks.add_argument(
        "--course-key",
        default=None,
        help="the course's key as its source writes it (a legacy Org/Num/Run gives i4x:// "
        "usage keys); default: course-v1: from course.xml",
    )


def run(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    from ol_orchestrate.lib.edxorg.explode import olx_block_rows
    from ol_orchestrate.lib.edxorg.tables import COURSE_BLOCKS
    from ol_orchestrate.lib.olx import OlxError, parse_olx
    from ol_orchestrate.lib.raw_tables import retrieved_now

    if not Path(args.path).exists():
        print(f"error: no such course export: {args.path}", file=sys.stderr)
        return 2
    try:
        course = parse_olx(args.path, course_key=args.course_key)
    except OlxError as error:
        print(f"error: {args.path}: {error}", file=sys.stderr)
        return 2
    output: Path = args.output
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"error: cannot create --output {output}: {error}", file=sys.stderr)
        return 2
    context = {
        "archive_date": "",
        "source_system": "",
        "archive_course_id": course.course_key,
        "retrieved_at": retrieved_now(),
    }
    table = COURSE_BLOCKS.to_table(olx_block_rows(course, context))
    pq.write_table(table, output / BLOCKS_FILE, compression="zstd")
    report = {
        "course_key": course.course_key,
        "display_name": course.display_name,
        "start": course.settings.get("start"),
        "end": course.settings.get("end"),
        "blocks": len(course.blocks),
        "blocks_by_type": course.block_counts(),
        "draft_files": course.draft_files,
        "problems": list(course.problems),
        "blocks_path": str(output / BLOCKS_FILE),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return 0
