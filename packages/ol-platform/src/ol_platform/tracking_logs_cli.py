"""`ol-platform tracking-logs normalize`: the Dagster asset's normalizer, outside Dagster.

For an engineer debugging a bad log file: normalize files (or every log in a folder) into
`<output>/events.parquet` and `<output>/quarantine.parquet` and print the summary as JSON, with
the same code the daily tracking-log assets run. A bad file (binary, truncated, oversized lines)
is not an error: its lines are quarantined with their reasons and the exit code is 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

LOG_SUFFIXES = (".log", ".log.gz", ".json", ".json.gz", ".gz")
EVENTS_FILE = "events.parquet"
QUARANTINE_FILE = "quarantine.parquet"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `tracking-logs` command group (subcommand `normalize`)."""
    group = commands.add_parser("tracking-logs", help="Open edX tracking-log tools")
    actions = group.add_subparsers(dest="tracking_logs_command", required=True)
    normalize = actions.add_parser(
        "normalize",
        help="normalize tracking-log files into Parquet and print a JSON summary",
        description="Normalize tracking logs (.log or .gz) into OUTPUT/events.parquet and "
        "OUTPUT/quarantine.parquet, and print the summary as JSON.",
    )
    normalize.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    normalize.add_argument("--output", required=True, type=Path, metavar="DIR")
    normalize.add_argument("--source-name", default=None, help="e.g. the deployment name")
    normalize.add_argument(
        "--max-line-bytes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="longest line normalized, in bytes; a longer one is quarantined as line_too_long "
        "(default: the normalizer's, 8 MiB)",
    )
    normalize.add_argument(
        "--top-event-types",
        type=int,
        default=50,
        help="event types listed in the summary, most frequent first (0 = all)",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be a positive number of bytes, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files as given; a folder contributes its log files (`LOG_SUFFIXES`) in name order."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(
                sorted(
                    child
                    for child in path.iterdir()
                    if child.is_file() and child.name.endswith(LOG_SUFFIXES)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            msg = f"no such file or directory: {item}"
            raise FileNotFoundError(msg)
    return files


def run(args: argparse.Namespace) -> int:
    from ol_orchestrate.lib.tracking_logs import DEFAULT_MAX_LINE_BYTES, normalize_files

    try:
        files = expand_inputs(args.inputs)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not files:
        print(f"error: no tracking-log files in {', '.join(args.inputs)}", file=sys.stderr)
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
    try:
        summary = normalize_files(
            [str(f) for f in files],
            output / EVENTS_FILE,
            output / QUARANTINE_FILE,
            source_name=args.source_name,
            max_line_bytes=args.max_line_bytes or DEFAULT_MAX_LINE_BYTES,
        )
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = summary.to_dict()
    if args.top_event_types:
        seen = report["event_types_seen"]
        report["event_types_seen"] = dict(list(seen.items())[: args.top_event_types])
        report["event_types_distinct"] = len(seen)
    report["events_path"] = str(output / EVENTS_FILE)
    report["quarantine_path"] = str(output / QUARANTINE_FILE)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0
