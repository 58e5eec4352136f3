"""Platform benchmark: code-location load time and end-to-end materialize wall time.

    uv run python benchmarks/bench_platform.py [--repeat 3] [--sizes small,default,default:365]
        [--skip-load] [--skip-prepare] [--skip-materialize]

Everything is measured in this run, on this machine, so the ratios are comparable even on a
noisy machine:
- each code location's Definitions load (fresh interpreter) against a bare `import dagster_dbt`
  baseline (target: within 2x);
- the lakehouse location's load as `dagster dev` and `dg` do it (`DAGSTER_IS_DEV_CLI=1`, so
  dagster-dbt's `prepare_if_dev()` runs: a fingerprint check when the dbt project is unchanged);
- preparing an unchanged dbt project: `ensure_manifest` (fingerprint) against dagster-dbt's
  default `DbtProject` preparer (`dbt parse`, what its `prepare_if_dev()` runs on every load
  under `dagster dev`), on a scratch copy of the project;
- `ol-platform materialize` wall time per profile (a sandbox size, or `size:days` such as
  `default:365`), first (cold) and second (warm) run, with the tracking-log events written, the
  cold time per event and the peak memory of the command's process tree, so cost growth with data
  size and the benefit of the warm run are visible.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ol_platform.locations import discover_locations

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "import dagster_dbt"


def _timed_import(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return float(output.stdout.strip().splitlines()[-1])


def bench_load(repeat: int, env: dict[str, str]) -> None:
    print(f"== code location load time (median of {repeat}, fresh interpreter each) ==")
    baseline = statistics.median(_timed_import(BASELINE, env) for _ in range(repeat))
    print(f"{'baseline: import dagster_dbt':<40} {baseline:7.2f}s   1.00x")
    for location in discover_locations(ROOT):
        name, module = location.name, location.module
        seconds = statistics.median(
            _timed_import(f"import {module} as m; m.defs.resolve_asset_graph()", env)
            for _ in range(repeat)
        )
        ratio = seconds / baseline
        verdict = "ok" if ratio <= 2.0 else "OVER TARGET (2x)"
        print(f"{'load ' + name:<40} {seconds:7.2f}s  {ratio:5.2f}x  {verdict}")
    # As `dagster dev` / `dg` load it: dagster-dbt's prepare_if_dev() runs (ensure_manifest).
    dev_env = {**env, "DAGSTER_IS_DEV_CLI": "1"}
    seconds = statistics.median(
        _timed_import("import lakehouse.definitions as m; m.defs.resolve_asset_graph()", dev_env)
        for _ in range(repeat)
    )
    ratio = seconds / baseline
    verdict = "ok" if ratio <= 2.0 else "OVER TARGET (2x)"
    print(f"{'load lakehouse, DAGSTER_IS_DEV_CLI=1':<40} {seconds:7.2f}s  {ratio:5.2f}x  {verdict}")


# Each statement runs in a fresh interpreter on a scratch copy of the dbt project (never the
# workspace's target/); only the preparation itself is timed.
PREPARE_SETUP = """
from pathlib import Path
from ol_orchestrate.lib.dbt_manifest import dbt_env, ensure_manifest
from ol_orchestrate.lib.environment import get_settings
settings = get_settings()
project_dir = Path({project_dir!r})
"""
PREPARE_FINGERPRINT = "ensure_manifest(project_dir, settings.dbt_target, env=dbt_env(settings))"
PREPARE_DBT_PROJECT = (
    "from dagster_dbt import DagsterDbtProjectPreparer, DbtProject; "
    "DagsterDbtProjectPreparer().prepare(DbtProject(project_dir, target=settings.dbt_target))"
)


def _timed_prepare(statement: str, project_dir: Path, env: dict[str, str]) -> float:
    setup = PREPARE_SETUP.format(project_dir=str(project_dir))
    timed = ["import time", "t = time.perf_counter()", statement, "print(time.perf_counter() - t)"]
    code = "\n".join([setup, *timed])
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return float(output.stdout.strip().splitlines()[-1])


def bench_prepare(repeat: int, env: dict[str, str]) -> None:
    print(f"== preparing an unchanged dbt project (median of {repeat}, fresh interpreter each) ==")
    source = ROOT / "src" / "ol_dbt"
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages")
    with tempfile.TemporaryDirectory(prefix="ol-bench-dbt-") as scratch:
        ours, theirs = Path(scratch) / "fingerprint" / "ol_dbt", Path(scratch) / "parse" / "ol_dbt"
        shutil.copytree(source, ours, ignore=ignore)
        shutil.copytree(source, theirs, ignore=ignore)
        # The first preparation of each copy parses; only the unchanged ones are measured.
        _timed_prepare(PREPARE_FINGERPRINT, ours, env)
        _timed_prepare(PREPARE_DBT_PROJECT, theirs, env)
        fingerprint = statistics.median(
            _timed_prepare(PREPARE_FINGERPRINT, ours, env) for _ in range(repeat)
        )
        parse = statistics.median(
            _timed_prepare(PREPARE_DBT_PROJECT, theirs, env) for _ in range(repeat)
        )
    print(f"{'DbtProject default preparer (dbt parse)':<40} {parse:7.2f}s   1.00x")
    print(
        f"{'ensure_manifest (fingerprint)':<40} {fingerprint:7.3f}s  "
        f"{fingerprint / parse:5.3f}x  ({parse / fingerprint:,.0f}x faster)"
    )


# Runs `ol-platform materialize` as a child and reports the peak memory of its process tree
# (RUSAGE_CHILDREN of this wrapper: the command and the dbt processes it waited for).
_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print('maxrss_kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def _materialize(profile: str, env: dict[str, str], *, before: bool = False) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `materialize` of `profile` (`size` or
    `size:days`); `before`: with issue 16's run-cost changes switched off
    (`benchmarks/materialize_as_before.py`)."""
    size, _, days = profile.partition(":")
    command = (
        [sys.executable, str(ROOT / "benchmarks" / "materialize_as_before.py"), "--size", size]
        if before
        else [sys.executable, "-m", "ol_platform.cli", "materialize", "--size", size]
    )
    if days:
        command += ["--days", days]
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(f"materialize {profile} failed:\n{completed.stderr[-3000:]}")
    maxrss = int(completed.stderr.rsplit("maxrss_kb", 1)[1].split()[0])
    return seconds, maxrss


