"""Helpers for the code locations' own tests: load a location under an environment, snapshot it.

Every location tests the same two things — it loads in dev, ci, qa and production with no
credentials, and its asset graph matches a reviewed snapshot — so the mechanics live here once.
The fault matrix (docs/fault_matrix.md) shares its rows, outcomes and doc rendering here too.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq

from ol_orchestrate.lib.environment import environ_overrides, reset_settings_cache

UPDATE_SNAPSHOTS_ENV = "UPDATE_SNAPSHOTS"


@contextmanager
def environment(env: str, extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Run a block under `DAGSTER_ENV=env` (plus `extra` variables), restoring everything after."""
    reset_settings_cache()
    try:
        with environ_overrides({"DAGSTER_ENV": env, **(extra or {})}):
            reset_settings_cache()
            yield
    finally:
        reset_settings_cache()


def load_definitions(module_name: str) -> dg.Definitions:
    """Import (or re-import) a location's definitions module and return its validated `defs`."""
    if module_name in sys.modules:
        module = importlib.reload(sys.modules[module_name])
    else:
        module = importlib.import_module(module_name)
    defs = module.defs
    assert isinstance(defs, dg.Definitions), f"{module_name}.defs is not a Definitions"
    dg.Definitions.validate_loadable(defs)
    return defs


def asset_key_lines(defs: dg.Definitions) -> list[str]:
    """One line per asset: its key, group and kinds, sorted — the reviewed shape of the graph."""
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        kinds = ",".join(sorted(node.kinds))
        lines.append(f"{key.to_user_string()}  group={node.group_name}  kinds={kinds}")
    return lines


def assert_matches_snapshot(lines: list[str], snapshot: Path) -> None:
    """Compare with the committed snapshot; `UPDATE_SNAPSHOTS=1` rewrites it instead."""
    text = "\n".join(lines) + "\n"
    if os.environ.get(UPDATE_SNAPSHOTS_ENV) == "1" or not snapshot.exists():
        if os.environ.get("CI") == "true" and not snapshot.exists():
            msg = f"snapshot {snapshot} is missing; run the tests with {UPDATE_SNAPSHOTS_ENV}=1"
            raise AssertionError(msg)
        snapshot.write_text(text)
        return
    expected = snapshot.read_text()
    assert text == expected, (
        f"asset graph differs from {snapshot.name}; if the change is intended, re-run with "
        f"{UPDATE_SNAPSHOTS_ENV}=1 and commit the snapshot"
    )


@contextmanager
def persistent_instance(
    overrides: Mapping[str, Any] | None = None, *, in_memory: bool = False
) -> Iterator[dg.DagsterInstance]:
    """A throwaway persistent (SQLite) Dagster instance, disposed afterwards.

    `overrides` are instance settings as in `dagster.yaml` (e.g. `{"run_retries": {"enabled":
    True, "max_retries": 3}}`, as the deployed instance has). `in_memory` puts its files on a
    RAM file system (`/dev/shm`, where there is one) for tests that write hundreds of runs:
    SQLite's syncs to disk are most of a run's cost there.

    Use instead of `dg.instance_for_test()`: entering an instance as a context manager sets
    Dagster's current defs-state storage in a context variable that its `__exit__` does not reset,
    so every later `Definitions` resolution in the same test session fails with "Attempted to
    resolve undefined DagsterInstance weakref". Sensor ticks with partitioned run requests and
    schedule contexts need a persistent instance (one with an instance ref), hence this helper.
    """
    ram = Path("/dev/shm")  # noqa: S108 - a private temporary directory is made inside
    folder = str(ram) if in_memory and ram.is_dir() and os.access(ram, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="dagster-instance-", dir=folder) as home:
        instance = dg.DagsterInstance.local_temp(tempdir=home, overrides=dict(overrides or {}))
        try:
            yield instance
        finally:
            instance.dispose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for a test server that needs a fixed port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- fault matrix ------------------------------------------------------------------------------
# Each location with API assets has a `test_fault_matrix.py`: one test per (source, fault) cell,
# its expected outcome declared next to the parametrization as a `FaultCell`. The cells render
# the table of docs/fault_matrix.md (`assert_fault_matrix_doc`, `UPDATE_SNAPSHOTS=1` rewrites a
# source's column), and with `OL_FAULT_MATRIX_RECORD=<file>` every cell appends what it observed
# to that JSON-lines file (`record_fault_outcome`).

