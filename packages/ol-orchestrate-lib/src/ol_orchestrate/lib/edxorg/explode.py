"""Explode one edX.org archive into raw tables: one Parquet file per table and course.

`explode_archive(source, table_path, quarantine_path, ...)` reads every member of an archive (a
`.tar.gz`, or a folder of its members), turns each declared member into rows of its raw table
(`ol_orchestrate.lib.edxorg.tables`) and writes them, one file per table and course
(`table_path(table, "<course slug>-<site>")`), with the lines that are not rows beside them
(`quarantine_path(...)`, JSON lines `{"reason", "position", "record"}`). It runs in two phases,
so a bad archive leaves nothing partial: every member is read and parsed into a local staging
folder first (a truncated or corrupt archive fails here, before anything is written), then the
staged files are written, each atomically. A member whose content (and table schema) is the one
`previous` recorded for the same output is not parsed or written again (`unchanged`), and the
files `previous` lists for members the archive no longer has are removed.

Used by the edxorg code location (per archive partition, into the lake) and by
`ol-platform edxorg explode` (into a folder), so both land exactly the same rows.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from ol_orchestrate.io_managers import write_bytes_atomic
from ol_orchestrate.lib.edxorg import mongo, naming, tsv
from ol_orchestrate.lib.edxorg.tables import (
    ARCHIVE_MEMBERS,
    ARCHIVE_TABLES,
    COURSE_BLOCKS,
    COURSE_STRUCTURE,
    DROPPED_COLUMNS,
    FORUM_MAPPED_FIELDS,
    FORUM_POSTS,
    TSV_TABLES_BY_NAME,
)
from ol_orchestrate.lib.olx import OlxError, parse_olx
from ol_orchestrate.lib.quarantine import Quarantine, rows_to_table
from ol_orchestrate.lib.raw_tables import RawTable

WRITTEN = "written"
UNCHANGED = "unchanged"
UNDECLARED = "undeclared"
UNKNOWN = "unknown"
INVALID_COURSE_STRUCTURE = "invalid_course_structure"
INVALID_COURSE_EXPORT = "invalid_course_export"

# What a value read for a column of each type must be (bool is an int: listed before int64).
_PYTHON_TYPES: dict[pa.DataType, type | tuple[type, ...]] = {
    pa.string(): str,
    pa.int64(): int,
    pa.float64(): (float, int),
    pa.bool_(): bool,
}
# (table name, file stem) -> where that course's part of the table goes
PathFor = Callable[[str, str], UPath]


class ArchiveReadError(RuntimeError):
    """The archive cannot be read to its end (truncated, corrupt, not a tar.gz): nothing landed."""


@dataclass
class MemberOutcome:
    """What became of one member of the archive."""

    member: str
    kind: str
    course_id: str | None
    source_system: str | None
    table: str | None
    size_bytes: int
    content_sha256: str
    status: str
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    output_path: str | None = None
    block_counts: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)


@dataclass
class TableOutcome:
    """One raw table's share of an archive (summed over its courses)."""

    table: str
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    files_written: int = 0
    files_unchanged: int = 0
    courses: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_written + self.rows_quarantined


