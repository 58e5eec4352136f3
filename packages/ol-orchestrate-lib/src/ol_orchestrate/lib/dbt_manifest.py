"""Prepare the dbt manifest once and reuse it, so code locations load without running dbt.

`ensure_manifest` runs `dbt parse` only when the project's files (or the target) changed since the
manifest was last prepared, which it records in a fingerprint file next to the manifest; CI, the
image build and `uv run ol-platform prepare` call it, and so does the lakehouse location's
`DbtProject` preparer, which dagster-dbt's `prepare_if_dev()` runs under `dagster dev` / `dg`
(dagster-dbt's own preparer parses every time; benchmarks/README.md compares them). Loading a code
location only reads the prepared `manifest.json` (`require_manifest` / `load_manifest_or_explain`),
and says how to prepare it when it is absent. Run
`python -m ol_orchestrate.lib.dbt_manifest [--target T] [--force] [PROJECT_DIR]` to prepare it
from a shell (the Dockerfiles do).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import yaml

from ol_orchestrate.lib.environment import PlatformSettings, get_settings

try:  # POSIX only; elsewhere concurrent prepares simply race (the result is still atomic).
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PREPARE_COMMAND = "uv run ol-platform prepare"
TARGET_DIR_NAME = "target"
MANIFEST_FILE_NAME = "manifest.json"
FINGERPRINT_FILE_NAME = "manifest.fingerprint.json"
# dbt's parse state, next to the manifest; dagster-dbt copies it into every invocation's target.
PARTIAL_PARSE_FILE_NAME = "partial_parse.msgpack"

# Everything `dbt parse` reads that lives in the project folder. Files at the top level are hashed
# when present; a file appearing or disappearing changes the fingerprint too.
FINGERPRINT_FILES: tuple[str, ...] = (
    "dbt_project.yml",
    "profiles.yml",
    "packages.yml",
    "dependencies.yml",
    "selectors.yml",
)
# dbt's default resource folders, used when dbt_project.yml does not configure the `*-paths` key.
DEFAULT_RESOURCE_PATHS: Mapping[str, tuple[str, ...]] = {
    "model-paths": ("models",),
    "macro-paths": ("macros",),
    "seed-paths": ("seeds",),
    "test-paths": ("tests",),
    "snapshot-paths": ("snapshots",),
    "analysis-paths": ("analyses",),
}

# How much of dbt's output a parse failure carries in its message.
OUTPUT_TAIL_LINES = 40
PARSE_TIMEOUT_SECONDS = 900


class DbtManifestError(RuntimeError):
    """Base class for problems preparing or loading the dbt manifest."""


class DbtProjectNotFoundError(DbtManifestError):
    """The folder given as the dbt project has no `dbt_project.yml`."""


class DbtManifestMissingError(DbtManifestError):
    """No usable prepared manifest: the message says how to prepare one."""


class DbtParseError(DbtManifestError):
    """`dbt parse` failed; the message carries the command and the tail of dbt's output."""

    def __init__(self, message: str, *, returncode: int, output_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.output_tail = output_tail


@dataclass(frozen=True)
class ManifestRecord:
    """What the fingerprint file says about the manifest next to it."""

    fingerprint: str
    target: str
    dbt_version: str
    manifest_size: int
    manifest_mtime_ns: int


def _project_dir(project_dir: str | os.PathLike[str]) -> Path:
    path = Path(project_dir).resolve()
    if not (path / "dbt_project.yml").is_file():
        msg = f"{path} is not a dbt project: it has no dbt_project.yml"
        raise DbtProjectNotFoundError(msg)
    return path


def manifest_path(project_dir: str | os.PathLike[str]) -> Path:
    """Where the prepared manifest lives: `<project_dir>/target/manifest.json`."""
    return Path(project_dir).resolve() / TARGET_DIR_NAME / MANIFEST_FILE_NAME


def fingerprint_path(project_dir: str | os.PathLike[str]) -> Path:
    """The record of what the manifest was prepared from, next to the manifest."""
    return Path(project_dir).resolve() / TARGET_DIR_NAME / FINGERPRINT_FILE_NAME


def resource_dirs(project_dir: str | os.PathLike[str]) -> tuple[str, ...]:
    """The folders dbt reads resources from: dbt_project.yml's `*-paths`, else dbt's defaults
    (models/, macros/, seeds/, tests/, snapshots/, analyses/)."""
    try:
        config = yaml.safe_load((Path(project_dir) / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    folders: list[str] = []
    for key, default in DEFAULT_RESOURCE_PATHS.items():
        configured = config.get(key) if isinstance(config, dict) else None
        values = configured if isinstance(configured, list) and configured else default
        folders.extend(str(value) for value in values if str(value) not in folders)
    return tuple(folders)


def _fingerprinted_files(root: Path) -> Iterator[Path]:
    for name in FINGERPRINT_FILES:
        yield root / name
    for folder in resource_dirs(root):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root)
            # Editor swap files, .DS_Store, __pycache__ and the like are not part of the project.
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            if path.is_file():
                yield path


def project_fingerprint(project_dir: str | os.PathLike[str]) -> str:
    """A hash of every file `dbt parse` reads: the project, profile and package files and
    everything under the resource folders (`resource_dirs`), paths and contents."""
    root = Path(project_dir).resolve()
    digest = hashlib.sha256()
    for path in _fingerprinted_files(root):
        relative = path.relative_to(root).as_posix()
        digest.update(relative.encode())
        digest.update(b"\0")
        if path.is_file():
            content = path.read_bytes()
            digest.update(str(len(content)).encode())
            digest.update(b"\0")
            digest.update(content)
        else:
            digest.update(b"<absent>")
        digest.update(b"\0")
    return digest.hexdigest()


def installed_dbt_version() -> str:
    """The installed dbt-core version ("" when dbt-core is not installed in this environment)."""
    try:
        return importlib_metadata.version("dbt-core")
    except importlib_metadata.PackageNotFoundError:
        return ""


def read_manifest_record(project_dir: str | os.PathLike[str]) -> ManifestRecord | None:
    """The fingerprint record of the prepared manifest, or None if there is none (or it is
    unreadable)."""
    path = fingerprint_path(project_dir)
    try:
        raw = json.loads(path.read_text())
        return ManifestRecord(
            fingerprint=str(raw["fingerprint"]),
            target=str(raw["target"]),
            dbt_version=str(raw.get("dbt_version", "")),
            manifest_size=int(raw["manifest_size"]),
            manifest_mtime_ns=int(raw["manifest_mtime_ns"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current_manifest_record(project_dir: str | os.PathLike[str]) -> ManifestRecord | None:
    """The fingerprint record when it describes the manifest file as it is now (a manual `dbt`
    command that rewrote the manifest leaves a record of another file: None)."""
    record = read_manifest_record(project_dir)
    if record is None:
        return None
    try:
        stat = manifest_path(project_dir).stat()
    except OSError:
        return None
    if (stat.st_size, stat.st_mtime_ns) != (record.manifest_size, record.manifest_mtime_ns):
        return None
    return record


def is_manifest_fresh(project_dir: str | os.PathLike[str], target: str | None = None) -> bool:
    """True when the manifest was prepared by `ensure_manifest` from the project as it is now.

    Fresh means: the recorded fingerprint matches the project's files, the manifest is the one
    that was written then (a manual `dbt` command that rewrote it makes it stale), it was parsed
    by the installed dbt-core, and, when `target` is given, for that target (node schemas
    depend on the target).
    """
    record = current_manifest_record(project_dir)
    return (
        record is not None
        and (target is None or target == record.target)
        and record.dbt_version == installed_dbt_version()
        and record.fingerprint == project_fingerprint(project_dir)
    )


def dbt_executable() -> str:
    """The workspace's dbt: the one installed next to this interpreter, else the one on PATH."""
    bin_dir = Path(sys.executable).parent
    for name in ("dbt", "dbt.exe"):
        candidate = bin_dir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("dbt")
    if found:
        return found
    msg = (
        f"no dbt executable next to {sys.executable} or on PATH; install the workspace with "
        "`uv sync` (dbt-core comes with the lakehouse package)"
    )
    raise DbtManifestError(msg)


@contextlib.contextmanager
def _prepare_lock(target_dir: Path) -> Iterator[None]:
    """Serialise concurrent prepares of one project (parallel test sessions, ol-platform)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with (target_dir / ".prepare.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tail(output: str, lines: int = OUTPUT_TAIL_LINES) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def _write_json_atomically(path: Path, payload: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def ensure_manifest(
    project_dir: str | os.PathLike[str],
    target: str = "dev",
    force: bool = False,
    *,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Return the path of a manifest prepared from the project as it is now.

    Runs `dbt parse --target <target>` only when the manifest is stale (or `force`), into a
    scratch folder, and moves the new manifest into place only when dbt succeeded: a failed parse
    raises `DbtParseError` with the tail of dbt's output and leaves the previous manifest as it
    was. `env` adds variables to dbt's environment (e.g. `OL_WAREHOUSE_PATH`, which profiles read).
    """
    root = _project_dir(project_dir)
    target_dir = root / TARGET_DIR_NAME
    target_dir.mkdir(parents=True, exist_ok=True)
    destination = manifest_path(root)

    with _prepare_lock(target_dir):
        # Checked under the lock: another process may have just prepared the same project.
        if not force and is_manifest_fresh(root, target):
            log.debug("dbt manifest at %s is fresh for target %s", destination, target)
            return destination

        fingerprint = project_fingerprint(root)
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target_dir))
        try:
            command = [
                dbt_executable(),
                "parse",
                "--project-dir",
                str(root),
                "--profiles-dir",
                str(root),
                "--target",
                target,
                "--target-path",
                str(scratch),
                "--log-path",
                str(scratch),
            ]
            process_env = {
                **os.environ,
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DBT_USE_COLORS": "false",
                "DBT_LOG_FORMAT": "text",
                **(env or {}),
            }
            log.info("preparing the dbt manifest: %s", " ".join(command[1:]))
            try:
                completed = subprocess.run(
                    command,
                    cwd=root,
                    env=process_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=PARSE_TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                output = exc.output if isinstance(exc.output, str) else ""
                tail = _tail(output)
                msg = (
                    f"`dbt parse --target {target}` in {root} did not finish within "
                    f"{PARSE_TIMEOUT_SECONDS}s; the previous manifest was left in place.\n{tail}"
                )
                raise DbtParseError(msg, returncode=-1, output_tail=tail) from None

            parsed = scratch / MANIFEST_FILE_NAME
            if completed.returncode != 0 or not parsed.is_file():
                tail = _tail(completed.stdout or "")
                msg = (
                    f"`dbt parse --target {target}` in {root} failed with exit code "
                    f"{completed.returncode}; the previous manifest was left in place. "
                    f"Last lines of dbt's output:\n{tail}"
                )
                raise DbtParseError(msg, returncode=completed.returncode, output_tail=tail)

            parsed.replace(destination)
            # dbt's partial-parse state goes along: dagster-dbt copies it into every run's target
            # folder, so `dbt build` in a run skips the full parse.
            partial_parse = scratch / PARTIAL_PARSE_FILE_NAME
            if partial_parse.is_file():
                partial_parse.replace(destination.with_name(PARTIAL_PARSE_FILE_NAME))
            stat = destination.stat()
            record = ManifestRecord(
                fingerprint=fingerprint,
                target=target,
                dbt_version=installed_dbt_version(),
                manifest_size=stat.st_size,
                manifest_mtime_ns=stat.st_mtime_ns,
            )
            _write_json_atomically(fingerprint_path(root), asdict(record))
            log.info("dbt manifest prepared at %s (target %s)", destination, target)
            return destination
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def require_manifest(project_dir: str | os.PathLike[str]) -> Path:
    """The path of the prepared manifest, without reading it or running dbt.

    Raises `DbtManifestMissingError` saying to run `uv run ol-platform prepare` when there is no
    manifest. A manifest older than the project's files is still returned (a code location must
    start), with a warning that the asset graph may be out of date.
    """
    root = Path(project_dir).resolve()
    path = manifest_path(root)
    if not path.is_file():
        msg = (
            f"the dbt manifest {path} does not exist. Code locations read a prepared manifest "
            f"instead of running dbt while loading: run `{PREPARE_COMMAND}` once (it runs "
            "`dbt parse`), and again whenever the dbt project changes."
        )
        raise DbtManifestMissingError(msg)
    if (root / "dbt_project.yml").is_file() and not is_manifest_fresh(root):
        log.warning(
            "the dbt manifest %s is older than the dbt project (or was not prepared by "
            "`%s`); the asset graph may be out of date until it is prepared again",
            path,
            PREPARE_COMMAND,
        )
    return path


def unreadable_manifest_error(path: Path, reason: object) -> DbtManifestMissingError:
    """The error for a manifest file that is not a readable dbt manifest."""
    return DbtManifestMissingError(
        f"the dbt manifest {path} could not be read ({reason}); "
        f"re-create it with `{PREPARE_COMMAND}`."
    )


def load_manifest_or_explain(project_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The prepared manifest as a dict, without running dbt (`require_manifest`, then read).

    Raises `DbtManifestMissingError` saying to run `uv run ol-platform prepare` when there is no
    (readable) manifest; a stale one loads with a warning.
    """
    path = require_manifest(project_dir)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise unreadable_manifest_error(path, exc) from exc
    if not isinstance(manifest, dict) or "nodes" not in manifest:
        raise unreadable_manifest_error(path, "not a dbt manifest")
    return manifest


def prepared_target(project_dir: str | os.PathLike[str]) -> str | None:
    """The dbt target the prepared manifest was parsed for, if it was prepared here."""
    record = read_manifest_record(project_dir)
    return record.target if record else None


def main(argv: list[str] | None = None) -> int:
    """`python -m ol_orchestrate.lib.dbt_manifest`: prepare the manifest from a shell."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("project_dir", nargs="?", help="dbt project (default: from settings)")
    parser.add_argument("--target", help="dbt target (default: from settings)")
    parser.add_argument("--force", action="store_true", help="parse even if the manifest is fresh")
    args = parser.parse_args(argv)

    settings = get_settings()
    project_dir = Path(args.project_dir) if args.project_dir else settings.dbt_project_dir
    target = args.target or settings.dbt_target
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = ensure_manifest(project_dir, target, force=args.force, env=dbt_env(settings))
    except DbtManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(path)
    return 0


def dbt_env(settings: PlatformSettings) -> dict[str, str]:
    """The variables the dbt project reads (profiles, sources) for one environment's settings.

    Set in the dbt subprocess's environment at run time, never in this process at import time.
    """
    return {
        "DAGSTER_ENV": settings.environment.value,
        "DBT_TARGET": settings.dbt_target,
        "OL_LAKE_ROOT": settings.lake_root,
        "OL_WAREHOUSE_PATH": str(settings.warehouse_path),
    }


if __name__ == "__main__":
    sys.exit(main())
