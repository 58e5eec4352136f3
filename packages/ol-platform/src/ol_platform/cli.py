"""`ol-platform`: run the data platform locally.

ol-platform materialize   sandbox + every code location + dbt, end to end, then a summary
                          (--size small|default|large, --days N: N days of data)
ol-platform ui            the Dagster UI on 127.0.0.1 with every code location loaded
ol-platform prepare       prepare the dbt manifest and the Airbyte workspace state (code locations
                          load them, never parse dbt or call Airbyte)
ol-platform sandbox       serve the source sandbox in the foreground
ol-platform superset      a real Superset on 127.0.0.1 for the local warehouse (installed once)
ol-platform locations list|new NAME|sync|check
                          the code locations of dg_projects/ and the files derived from them
ol-platform tracking-logs normalize FILE_OR_DIR... --output DIR
                          normalize tracking logs outside Dagster, print a JSON summary
ol-platform edxorg explode ARCHIVE_OR_DIR --output DIR
                          explode an edX.org archive into Parquet tables, print a JSON summary
ol-platform olx blocks PATH --output DIR
                          parse one OLX course export into a course-blocks table
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from rich.console import Console

from ol_orchestrate.lib.dbt_manifest import dbt_env, ensure_manifest
from ol_orchestrate.lib.environment import (
    UnknownEnvironmentError,
    environ_overrides,
    get_settings,
    reset_settings_cache,
)
from ol_platform.deployment_files import LOCAL_WORKSPACE
from ol_platform.edxorg_cli import add_parser as add_edxorg_parser
from ol_platform.instance import prepare_dagster_home
from ol_platform.locations_cli import add_parser as add_locations_parser
from ol_platform.lock import DataFolderLockedError, data_folder_lock
from ol_platform.olx_cli import add_parser as add_olx_parser
from ol_platform.tracking_logs_cli import add_parser as add_tracking_logs_parser

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ol-platform", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    materialize = commands.add_parser("materialize", help="run the whole platform locally")
    materialize.add_argument("--size", default="default", help="sandbox size: small|default|large")
    materialize.add_argument("--seed", type=int, default=42, help="sandbox seed")
    materialize.add_argument(
        "--days",
        type=int,
        default=None,
        metavar="N",
        help="days of activity instead of the size's own (e.g. 365: a year of data, ending "
        "where the size's window ends)",
    )
    materialize.add_argument(
        "--location",
        action="append",
        dest="locations",
        metavar="NAME",
        help="only this code location (repeatable; default: every location)",
    )

    ui = commands.add_parser("ui", help="open the Dagster UI with every code location")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--size", default="default", help="size of the sandbox the UI's runs use")

    prepare = commands.add_parser("prepare", help="prepare the dbt manifest")
    prepare.add_argument("--force", action="store_true", help="re-parse even if unchanged")

    sandbox = commands.add_parser("sandbox", help="serve the source sandbox")
    sandbox.add_argument("--size", default="default")
    sandbox.add_argument("--seed", type=int, default=42)
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--host", default="127.0.0.1", help="0.0.0.0 only inside a container")

    superset = commands.add_parser(
        "superset", help="serve a real Superset on 127.0.0.1 over the local warehouse"
    )
    superset.add_argument(
        "action",
        nargs="?",
        choices=("start", "install"),
        default="start",
        help="start (default): install if needed, serve until Ctrl-C; install: only install",
    )
    superset.add_argument("--port", type=int, default=8088)

    add_tracking_logs_parser(commands)
    add_edxorg_parser(commands)
    add_olx_parser(commands)
    add_locations_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Bound to the real stdout: materialize redirects sys.stdout to log files while runs go on.
    console = Console(file=sys.stdout)
    try:
        settings = get_settings()
    except UnknownEnvironmentError as error:
        console.print(f"[red]{error}[/red]")
        return EXIT_USAGE

    if args.command == "materialize":
        from ol_platform.materialize import MaterializeError, materialize_all, print_summary

        start = time.monotonic()
        try:
            report = materialize_all(
                size=args.size,
                seed=args.seed,
                console=console,
                only=args.locations,
                days=args.days,
            )
        except MaterializeError as error:
            console.print(f"[red]{error}[/red]")
            return EXIT_USAGE
        except DataFolderLockedError as error:
            console.print(f"[red]{error}[/red]")
            return EXIT_LOCKED
        print_summary(report, console)
        console.print(f"done in {time.monotonic() - start:.1f}s")
        return 0 if report.success else EXIT_FAILED

    if args.command == "prepare":
        path = ensure_manifest(
            settings.dbt_project_dir, target=settings.dbt_target, force=args.force
        )
        prepare_dagster_home(settings)
        console.print(f"dbt manifest: {path}")
        return _prepare_defs_state(console)

    if args.command == "sandbox":
        return _serve_sandbox(args.size, args.seed, args.host, args.port, console)

    if args.command == "superset":
        return _superset(args.action, args.port, console)

    if args.command == "locations":
        from ol_platform.locations_cli import run as run_locations

        return run_locations(args, console)

    if args.command == "tracking-logs":
        from ol_platform.tracking_logs_cli import run as run_tracking_logs

        return run_tracking_logs(args)

    if args.command == "edxorg":
        from ol_platform.edxorg_cli import run as run_edxorg

        return run_edxorg(args)

    if args.command == "olx":
        from ol_platform.olx_cli import run as run_olx

        return run_olx(args)

    try:
        with data_folder_lock(settings.data_dir, "ui"):
            return _ui(args.port, args.size, console)
    except DataFolderLockedError as error:
        console.print(f"[red]{error}[/red]")
        return EXIT_LOCKED


def _refresh_local_defs_state(sandbox_url: str, console: Console) -> None:
    """The state-backed components' state (the Airbyte workspace) from the running sandbox; a
    failure is a warning: the locations load from the state they have."""
    from ol_platform.defs_state import DefsStateRefreshError, refresh_defs_state
    from ol_platform.locations import discover_locations

    with environ_overrides({"OL_SANDBOX_URL": sandbox_url}):
        reset_settings_cache()
        try:
            refresh_defs_state(discover_locations(get_settings().repo_root))
        except DefsStateRefreshError as error:
            console.print(f"[yellow]{error}[/yellow]")
        finally:
            reset_settings_cache()


def _prepare_defs_state(console: Console) -> int:
    """Refresh the locations' state-backed components (the Airbyte workspace): locally against
    a sandbox started for it, deployed against the environment's own systems."""
    from ol_platform.defs_state import DefsStateRefreshError, refresh_defs_state
    from ol_platform.locations import discover_locations

    settings = get_settings()
    locations = discover_locations(settings.repo_root)
    try:
        if not settings.is_local:
            refreshed = refresh_defs_state(locations)
        else:
            from ol_sandbox.data import Institution
            from ol_sandbox.server import SandboxServer

            institution = Institution.from_size("small")
            with (
                SandboxServer(institution, delivery_bucket=False) as sandbox,
                environ_overrides({"OL_SANDBOX_URL": sandbox.url}),
            ):
                reset_settings_cache()
                try:
                    refreshed = refresh_defs_state(locations)
                finally:
                    reset_settings_cache()
    except DefsStateRefreshError as error:
        console.print(f"[red]{error}[/red]")
        return EXIT_FAILED
    for state in refreshed:
        console.print(f"defs state: {state.location} {state.key} ({state.seconds:.1f}s)")
    return 0