FAULT_MATRIX_RECORD_ENV = "OL_FAULT_MATRIX_RECORD"
FAULT_MATRIX_BEGIN = "<!-- fault-matrix"
FAULT_MATRIX_END = "<!-- /fault-matrix -->"


class Outcome(StrEnum):
    """What a raw asset does under a fault (the legend of docs/fault_matrix.md)."""

    RECOVERED = "recovered"
    FAILED_CLEAN = "failed clean"
    QUARANTINED = "quarantined"
    REJECTED = "rejected"
    NULL = "null"
    IGNORED = "ignored"
    CONVERTED = "converted"
    NOT_APPLICABLE = "n/a"


OUTCOME_MEANINGS: Mapping[Outcome, str] = {
    Outcome.RECOVERED: "the client retried within its budget; the asset succeeds and lands "
    "exactly the rows of a clean run",
    Outcome.FAILED_CLEAN: "the asset fails with one error naming the request and the last "
    "failure; no table file, temporary file or quarantine file is left; a run without the "
    "fault lands exactly the rows of a clean run",
    Outcome.QUARANTINED: "the records concerned go to `quarantine/<source>/<table>/` with the "
    "reason shown, the others land; records in = written + quarantined",
    Outcome.REJECTED: "more than half the records would be quarantined, so the source's answer "
    "looks broken: the asset fails naming the reason, keeps the table it landed before and writes "
    "the rejected records to `quarantine/` for diagnosis; a run without the fault lands exactly "
    "the rows of a clean run",
    Outcome.NULL: "the rows land as in a clean run with the column shown null",
    Outcome.IGNORED: "the rows land exactly as in a clean run (the raw table keeps its declared "
    "columns)",
    Outcome.CONVERTED: "the value is read as its column's type: exactly the rows of a clean run",
    Outcome.NOT_APPLICABLE: "the source does not answer that way",
}


@dataclass(frozen=True)
class FaultRow:
    """One row of the fault matrix: a fault, and how the sandbox injects it."""

    id: str
    label: str
    injected: str


# The rows of docs/fault_matrix.md, in order. "Transient": the fault hits the same request fewer
# times than the retry budget (2 of 4 attempts); "persistent": every attempt.
FAULT_MATRIX_ROWS: tuple[FaultRow, ...] = (
    FaultRow(
        "rate_limit", "429 with Retry-After, transient", "`rate_limit` twice, `Retry-After: 0`"
    ),
    FaultRow("rate_limit_persistent", "429 with Retry-After, persistent", "`rate_limit`"),
    FaultRow(
        "canvas_throttle",
        "403 Forbidden (Rate Limit Exceeded), transient",
        "`canvas_throttle` twice",
    ),
    FaultRow(
        "canvas_throttle_persistent",
        "403 Forbidden (Rate Limit Exceeded), persistent",
        "`canvas_throttle`",
    ),
    FaultRow("server_error", "500, transient", "`server_error` twice"),
    FaultRow("server_error_persistent", "500, persistent", "`server_error`"),
    FaultRow(
        "timeout",
        "timeout (no answer within the client's timeout), transient",
        "`slow` twice, 2 s (client timeout 0.3 s)",
    ),
    FaultRow("timeout_persistent", "timeout, persistent", "`slow`, 2 s (client timeout 0.3 s)"),
    FaultRow("reset", "connection reset, transient", "`reset` twice (TCP RST)"),
    FaultRow("reset_persistent", "connection reset, persistent", "`reset`"),
    FaultRow(
        "truncated_body",
        "truncated body (connection closed early), transient",
        '`truncate` twice, `mode="length"`',
    ),
    FaultRow(
        "truncated_body_persistent",
        "truncated body (connection closed early), persistent",
        '`truncate`, `mode="length"`',
    ),
    FaultRow(
        "truncated_json",
        "truncated JSON (valid HTTP, JSON cut short), transient",
        '`truncate` twice, `mode="json"`',
    ),
    FaultRow(
        "truncated_json_persistent",
        "truncated JSON (valid HTTP, JSON cut short), persistent",
        '`truncate`, `mode="json"`',
    ),
    FaultRow(
        "malformed_record_missing_field",
        "malformed record: a required field missing",
        "`malformed_record` with `field` (one record)",
    ),
    FaultRow(
        "malformed_record_not_an_object",
        "malformed record: not an object",
        "`malformed_record` (one record becomes a string)",
    ),
    FaultRow("new_column", "new column (the API adds a field)", "`add_field` (every record)"),
    FaultRow(
        "missing_column",
        "missing column, nullable (the API drops a field)",
        "`drop_field` (every record)",
    ),
    FaultRow(
        "missing_required_column",
        "missing column, required",
        "`drop_field` (every record)",
    ),
    FaultRow(
        "type_change_object",
        "type change: an id becomes an object",
        '`change_type`, `to="object"` (every record)',
    ),
    FaultRow(
        "type_change_string",
        "type change: a number or flag becomes a string",
        '`change_type`, `to="string"` (every record)',
    ),
)
FAULT_MATRIX_SOURCES: Mapping[str, str] = {"openedx": "Open edX", "canvas": "Canvas"}


