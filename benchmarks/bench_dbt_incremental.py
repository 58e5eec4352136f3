"""dbt incremental tracking-log models: the cost of adding one day with 14 or 365 days of history.

    uv run python benchmarks/bench_dbt_incremental.py [--history 14,365] [--repeat 2]

Builds (once, cached under `$TMPDIR/ol-bench-dbt/<parameters>`) a lake of the sandbox's tracking
logs normalized by the platform's normalizer, one `dt=` partition per deployment and day
(mitxonline, xpro and edX.org at sandbox size `--size`), for the longest history plus one day.
Then, for each history length H, in a scratch warehouse:

1. the lake holds the H days before the lake's last day; `dbt build` of the tracking-log models
   (the first build: a full one);
2. `dbt build` again with nothing new, timed;
3. the last day lands; `dbt build` again, timed: the cost of adding one day (incremental), the
   same day for every H;
4. for comparison, `dbt build --full-refresh` of the same H+1 days, timed.

The same steps run against the dbt project as of `--baseline-ref` (default HEAD: the tracking-log
models as views over the lake) in the same rounds, so baseline and project share the machine's
load.

Only the tracking-log models and their tests are selected (`TRACKING_LOG_SELECTION`), so the
figures are those models' cost, not the whole project's. The incremental step's time for 365 days
against 14 days is the ratio the target is about (within +-20%); each step is run `--repeat` times
interleaved and the fastest kept.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ol_sandbox.tracking_logs import TrackingLogDay

ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIR = ROOT / "src" / "ol_dbt"
DEPLOYMENTS = ("mitxonline", "xpro", "edxorg")
# The tracking-log models (staging, intermediate, marts) and the tests that read only them
# (`--indirect-selection cautious`).
TRACKING_LOG_SELECTION = [
    "stg_openedx__tracking_logs",
    "int_openedx__tracking_log_events",
    "int_openedx__video_activity",
    "int_openedx__problem_activity",
    "int_openedx__navigation_activity",
    "int_openedx__enrollment_activity",
    "fct_openedx__user_activity",
    "fct_openedx__daily_active_learners",
    "fct_openedx__weekly_active_learners",
    "fct_openedx__video_engagement",
    "fct_openedx__problem_attempts",
]


def _days(anchor: date, count: int) -> list[date]:
    return [anchor + timedelta(days=offset) for offset in range(count)]


def _tracking_days(size: str, days: int, seed: int) -> Iterator[tuple[str, TrackingLogDay]]:
    from ol_sandbox.data import SIZES, Institution
    from ol_sandbox.edxorg import EdxorgData
    from ol_sandbox.tracking_logs import deployment_days

    knobs = SIZES[size]
    institution = Institution.generate(
        seed=seed, courses=knobs["courses"], learners=knobs["learners"], days=days
    )
    for deployment in ("mitxonline", "xpro"):
        for day in deployment_days(institution, institution.deployment(deployment)):
            yield deployment, day
    edxorg = EdxorgData.for_institution(institution).deployment()
    for day in deployment_days(institution, edxorg):
        yield "edxorg", day


def make_lake(size: str, days: int, seed: int) -> Path:
    """Normalized tracking-log partitions of `days` days (cached): the full lake."""
    from ol_orchestrate.lib.tracking_logs import normalize_files

    key = hashlib.sha256(f"{size}:{days}:{seed}".encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / "ol-bench-dbt" / key
    done = root / ".complete"
    if done.exists():
        return root
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ol-bench-dbt-gz-") as scratch:
        for deployment, day in _tracking_days(size, days, seed):
            folder = Path(scratch) / deployment / day.day.isoformat()
            folder.mkdir(parents=True)
            paths = []
            for name in day.files:
                path = folder / name
                path.write_bytes(day.file_bytes(name))
                paths.append(path)
            source = "openedx" if deployment != "edxorg" else "edxorg"
            table = root / "raw" / source / f"{deployment}_tracking_logs"
            normalize_files(
                paths,
                table / f"dt={day.day.isoformat()}" / "data.parquet",
                root / "quarantine" / f"{deployment}-{day.day.isoformat()}.parquet",
                source_name=deployment,
            )
    done.write_text("")
    seconds = time.perf_counter() - start
    print(f"normalized {days} days x {len(DEPLOYMENTS)} deployments in {seconds:.0f}s")
    return root


def lake_with_days(full: Path, target: Path, first: date, last: date) -> None:
    """`target` holds the partitions of `full` from `first` to `last` (hard links: instant, no
    copy, the same modification times)."""
    for partition in sorted(full.glob("raw/*/*/dt=*")):
        day = date.fromisoformat(partition.name.removeprefix("dt="))
        destination = target / partition.relative_to(full)
        if first <= day <= last and not destination.exists():
            destination.mkdir(parents=True)
            for file in partition.iterdir():
                os.link(file, destination / file.name)


def dbt(args: list[str], work: Path, lake: Path, project: Path = PROJECT_DIR) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "OL_", "TRINO_"))}
    env.update(
        {
            "OL_LAKE_ROOT": str(lake),
            "OL_WAREHOUSE_PATH": str(work / "warehouse.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    command = [
        sys.executable,
        "-m",
        "dbt.cli.main",
        *args,
        "--target",
        "ci",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--indirect-selection",
        "cautious",
        "--select",
        *TRACKING_LOG_SELECTION,
    ]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        output = completed.stdout[-4000:] + completed.stderr[-2000:]
        sys.exit(f"dbt {' '.join(args)} failed ({project}):\n{output}")
    return seconds


def baseline_project(ref: str, scratch: Path) -> Path:
    """The dbt project as of git `ref` (before the incremental models: views over the lake)."""
    archive = subprocess.run(
        ["git", "archive", ref, "src/ol_dbt"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
    return scratch / "src" / "ol_dbt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", default="14,365", help="history lengths in days")
    parser.add_argument("--size", default="default")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--baseline-ref",
        default="HEAD",
        help="git revision whose dbt project is the baseline ('' to skip it)",
    )
    args = parser.parse_args()
    histories = [int(h) for h in args.history.split(",")]
    full = make_lake(args.size, max(histories) + 1, args.seed)
    from ol_sandbox.data import ANCHOR_DATE

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; load {load:.2f}")
    all_days = _days(ANCHOR_DATE, max(histories) + 1)
    steps = ("idle", "add_day", "full_refresh")
    with tempfile.TemporaryDirectory(prefix="ol-bench-dbt-baseline-") as baseline_dir:
        projects = {"project": PROJECT_DIR}
        if args.baseline_ref:
            projects[f"baseline ({args.baseline_ref})"] = baseline_project(
                args.baseline_ref, Path(baseline_dir)
            )
        rows: dict[tuple[str, int], dict[str, list[float]]] = {
            (name, history): {step: [] for step in steps}
            for name in projects
            for history in histories
        }
        for _ in range(args.repeat):
            for history in histories:
                for name, project in projects.items():
                    cell = rows[name, history]
                    with tempfile.TemporaryDirectory(prefix=f"ol-bench-dbt-{history}-") as scratch:
                        work, lake = Path(scratch), Path(scratch) / "lake"
                        # The same new day for every history: the last one of the lake (the
                        # sandbox's activity grows over its window: its last days are busiest).
                        days = all_days[-(history + 1) :]
                        lake_with_days(full, lake, days[0], days[-2])
                        dbt(["build"], work, lake, project)
                        cell["idle"].append(dbt(["build"], work, lake, project))
                        lake_with_days(full, lake, days[-1], days[-1])
                        cell["add_day"].append(dbt(["build"], work, lake, project))
                        cell["full_refresh"].append(
                            dbt(["build", "--full-refresh"], work, lake, project)
                        )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print(
        f"{'':<22} {'history':>8} {'nothing new':>12} {'add one day':>12} "
        f"{'vs ' + str(histories[0]) + ' days':>12} {'full refresh':>13}"
    )
    for name in projects:
        base = min(rows[name, histories[0]]["add_day"])
        for history in histories:
            best = {step: min(rows[name, history][step]) for step in steps}
            print(
                f"{name:<22} {history:>8} {best['idle']:>11.2f}s {best['add_day']:>11.2f}s "
                f"{best['add_day'] / base:>11.2f}x {best['full_refresh']:>12.2f}s"
            )


if __name__ == "__main__":
    main()
