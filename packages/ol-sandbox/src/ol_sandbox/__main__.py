"""`python -m ol_sandbox serve [--size small|default|large] [--seed N] [--port 8765]`."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from ol_sandbox.data import SIZES, Institution
from ol_sandbox.edxorg import BUCKET
from ol_sandbox.faults import ENV_VAR, FaultConfig
from ol_sandbox.openedx import client_id_for, client_secret_for
from ol_sandbox.server import SandboxServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ol_sandbox", description="Local emulators of the platform's source APIs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox server until Ctrl-C")
    serve.add_argument("--size", choices=sorted(SIZES), default="default")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--s3-port", type=int, default=8766, help="edX.org's delivery bucket (S3-compatible)"
    )
    serve.add_argument(
        "--lake-root",
        default=None,
        help="the lake folder Airbyte's S3 destination writes to (default: none, syncs fail)",
    )
    serve.add_argument(
        "--token-ttl", type=float, default=3600, help="OAuth token lifetime in seconds"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        faults = FaultConfig.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    institution = Institution.from_size(args.size, seed=args.seed)
    server = SandboxServer(
        institution,
        args.host,
        args.port,
        token_ttl=args.token_ttl,
        fault_config=faults,
        s3_port=args.s3_port,
        lake_root=args.lake_root,
    )

    def _terminate(signum: int, frame: FrameType | None) -> None:
        # Only a flag: raising here could land inside a lock the serving loop holds.
        server.request_stop()

    # Ctrl-C too: the default SIGINT handler raises KeyboardInterrupt wherever the main thread is,
    # possibly inside the serving loop's lock ("release unlocked lock").
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    server.start()
    print(f"ol-sandbox ({args.size}, seed {args.seed}) serving at {server.url}", flush=True)
    for name, data in institution.deployments.items():
        print(
            f"  openedx/{name}: {server.openedx_url(name)}  "
            f"({len(data.course_runs)} course runs; client id {client_id_for(name)}, "
            f"secret {client_secret_for(name)})",
            flush=True,
        )
    print(f"  canvas: {server.canvas_url}  (bearer token in dg_deployments/local/secrets.yaml)")
    print(
        f"  edxorg: catalog {server.edxorg_catalog_url}, delivery bucket s3://{BUCKET} at "
        f"{server.s3_url}",
        flush=True,
    )
    print(
        f"  alerts: Slack {server.slack_api_url} (received: {server.url}/slack/messages), "
        f"Sentry {server.sentry_dsn} (received: {server.url}/sentry/events)",
        flush=True,
    )
    print(
        f"  airbyte: {server.airbyte_url}/api/public/v1 (MITx Online and xPro app databases; "
        f"S3 destination: {args.lake_root or 'none, syncs fail'})",
        flush=True,
    )
    if faults.enabled:
        print(f"  random faults from {ENV_VAR}: {faults}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("ol-sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
