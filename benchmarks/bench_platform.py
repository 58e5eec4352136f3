"""Platform benchmark: code-location load time and end-to-end materialize wall time.

    uv run python benchmarks/bench_platform.py [--repeat 3] [--sizes small,default]

Everything is measured in this run, on this machine, so the ratios are comparable even on a
noisy machine:
- each code location's Definitions load (fresh interpreter) against a bare `import dagster_dbt`
  baseline (target: within 2x);
- `ol-platform materialize` wall time at two sandbox sizes, first (cold) and second (warm) run,
  so cost growth with data size and the benefit of the warm run are visible.
"""

from __future__ import annotations

import argparse
import os
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


def _materialize(size: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ol_platform.cli", "materialize", "--size", size],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def bench_materialize(sizes: list[str], env: dict[str, str]) -> None:
    print("== ol-platform materialize wall time (fresh data folder per size) ==")
    first_cold = None
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"ol-bench-{size}-") as data_dir:
            run_env = {**env, "OL_DATA_DIR": data_dir}
            cold = _materialize(size, run_env)
            warm = _materialize(size, run_env)
        first_cold = first_cold or cold
        verdict = "ok" if cold <= 60 or size != "default" else "OVER TARGET (60s)"
        print(
            f"{'materialize --size ' + size:<40} cold {cold:6.1f}s  warm {warm:6.1f}s  "
            f"cold vs {sizes[0]}: {cold / first_cold:4.2f}x  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="small,default")
    parser.add_argument("--skip-materialize", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "DAGSTER_ENV": "dev"}
    env.pop("SUPERSET_URL", None)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    # The manifest is prepared once, as in CI and the image build; loads must not parse dbt.
    prepare = [sys.executable, "-m", "ol_platform.cli", "prepare"]
    subprocess.run(prepare, env=env, cwd=ROOT, check=True)
    bench_load(args.repeat, env)
    if not args.skip_materialize:
        bench_materialize(args.sizes.split(","), env)


if __name__ == "__main__":
    main()