def _tracking_log_events(data_dir: str) -> int:
    """Events the tracking-log assets wrote (every deployment's days), from the Parquet footers."""
    import pyarrow.parquet as pq

    files = Path(data_dir, "lake", "raw").glob("*/*_tracking_logs/dt=*/data.parquet")
    return sum(pq.ParquetFile(path).metadata.num_rows for path in files)


def bench_materialize(profiles: list[str], env: dict[str, str], *, before: bool = False) -> None:
    print("== ol-platform materialize wall time (fresh data folder per profile) ==")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    first_cold = None
    variants = [True, False] if before else [False]
    for profile in profiles:
        for as_before in variants:
            prefix = f"ol-bench-{profile.replace(':', '-')}-"
            with tempfile.TemporaryDirectory(prefix=prefix) as data:
                run_env = {**env, "OL_DATA_DIR": data}
                cold, cold_rss = _materialize(profile, run_env, before=as_before)
                events = _tracking_log_events(data)
                warm, warm_rss = _materialize(profile, run_env, before=as_before)
            label = f"{'baseline' if as_before else 'project'} {profile}"
            if not as_before:
                first_cold = first_cold or cold
            target = {"default": 60.0}.get(profile)
            verdict = (
                ""
                if target is None or as_before
                else ("ok" if cold <= target else "OVER TARGET (60s)")
            )
            per_event = f"{cold / events * 1e6:7.1f} us/event" if events else ""
            growth = f"cold vs {profiles[0]}: {cold / first_cold:5.2f}x" if first_cold else ""
            print(
                f"{label:<34} cold {cold:7.1f}s  warm {warm:6.1f}s  {growth}  "
                f"events {events:>9,} {per_event}  "
                f"peak RSS {max(cold_rss, warm_rss) / 1024:6.0f} MiB  {verdict}"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sizes",
        default="small,default",
        help="materialize profiles: a sandbox size, or size:days (e.g. default:365)",
    )
    parser.add_argument("--skip-materialize", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument(
        "--before",
        action="store_true",
        help="also materialize each profile with issue 16's run-cost changes switched off",
    )
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "DAGSTER_ENV": "dev"}
    env.pop("SUPERSET_URL", None)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    # The manifest is prepared once, as in CI and the image build; loads must not parse dbt.
    prepare = [sys.executable, "-m", "ol_platform.cli", "prepare"]
    subprocess.run(prepare, env=env, cwd=ROOT, check=True)
    if not args.skip_load:
        bench_load(args.repeat, env)
    if not args.skip_prepare:
        bench_prepare(args.repeat, env)
    if not args.skip_materialize:
        bench_materialize(args.sizes.split(","), env, before=args.before)


if __name__ == "__main__":
    main()