@dataclass(frozen=True)
class FaultCell:
    """The declared outcome of one fault for one source, and what the test injects.

    `inject` holds the `server.faults.inject(path_contains, kind, count, **opts)` calls, as
    keyword mappings. `reason` (QUARANTINED: the quarantine reason), `records` (QUARANTINED:
    "1 record" or "every record"), `column` (NULL and CONVERTED: the column) and `error`
    (FAILED_CLEAN: what the error names besides the request) are asserted by the test and shown
    in the doc.
    """

    fault: str
    outcome: Outcome
    inject: tuple[Mapping[str, Any], ...] = ()
    reason: str | None = None
    records: str | None = None
    column: str | None = None
    error: str | None = None

    @property
    def id(self) -> str:
        return self.fault

    def doc_text(self) -> str:
        """The cell as docs/fault_matrix.md shows it."""
        if self.outcome is Outcome.NOT_APPLICABLE:
            return "n/a"
        text = f"**{self.outcome}**"
        if self.outcome is Outcome.QUARANTINED:
            text += f" ({self.records}): `{self.reason}`"
        elif self.outcome is Outcome.REJECTED:
            text += f": `{self.reason}`"
        elif self.outcome in (Outcome.NULL, Outcome.CONVERTED) and self.column:
            text += f": `{self.column}`"
        elif self.outcome is Outcome.FAILED_CLEAN and self.error:
            text += f": `{self.error}`"
        return text


def fault_matrix_cells(source: str, cells: Sequence[FaultCell]) -> list[FaultCell]:
    """The cells a source's matrix runs (all but n/a), after checking it covers every row once."""
    known = {row.id for row in FAULT_MATRIX_ROWS}
    ids = [cell.fault for cell in cells]
    problems = [f"unknown fault {i!r}" for i in ids if i not in known]
    problems += [f"fault {i!r} declared twice" for i in sorted(set(ids)) if ids.count(i) > 1]
    problems += [f"no cell for fault {i!r}" for i in sorted(known.difference(ids))]
    if source not in FAULT_MATRIX_SOURCES:
        problems.append(f"unknown source {source!r}: add it to FAULT_MATRIX_SOURCES")
    if problems:
        raise ValueError(f"fault matrix of {source}: " + "; ".join(problems))
    return [cell for cell in cells if cell.outcome is not Outcome.NOT_APPLICABLE]


def record_fault_outcome(source: str, cell: FaultCell, observed: str, **facts: Any) -> Path | None:
    """Append `{source, fault, expected, observed, **facts}` to the JSON-lines file named by
    `OL_FAULT_MATRIX_RECORD`, if set (a report of what the matrix saw, e.g. for CI artifacts)."""
    target = os.environ.get(FAULT_MATRIX_RECORD_ENV)
    if not target:
        return None
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "source": source,
        "fault": cell.fault,
        "expected": str(cell.outcome),
        "observed": observed,
        **facts,
    }
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, default=str, ensure_ascii=False) + "\n")
    return path


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split(" | ")]