def _serve_sandbox(size: str, seed: int, host: str, port: int, console: Console) -> int:
    """The sandbox's own command (`python -m ol_sandbox serve`), so there is one way to serve it."""
    from ol_sandbox.__main__ import main as sandbox_main

    argv = ["serve", "--size", size, "--seed", str(seed), "--host", host, "--port", str(port)]
    # Airbyte's S3 destination writes where the platform reads the lake.
    argv += ["--lake-root", get_settings().lake_root]
    return sandbox_main(argv)


def _superset(action: str, port: int, console: Console) -> int:
    """A real Superset for this data folder, in the foreground (Ctrl-C stops it)."""
    from ol_platform.superset_server import SupersetServer, SupersetServerError, main_install

    def log(message: str) -> None:
        console.print(f"[dim]superset:[/dim] {message}")

    # Started from a script, SIGINT may arrive ignored; Ctrl-C and `kill` must stop Superset.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = get_settings()
    if not settings.is_local:
        console.print(
            f"[red]`ol-platform superset` serves the local warehouse; DAGSTER_ENV="
            f"{settings.environment.value} publishes to its own Superset (SUPERSET_URL)[/red]"
        )
        return EXIT_USAGE
    try:
        if action == "install":
            return main_install(settings, log)
        with (
            data_folder_lock(settings.data_dir / "superset", "superset"),
            SupersetServer(settings, port=port, log=log) as server,
        ):
            console.print(
                f"Superset on [bold]{server.url}[/bold] (user {server.username!r}, password: "
                f"{settings.superset_secret_path} in {settings.local_secrets_file}); "
                "`ol-platform materialize` now publishes to it. Ctrl-C stops."
            )
            try:
                code = server.wait()
            except KeyboardInterrupt:
                return 0
            console.print(f"[red]Superset exited with code {code}[/red]; see {server.log_file}")
            return EXIT_FAILED
    except SupersetServerError as error:
        console.print(f"[red]{error}[/red]")
        return EXIT_USAGE
    except DataFolderLockedError as error:
        console.print(f"[red]{error}[/red]")
        return EXIT_LOCKED


def _ui(port: int, size: str, console: Console) -> int:
    """`dagster dev` on the local workspace, with a sandbox the UI's runs can reach."""
    from ol_sandbox.data import SIZES, Institution
    from ol_sandbox.server import SandboxServer

    settings = get_settings()
    ensure_manifest(settings.dbt_project_dir, target=settings.dbt_target, env=dbt_env(settings))
    prepare_dagster_home(settings)
    with SandboxServer(
        Institution.generate(seed=42, **SIZES[size]), lake_root=settings.lake_root
    ) as sandbox:
        env = {**os.environ, "OL_SANDBOX_URL": sandbox.url, "OL_SANDBOX_S3_URL": sandbox.s3_url}
        _refresh_local_defs_state(sandbox.url, console)
        command = [
            sys.executable, "-m", "dagster", "dev",
            "-w", str(settings.repo_root / LOCAL_WORKSPACE),
            "-h", "127.0.0.1", "-p", str(port),
        ]  # fmt: skip
        console.print(
            f"Dagster UI on http://127.0.0.1:{port} (sandbox {sandbox.url}, S3 {sandbox.s3_url}); "
            "Ctrl-C stops"
        )
        # A parent started from a script may inherit an ignored SIGINT; restore it for the child.
        process = subprocess.Popen(
            command, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
        )
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)
            return process.wait()


if __name__ == "__main__":
    sys.exit(main())