@dataclass
class ExplodeSummary:
    archive_date: str
    members: list[MemberOutcome]

    def tables(self) -> dict[str, TableOutcome]:
        """Every archive table (also those the archive has no member of), in declaration order."""
        found = {table.name: TableOutcome(table.name) for table in ARCHIVE_TABLES}
        for outcome in self.members:
            if outcome.table not in found or outcome.status not in (WRITTEN, UNCHANGED):
                continue
            total = found[outcome.table]
            total.rows_read += outcome.rows_read
            total.rows_written += outcome.rows_written
            total.rows_quarantined += outcome.rows_quarantined
            for reason, count in outcome.quarantined_by_reason.items():
                total.quarantined_by_reason[reason] = (
                    total.quarantined_by_reason.get(reason, 0) + count
                )
            if outcome.status == WRITTEN:
                total.files_written += 1
            else:
                total.files_unchanged += 1
            if outcome.course_id and outcome.course_id not in total.courses:
                total.courses.append(outcome.course_id)
        return found

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary `ol-platform edxorg explode` prints."""
        tables = self.tables()
        quarantined: dict[str, int] = {}
        blocks: dict[str, int] = {}
        for outcome in self.members:
            for reason, count in outcome.quarantined_by_reason.items():
                quarantined[reason] = quarantined.get(reason, 0) + count
            for block_type, count in outcome.block_counts.items():
                blocks[block_type] = blocks.get(block_type, 0) + count
        return {
            "archive_date": self.archive_date,
            "tables": {name: t.rows_written for name, t in tables.items() if t.courses},
            "rows_read": sum(t.rows_read for t in tables.values()),
            "rows_written": sum(t.rows_written for t in tables.values()),
            "rows_quarantined": sum(t.rows_quarantined for t in tables.values()),
            "quarantined": dict(sorted(quarantined.items())),
            "forum_documents": tables[FORUM_POSTS.name].rows_written,
            "course_blocks": dict(sorted(blocks.items(), key=lambda item: (-item[1], item[0]))),
            "files": {
                outcome.member: {
                    "kind": outcome.kind,
                    "course_id": outcome.course_id,
                    "source_system": outcome.source_system,
                    "table": outcome.table,
                    "status": outcome.status,
                }
                for outcome in self.members
            },
        }


# -- reading archives --------------------------------------------------------------------------


def iter_members(source: str | Path | IO[bytes]) -> Iterator[tuple[str, bytes]]:
    """(member path, bytes) of every file of an archive (`.tar.gz` path or file object, read as
    a stream to its end) or a folder (files in name order, paths relative to it). Hidden files and
    folders are skipped. A truncated or corrupt archive raises `ArchiveReadError`."""
    if not isinstance(source, str | Path):
        yield from _tar_members(source, "<stream>")
        return
    path = Path(source)
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            relative = child.relative_to(path)
            if child.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield relative.as_posix(), child.read_bytes()
        return
    if not path.is_file():
        raise FileNotFoundError(f"no such archive or folder: {source}")
    with path.open("rb") as handle:
        yield from _tar_members(handle, str(path))


def _tar_members(handle: IO[bytes], label: str) -> Iterator[tuple[str, bytes]]:
    try:
        with tarfile.open(fileobj=handle, mode="r|*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                name = PurePosixPath(member.name)
                if ".." in name.parts or any(part.startswith(".") for part in name.parts[1:]):
                    continue
                extracted = archive.extractfile(member)
                data = extracted.read() if extracted is not None else b""
                if len(data) != member.size:
                    raise ArchiveReadError(f"{label}: member {member.name} is cut short")
                yield name.as_posix(), data
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:  # zlib errors are OSError
        raise ArchiveReadError(
            f"{label} cannot be read to its end ({type(error).__name__}: {error}); "
            "it is truncated or corrupt: nothing was landed"
        ) from error


# -- exploding ---------------------------------------------------------------------------------


def schema_fingerprint(table: RawTable) -> str:
    return hashlib.sha256(str(table.schema).encode()).hexdigest()[:16]


def content_sha256(data: bytes, table: RawTable | None) -> str:
    digest = hashlib.sha256(data)
    if table is not None:
        digest.update(b"\0" + schema_fingerprint(table).encode())
    return digest.hexdigest()


@dataclass
class _Staged:
    outcome: MemberOutcome
    table: str
    stem: str
    data_file: Path
    rejects: list[dict[str, Any]]


def explode_archive(
    source: str | Path | IO[bytes],
    table_path: PathFor,
    quarantine_path: PathFor,
    *,
    archive_date: str,
    retrieved_at: str,
    previous: Mapping[str, Mapping[str, Any]] | None = None,
    log: Callable[[str], None] | None = None,
) -> ExplodeSummary:
    """Explode one archive (see the module doc). `previous` maps an output path to what an
    earlier run recorded for it (`content_sha256`, `rows_read`, `rows_written`,
    `rows_quarantined`): a member with the same content whose file is still there is skipped."""
    previous = previous or {}
    outcomes: list[MemberOutcome] = []
    staged: list[_Staged] = []
    with tempfile.TemporaryDirectory(prefix="edxorg-explode-") as scratch:
        for member, data in iter_members(source):
            parsed = naming.parse_member_name(member)
            table = _table_for(parsed)
            outcome = MemberOutcome(
                member=member,
                kind=parsed.kind,
                course_id=parsed.course_id,
                source_system=parsed.source_system,
                table=table.name if table else parsed.table,
                size_bytes=len(data),
                content_sha256=content_sha256(data, table),
                status=UNKNOWN if parsed.kind == naming.UNKNOWN else UNDECLARED,
            )
            outcomes.append(outcome)
            if table is None or parsed.file_stem is None or parsed.course_id is None:
                if log and parsed.kind == naming.TABLE:
                    log(f"{member}: table {parsed.table} is not declared; not landed")
                continue
            output = table_path(table.name, parsed.file_stem)
            outcome.output_path = str(output)
            earlier = previous.get(str(output))
            if (
                earlier
                and earlier.get("content_sha256") == outcome.content_sha256
                and output.exists()
            ):
                outcome.status = UNCHANGED
                outcome.rows_read = int(earlier.get("rows_read") or 0)
                outcome.rows_written = int(earlier.get("rows_written") or 0)
                outcome.rows_quarantined = int(earlier.get("rows_quarantined") or 0)
                continue
            context = {
                "archive_date": archive_date,
                "source_system": parsed.source_system,
                "archive_course_id": parsed.course_id,
                "retrieved_at": retrieved_at,
            }
            quarantine = Quarantine()
            rows_read, arrow_table = _parse_member(
                table, parsed, data, context, quarantine, outcome
            )
            outcome.status = WRITTEN
            outcome.rows_read = rows_read
            outcome.rows_written = arrow_table.num_rows
            outcome.rows_quarantined = len(quarantine.rejected)
            outcome.quarantined_by_reason = quarantine.counts_by_reason
            data_file = Path(scratch) / f"{len(staged)}.parquet"
            pq.write_table(arrow_table, data_file, compression="zstd")
            staged.append(
                _Staged(outcome, table.name, parsed.file_stem, data_file, quarantine.rejected)
            )
        # Phase 2: the whole archive was read; write what it holds.
        for item in staged:
            write_bytes_atomic(table_path(item.table, item.stem), item.data_file.read_bytes())
            rejects_path = quarantine_path(item.table, item.stem)
            if item.rejects:
                body = "".join(
                    json.dumps(reject, default=str, ensure_ascii=False) + "\n"
                    for reject in item.rejects
                )
                write_bytes_atomic(rejects_path, body.encode("utf-8"))
            elif rejects_path.exists():
                rejects_path.unlink()
        _remove_stale(previous, outcomes, table_path, quarantine_path)
    return ExplodeSummary(archive_date, outcomes)


def _remove_stale(
    previous: Mapping[str, Mapping[str, Any]],
    outcomes: list[MemberOutcome],
    table_path: PathFor,
    quarantine_path: PathFor,
) -> None:
    """Files an earlier delivery of the archive wrote for members this one no longer has: the
    partition holds what the archive holds, so they go (with their quarantined rows)."""
    current = {outcome.output_path for outcome in outcomes if outcome.output_path}
    for output, earlier in previous.items():
        table = earlier.get("table_name")
        if output in current or not table:
            continue
        stem = PurePosixPath(output).stem
        for stale in (table_path(str(table), stem), quarantine_path(str(table), stem)):
            if stale.exists():
                stale.unlink()


def _table_for(parsed: naming.MemberName) -> RawTable | None:
    if parsed.kind == naming.TABLE:
        return TSV_TABLES_BY_NAME.get(parsed.name or "")
    return {
        naming.FORUM: FORUM_POSTS,
        naming.COURSE_STRUCTURE: COURSE_STRUCTURE,
        naming.COURSE_XML: COURSE_BLOCKS,
    }.get(parsed.kind)


def _parse_member(
    table: RawTable,
    parsed: naming.MemberName,
    data: bytes,
    context: dict[str, Any],
    quarantine: Quarantine,
    outcome: MemberOutcome,
) -> tuple[int, pa.Table]:
    """(records read, the table of those that landed); the others are in `quarantine`."""
    if parsed.kind == naming.TABLE:
        rows, read = _tsv_rows(table, data, context, quarantine, outcome)
    elif parsed.kind == naming.FORUM:
        rows, read = _forum_rows(data, context, quarantine)
    elif parsed.kind == naming.COURSE_STRUCTURE:
        rows, read = _structure_rows(data, context, quarantine)
    else:
        rows, read = _olx_rows(data, parsed, context, quarantine, outcome)
    return read, rows_to_table(rows, table.schema, table.required, quarantine)


def _tsv_rows(
    table: RawTable,
    data: bytes,
    context: dict[str, Any],
    quarantine: Quarantine,
    outcome: MemberOutcome,
) -> tuple[list[dict[str, Any]], int]:
    parsed = tsv.read_tsv(data)
    declared = [column for column in table.columns if not column.given]
    names = {column.name for column in declared}
    outcome.extra_columns = [
        n for n in parsed.header if n not in names and n not in DROPPED_COLUMNS
    ]
    outcome.missing_columns = [n for n in names if n not in parsed.header]
    readers = [
        (
            column.name,
            column.read or table.readers.get(column.type),
            _PYTHON_TYPES.get(column.type, object),
        )
        for column in declared
    ]
    rows: list[dict[str, Any]] = []
    read = 0
    for row in parsed.rows:
        read += 1
        if row.values is None:
            quarantine.reject(row.raw, row.reason or "unreadable", row.line_number)
            continue
        values = row.values
        out = {
            "archive_date": context["archive_date"],
            "source_system": context["source_system"],
            "archive_course_id": context["archive_course_id"],
        }
        wrong = None
        for name, reader, python_type in readers:
            value = values.get(name)
            value = reader(value) if reader else value
            if value is not None and not isinstance(value, python_type) and wrong is None:
                wrong = f"{name}: {value!r} is not {table.column(name).type}"
            out[name] = value
        if wrong is not None:
            quarantine.reject(out, wrong.split(":")[0] + " has the wrong type", row.line_number)
            continue
        extras = {k: values[k] for k in outcome.extra_columns}
        out["extra_columns"] = json.dumps(extras, ensure_ascii=False) if extras else None
        out["source_line"] = row.line_number
        out["retrieved_at"] = context["retrieved_at"]
        rows.append(out)
    return rows, read


def _forum_rows(
    data: bytes, context: dict[str, Any], quarantine: Quarantine
) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    read = 0
    for document in mongo.read_mongo(data):
        read += 1
        if document.document is None:
            quarantine.reject(document.raw, document.reason or "unreadable", document.line_number)
            continue
        doc = document.document
        is_thread = doc.get("_type") == "CommentThread"
        extras = {k: v for k, v in doc.items() if k not in FORUM_MAPPED_FIELDS}
        rows.append(
            FORUM_POSTS.row(
                doc,
                **{k: context[k] for k in ("archive_date", "source_system", "archive_course_id")},
                thread_id=_text(doc.get("_id") if is_thread else doc.get("comment_thread_id")),
                extra_columns=json.dumps(extras, ensure_ascii=False, sort_keys=True)
                if extras
                else None,
                source_line=document.line_number,
                retrieved_at=context["retrieved_at"],
            )
        )
    return rows, read


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _structure_rows(
    data: bytes, context: dict[str, Any], quarantine: Quarantine
) -> tuple[list[dict[str, Any]], int]:
    try:
        blocks = json.loads(data)
    except ValueError:
        quarantine.reject(data[:2000].decode("utf-8", "replace"), INVALID_COURSE_STRUCTURE, 0)
        return [], 1
    if isinstance(blocks, dict) and isinstance(blocks.get("blocks"), dict):
        blocks = blocks["blocks"]
    if not isinstance(blocks, dict):
        quarantine.reject(str(type(blocks).__name__), INVALID_COURSE_STRUCTURE, 0)
        return [], 1
    ordered = structure_order(blocks)
    rows = []
    for index, (block_id, parent, depth) in enumerate(ordered):
        found = blocks.get(block_id)
        block: dict[str, Any] = found if isinstance(found, dict) else {}
        found_metadata = block.get("metadata")
        metadata: dict[str, Any] = found_metadata if isinstance(found_metadata, dict) else {}
        rows.append(
            {
                "archive_date": context["archive_date"],
                "source_system": context["source_system"],
                "archive_course_id": context["archive_course_id"],
                "block_id": block_id,
                "block_type": block.get("category") or block.get("block_type"),
                "display_name": _text(metadata.get("display_name")),
                "parent_block_id": parent,
                "block_index": index,
                "block_depth": depth,
                "graded": bool(metadata.get("graded"))
                if metadata.get("graded") is not None
                else None,
                "block_format": _text(metadata.get("format")),
                "due": _text(metadata.get("due")),
                "start": _text(metadata.get("start")),
                "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
                "extra_columns": None,
                "source_line": None,
                "retrieved_at": context["retrieved_at"],
            }
        )
    return rows, len(rows)


def structure_order(blocks: Mapping[str, Any]) -> list[tuple[str, str | None, int]]:
    """(block id, parent id, depth) depth-first from the course block, children in order; blocks
    no parent reaches are appended in key order (as roots)."""
    roots = [k for k, v in blocks.items() if isinstance(v, dict) and v.get("category") == "course"]
    order: list[tuple[str, str | None, int]] = []
    seen: set[str] = set()
    stack: list[tuple[str, str | None, int]] = [
        (root, None, 0) for root in sorted(roots, reverse=True)
    ]
    while True:
        while stack:
            key, parent, depth = stack.pop()
            if key in seen or key not in blocks:
                continue
            seen.add(key)
            order.append((key, parent, depth))
            block = blocks[key] if isinstance(blocks[key], dict) else {}
            children = block.get("children") or []
            stack.extend(
                (child, key, depth + 1) for child in reversed(children) if isinstance(child, str)
            )
        rest = [key for key in sorted(blocks) if key not in seen]
        if not rest:
            return order
        stack.append((rest[0], None, 0))


def _olx_rows(
    data: bytes,
    parsed: naming.MemberName,
    context: dict[str, Any],
    quarantine: Quarantine,
    outcome: MemberOutcome,
) -> tuple[list[dict[str, Any]], int]:
    course_key = parsed.course_id
    if course_key and course_key.startswith("ccx-v1:"):
        course_key = None  # CCX keys are not course keys of opaque-keys' own: use course.xml's
    try:
        course = parse_olx(data, course_key=course_key)
    except OlxError as error:
        quarantine.reject({"member": parsed.member, "error": str(error)}, INVALID_COURSE_EXPORT, 0)
        return [], 1
    outcome.block_counts = course.block_counts()
    return olx_block_rows(course, context), len(course.blocks)


def olx_block_rows(course: Any, context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `course_blocks` rows of a parsed course (`ol_orchestrate.lib.olx.OlxCourse`)."""
    rows = []
    for block in course.blocks:
        rows.append(
            {
                "archive_date": context["archive_date"],
                "source_system": context["source_system"],
                "archive_course_id": context["archive_course_id"],
                "block_id": block.usage_key,
                "block_type": block.block_type,
                "display_name": block.display_name,
                "parent_block_id": block.parent_usage_key,
                "url_name": block.url_name,
                "block_index": block.index,
                "block_depth": block.depth,
                "graded": block.graded,
                "block_format": block.format,
                "due": block.setting("due"),
                "start": block.setting("start"),
                "block_position": block.position,
                "attributes": json.dumps(
                    dict(block.attributes), ensure_ascii=False, sort_keys=True, default=str
                ),
                "extra_columns": None,
                "source_line": None,
                "retrieved_at": context["retrieved_at"],
            }
        )
    return rows