def _read_fault_matrix(text: str, doc: Path) -> tuple[int, int, dict[str, dict[str, str]]]:
    """(start, end) offsets of the table between the markers, and its cells by fault label then
    column header."""
    begin = text.find(FAULT_MATRIX_BEGIN)
    end = text.find(FAULT_MATRIX_END)
    if begin < 0 or end < begin:
        msg = f"{doc}: no {FAULT_MATRIX_BEGIN} ... --> / {FAULT_MATRIX_END} markers"
        raise AssertionError(msg)
    start = text.index("\n", begin) + 1
    lines = [line for line in text[start:end].splitlines() if line.startswith("|")]
    cells: dict[str, dict[str, str]] = {}
    if len(lines) >= 2:
        header = _split_row(lines[0])
        for line in lines[2:]:
            values = _split_row(line)
            cells[values[0]] = dict(zip(header, values, strict=False))
    return start, end, cells


def render_fault_matrix(columns: Mapping[str, Mapping[str, str]]) -> str:
    """The Markdown table (one row per `FAULT_MATRIX_ROWS`, one column per source; `columns`:
    source -> fault id -> cell text, a missing cell is `?`) and the legend of the outcomes."""
    headers = ["fault", "injected", *FAULT_MATRIX_SOURCES.values()]
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    for row in FAULT_MATRIX_ROWS:
        values = [row.label, row.injected]
        values += [columns.get(source, {}).get(row.id, "?") for source in FAULT_MATRIX_SOURCES]
        lines.append("| " + " | ".join(values) + " |")
    lines.append("")
    lines += [f"- **{outcome}**: {meaning}." for outcome, meaning in OUTCOME_MEANINGS.items()]
    return "\n".join(lines) + "\n"


def assert_fault_matrix_doc(doc: Path, source: str, cells: Sequence[FaultCell]) -> None:
    """Check `source`'s column of the fault-matrix table in `doc` (and the rows) against the
    declared `cells`; `UPDATE_SNAPSHOTS=1` rewrites the table, keeping the other sources' cells."""
    fault_matrix_cells(source, cells)  # every row declared once
    text = doc.read_text(encoding="utf-8")
    start, end, table = _read_fault_matrix(text, doc)
    columns: dict[str, dict[str, str]] = {}
    for key, header in FAULT_MATRIX_SOURCES.items():
        columns[key] = {
            row.id: table[row.label][header]
            for row in FAULT_MATRIX_ROWS
            if header in table.get(row.label, {})
        }
    columns[source] = {cell.fault: cell.doc_text() for cell in cells}
    rendered = render_fault_matrix(columns)
    if text[start:end] == rendered:
        return
    if os.environ.get(UPDATE_SNAPSHOTS_ENV) == "1":
        doc.write_text(text[:start] + rendered + text[end:], encoding="utf-8")
        return
    msg = (
        f"the fault matrix in {doc.name} differs from the {FAULT_MATRIX_SOURCES[source]} cells "
        f"declared by its test (or from FAULT_MATRIX_ROWS); if the change is intended, re-run "
        f"with {UPDATE_SNAPSHOTS_ENV}=1 and commit the doc.\nexpected:\n{rendered}"
    )
    raise AssertionError(msg)


def lake_temp_files(lake: Path) -> list[str]:
    """Temporary files (`.<name>.<hex>.tmp`) anywhere under a local lake: a write left behind."""
    return sorted(str(p.relative_to(lake)) for p in lake.rglob("*.tmp")) if lake.exists() else []


def _error_chain(error: Any) -> list[Any]:
    chain: list[Any] = []
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.cause or error.context
    return chain


def _same_rows_outcome(cell: FaultCell) -> str:
    kinds = {call.get("kind") for call in cell.inject}
    if "add_field" in kinds:
        return Outcome.IGNORED
    if "change_type" in kinds:
        return Outcome.CONVERTED
    return Outcome.RECOVERED


@dataclass
class FaultMatrixCase:
    """Runs fault-matrix cells for one source: inject, materialize, observe, classify, assert.

    `sandbox` is an `ol_sandbox.server.SandboxServer` (not imported: the library does not depend
    on the sandbox); `materialize` runs the source's assets against it and `lake`; the cell's
    faults hit the asset `asset_key`, whose table is `table_path` (declared `schema`) and whose
    quarantine file is `quarantine_path`. `attempts` is the client's attempts per request.
    """

    source: str
    sandbox: Any
    lake: Path
    asset_key: dg.AssetKey
    table_path: Path
    quarantine_path: Path
    schema: Any  # pyarrow.Schema
    materialize: Callable[[], dg.ExecuteInProcessResult]
    attempts: int

    def rows(self) -> list[dict[str, Any]] | None:
        """The landed table's rows without `retrieved_at`, or None when there is no table."""
        if not self.table_path.exists():
            return None
        table = pq.read_table(self.table_path)
        assert table.schema.equals(self.schema), f"{self.table_path}: not the declared schema"
        return table.drop_columns(["retrieved_at"]).to_pylist()

    def clean_rows(self) -> list[dict[str, Any]]:
        """Materialize without faults and return what landed (the reference of every cell)."""
        result = self.materialize()
        assert result.success, "a clean run failed"
        rows = self.rows()
        assert rows, "a clean run landed no rows"
        return rows

    def check(self, cell: FaultCell, clean: list[dict[str, Any]]) -> dict[str, Any]:
        """Run one cell and assert its declared outcome; returns the facts observed."""
        for call in cell.inject:
            self.sandbox.faults.inject(**call)
        facts = self._observe(cell, clean)
        details = {k: v for k, v in facts.items() if k != "observed"}
        record_fault_outcome(self.source, cell, str(facts["observed"]), **details)
        assert facts["observed"] == cell.outcome, facts
        self._assert_details(cell, clean, facts)
        return facts

    def _metadata(self, result: dg.ExecuteInProcessResult) -> dict[str, Any]:
        for event in result.get_asset_materialization_events():
            if event.asset_key == self.asset_key:
                return {k: v.value for k, v in event.materialization.metadata.items()}
        return {}

    def _observe(self, cell: FaultCell, clean: list[dict[str, Any]]) -> dict[str, Any]:
        result = self.materialize()
        fired = [kind for kind, _path in self.sandbox.faults.fired]
        facts: dict[str, Any] = {"success": result.success, "faults_fired": len(fired)}
        if not result.success:
            return self._observe_failure(result, clean, facts)
        rows = self.rows() or []
        metadata = self._metadata(result)
        rejects = (
            [json.loads(line) for line in self.quarantine_path.read_text().splitlines()]
            if self.quarantine_path.exists()
            else []
        )
        facts |= {
            "records_in": len(clean),
            "rows_landed": len(rows),
            "records_written": metadata.get("records_written"),
            "records_quarantined": metadata.get("records_quarantined"),
            "quarantine_reasons": sorted({r["reason"] for r in rejects}),
        }
        if rejects or metadata.get("records_quarantined"):
            balanced = (
                facts["records_written"] + facts["records_quarantined"] == len(clean)
                and len(rejects) == facts["records_quarantined"] == len(clean) - len(rows)
                and all(row in clean for row in rows)
            )
            facts["observed"] = Outcome.QUARANTINED if balanced else "quarantined, unbalanced"
            return facts
        if rows == clean:
            facts["observed"] = _same_rows_outcome(cell)
            return facts
        names = list(clean[0]) if clean else []
        differing = sorted(
            {n for a, b in zip(rows, clean, strict=False) for n in names if a.get(n) != b.get(n)}
        )
        facts["null_columns"] = [n for n in differing if all(r.get(n) is None for r in rows)]
        nulled = len(rows) == len(clean) and differing and facts["null_columns"] == differing
        facts["observed"] = Outcome.NULL if nulled else "landed rows unlike a clean run's"
        return facts

    def _observe_failure(
        self, result: dg.ExecuteInProcessResult, clean: list[dict[str, Any]], facts: dict[str, Any]
    ) -> dict[str, Any]:
        step = self.asset_key.to_python_identifier()
        failures = [e for e in result.get_step_failure_events() if e.step_key == step]
        chain = _error_chain(failures[-1].event_specific_data.error) if failures else []  # type: ignore[union-attr]
        user_error = chain[-1] if chain else None
        message = user_error.message.strip() if user_error else ""
        rejected = failures and "records quarantined" in (
            failures[-1].event_specific_data.error.message  # type: ignore[union-attr]
            if failures[-1].event_specific_data and failures[-1].event_specific_data.error  # type: ignore[union-attr]
            else ""
        )
        if rejected:
            return self._observe_rejection(failures[-1], clean, facts)
        facts |= {
            "failed_steps": sorted(e.step_key or "" for e in result.get_step_failure_events()),
            "error_class": user_error.cls_name if user_error else None,
            "error": message,
            "table_left": self.table_path.exists(),
            "quarantine_left": self.quarantine_path.exists(),
            "temp_files": lake_temp_files(self.lake),
        }
        self.sandbox.faults.clear()
        rerun = self.materialize()
        facts["rerun_success"] = rerun.success
        facts["rerun_same_rows"] = rerun.success and self.rows() == clean
        problems = [
            name
            for name, bad in (
                ("the asset did not fail", not failures),
                ("the error does not name a GET request", " GET http" not in f" {message}"),
                ("the error is more than one line", "\n" in message),
                ("a table file was left", facts["table_left"]),
                ("a quarantine file was left", facts["quarantine_left"]),
                ("temporary files were left", facts["temp_files"]),
                ("the run without the fault failed", not rerun.success),
                ("the run without the fault landed other rows", not facts["rerun_same_rows"]),
            )
            if bad
        ]
        facts["observed"] = (
            Outcome.FAILED_CLEAN if not problems else "failed: " + "; ".join(problems)
        )
        return facts

    def _observe_rejection(
        self, failure: Any, clean: list[dict[str, Any]], facts: dict[str, Any]
    ) -> dict[str, Any]:
        message = failure.event_specific_data.error.message.strip()
        rejects = (
            [json.loads(line) for line in self.quarantine_path.read_text().splitlines()]
            if self.quarantine_path.exists()
            else []
        )
        facts |= {
            "error": message,
            "table_left": self.table_path.exists(),
            "records_quarantined": len(rejects),
            "quarantine_reasons": sorted({r["reason"] for r in rejects}),
            "temp_files": lake_temp_files(self.lake),
        }
        self.sandbox.faults.clear()
        rerun = self.materialize()
        facts["rerun_same_rows"] = rerun.success and self.rows() == clean
        problems = [
            name
            for name, bad in (
                ("a table file was written", facts["table_left"]),
                ("no rejected record was kept for diagnosis", not rejects),
                ("temporary files were left", facts["temp_files"]),
                ("the run without the fault landed other rows", not facts["rerun_same_rows"]),
            )
            if bad
        ]
        facts["observed"] = Outcome.REJECTED if not problems else "rejected: " + "; ".join(problems)
        return facts

    def _assert_details(
        self, cell: FaultCell, clean: list[dict[str, Any]], facts: dict[str, Any]
    ) -> None:
        injected = sum(int(call.get("count", 1)) for call in cell.inject)
        assert facts["faults_fired"] > 0, "the injected fault never matched a request"
        if cell.outcome is Outcome.RECOVERED:
            assert self.sandbox.faults.pending == [], "not every injected fault was hit"
            assert facts["faults_fired"] == injected
            assert injected < self.attempts, "a transient fault must fit in the retry budget"
        if cell.outcome is Outcome.FAILED_CLEAN:
            assert facts["error_class"] == "RetryBudgetExhaustedError", facts
            assert f"failed after {self.attempts} attempts" in facts["error"], facts
            assert cell.error, "a failed-clean cell names the error it expects"
            assert cell.error in facts["error"], facts
            paths = [str(call["path_contains"]) for call in cell.inject]
            assert any(path in facts["error"] for path in paths), facts
        if cell.outcome is Outcome.REJECTED:
            assert facts["quarantine_reasons"] == [cell.reason], facts
            assert facts["records_quarantined"] == len(clean), facts
        if cell.outcome is Outcome.QUARANTINED:
            assert facts["quarantine_reasons"] == [cell.reason], facts
            expected = 1 if cell.records == "1 record" else len(clean)
            assert cell.records in ("1 record", "every record"), cell.records
            assert facts["records_quarantined"] == expected, facts
        if cell.outcome is Outcome.NULL:
            assert facts["null_columns"] == [cell.column], facts