def manifest_rows(
    summary: ExplodeSummary, archive_key: str, archive_etag: str | None, retrieved_at: str
) -> list[dict[str, Any]]:
    """The `archive_members` rows of an exploded archive."""
    return [
        ARCHIVE_MEMBERS.row(
            archive_date=summary.archive_date,
            archive_key=archive_key,
            archive_etag=archive_etag,
            member=o.member,
            kind=o.kind,
            source_system=o.source_system,
            archive_course_id=o.course_id,
            table_name=o.table,
            size_bytes=o.size_bytes,
            content_sha256=o.content_sha256,
            rows_read=o.rows_read,
            rows_written=o.rows_written,
            rows_quarantined=o.rows_quarantined,
            status=o.status,
            output_path=o.output_path,
            retrieved_at=retrieved_at,
        )
        for o in summary.members
    ]


def previous_outputs(manifest: pa.Table | None) -> dict[str, dict[str, Any]]:
    """`previous` for `explode_archive` from an earlier `archive_members` table."""
    if manifest is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for row in manifest.to_pylist():
        if row.get("output_path") and row.get("status") in (WRITTEN, UNCHANGED):
            found[row["output_path"]] = row
    return found


def read_manifest(path: UPath) -> pa.Table | None:
    """An archive partition's earlier member list, or None (absent or unreadable)."""
    try:
        with path.open("rb") as handle:
            return pq.read_table(io.BytesIO(handle.read()))
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return None
