"""A real Apache Superset for the local platform: installed once, started for one data folder.

Superset runs in a virtual environment of its own on Python 3.12 (it pins old SQLAlchemy and
pandas), installed from `superset-requirements.txt` (every version pinned) into
`~/.cache/ol-platform/superset-<hash>/`; the hash covers the pins and the interpreter, so a
change of either installs anew and an unchanged one reuses the install. The platform only talks
to it over its REST API.

For a data folder, `SupersetServer` keeps Superset's state in `<data dir>/superset/` (the SQLite
metadata database, a secret key generated on first use, the server log), makes sure the admin
user of the local secrets file (`superset/api`: username, password) can log in, serves Superset
with gunicorn on 127.0.0.1, registers the local warehouse (the read-only serving copy of the
published marts, `settings.serving_warehouse_path`) as the database `SUPERSET_DATABASE_NAME`
names, and records the server in `<data dir>/superset/server.json`, where the lakehouse's
Superset assets find it (`ol_orchestrate.resources.superset.read_local_server`). A fresh
metadata database is a copy of one migrated and initialized once per install (`superset db
upgrade` and `superset init` take half a minute), so a new data folder starts in seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ol_orchestrate.lib.environment import PlatformSettings
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.superset import (
    LOCAL_SERVER_FILE,
    SupersetAuthenticationError,
    SupersetClient,
)

SUPERSET_VERSION = "6.1.0"
PYTHON_VERSION = "3.12"
REQUIREMENTS_FILE = Path(__file__).with_name("superset-requirements.txt")
# Superset's configuration: the lakehouse location owns it (it is Superset's, not Python's).
CONFIG_FILE = Path("dg_projects/lakehouse/lakehouse/superset/superset_config.py")
DEFAULT_PORT = 8088
START_TIMEOUT_SECONDS = 180.0
INSTALLED_MARKER = ".ol-platform-installed"
TEMPLATE_DB = "metadata-template.db"
# Variables of the platform's own environment that must not leak into Superset's.
_FOREIGN_VARIABLES = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "UV_PROJECT_ENVIRONMENT",
)

Log = Callable[[str], None]


class SupersetServerError(RuntimeError):
    """Installing or starting Superset failed; the message says what to do (exit 2)."""


def _quiet(message: str) -> None:
    """The default log: nothing."""


def cache_root() -> Path:
    """Where installs are cached: `OL_PLATFORM_CACHE`, else `$XDG_CACHE_HOME/ol-platform`."""
    if override := os.environ.get("OL_PLATFORM_CACHE", "").strip():
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base).expanduser() / "ol-platform"


def find_python() -> Path:
    """A Python 3.12 for Superset's venv: `OL_SUPERSET_PYTHON`, pyenv's newest 3.12, or
    `python3.12` on the PATH."""
    if override := os.environ.get("OL_SUPERSET_PYTHON", "").strip():
        return Path(override)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", "").strip() or Path.home() / ".pyenv")
    candidates = sorted(
        (pyenv_root / "versions").glob(f"{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"),
        key=lambda path: tuple(int(p) for p in path.parts[-3].split(".") if p.isdigit()),
    )
    if candidates:
        return candidates[-1]
    if found := shutil.which(f"python{PYTHON_VERSION}"):
        return Path(found)
    msg = (
        f"Superset needs Python {PYTHON_VERSION} (it does not run on 3.13 yet): install it with "
        f"pyenv (`pyenv install {PYTHON_VERSION}`) or set OL_SUPERSET_PYTHON to its interpreter"
    )
    raise SupersetServerError(msg)


def _python_version(python: Path) -> str:
    result = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        msg = f"{python} does not run: {result.stderr.strip()[-500:]}"
        raise SupersetServerError(msg)
    return result.stdout.strip()


def install_key(requirements: str, python_version: str) -> str:
    """The cache key of an install: the pinned requirements and the interpreter version."""
    digest = hashlib.sha256(f"{python_version}\n{requirements}".encode()).hexdigest()
    return digest[:16]


@dataclass(frozen=True)
class SupersetInstall:
    """An installed Superset virtual environment."""

    venv: Path
    key: str

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def superset(self) -> Path:
        return self.venv / "bin" / "superset"

    @property
    def metadata_template(self) -> Path:
        return self.venv / TEMPLATE_DB


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock (waits): one process installs or initializes at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: Sequence[str | Path], what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        msg = f"{what} failed (exit {result.returncode}):\n{output}"
        raise SupersetServerError(msg)
    return result.stdout + result.stderr


def _uv() -> str | None:
    """uv: the one running us (`uv run` sets UV), else on the PATH."""
    candidate = os.environ.get("UV", "").strip()
    if candidate and Path(candidate).exists():
        return candidate
    return shutil.which("uv")


def ensure_installed(log: Log = _quiet) -> SupersetInstall:
    """Superset's virtual environment, installed now if this cache has none for these pins."""
    requirements = REQUIREMENTS_FILE.read_text(encoding="utf-8")
    python = find_python()
    key = install_key(requirements, _python_version(python))
    venv = cache_root() / f"superset-{key}"
    install = SupersetInstall(venv=venv, key=key)
    marker = venv / INSTALLED_MARKER
    if marker.exists():
        return install
    with _file_lock(cache_root() / f"superset-{key}.lock"):
        if marker.exists():  # another process installed it while we waited
            return install
        start = time.monotonic()
        log(f"installing Superset {SUPERSET_VERSION} into {venv} (once; takes a minute or two)")
        shutil.rmtree(venv, ignore_errors=True)  # what an interrupted install left
        uv = _uv()
        if uv:
            _run([uv, "venv", "--quiet", "--python", python, venv], "creating Superset's venv")
            _run(
                [uv, "pip", "install", "--quiet", "--python", install.python,
                 "-r", REQUIREMENTS_FILE],
                "installing Superset",
            )  # fmt: skip
        else:
            _run([python, "-m", "venv", venv], "creating Superset's venv")
            _run(
                [install.python, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS_FILE],
                "installing Superset",
            )
        marker.write_text(f"{SUPERSET_VERSION} {key}\n", encoding="utf-8")
        log(f"installed Superset in {time.monotonic() - start:.0f}s")
    return install


def _superset_env(
    settings: PlatformSettings, home: Path, metadata_db: Path, secret_key: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_VARIABLES}
    env.update(
        SUPERSET_CONFIG_PATH=str(settings.repo_root / CONFIG_FILE),
        SUPERSET_HOME=str(home),
        SUPERSET_SECRET_KEY=secret_key,
        OL_SUPERSET_METADATA_DB=str(metadata_db),
        PYTHONUNBUFFERED="1",
    )
    return env


def ensure_metadata_template(
    install: SupersetInstall, settings: PlatformSettings, log: Log
) -> Path:
    """A metadata database migrated (`db upgrade`) and initialized (`init`) once per install."""
    template = install.metadata_template
    if template.exists():
        return template
    with _file_lock(install.venv / f"{TEMPLATE_DB}.lock"):
        if template.exists():
            return template
        start = time.monotonic()
        log("preparing Superset's metadata database (once per install)")
        scratch = install.venv / f".{TEMPLATE_DB}.{os.getpid()}"
        scratch.mkdir(exist_ok=True)
        try:
            database = scratch / "superset.db"
            env = _superset_env(settings, scratch, database, secrets.token_hex(32))
            _run([install.superset, "db", "upgrade"], "superset db upgrade", env)
            _run([install.superset, "init"], "superset init", env)
            database.replace(template)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        log(f"metadata database ready in {time.monotonic() - start:.0f}s")
    return template


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ensure_empty_duckdb(path: Path) -> None:
    """An empty DuckDB file where the serving copy goes, so the database can be registered
    before the first build (the first build replaces it)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        duckdb.connect(str(temporary)).close()
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def warehouse_uri(settings: PlatformSettings) -> str:
    """The SQLAlchemy URI Superset reads the published marts through (read-only)."""
    return f"duckdb:///{settings.serving_warehouse_path.resolve()}?access_mode=read_only"


@dataclass
class SupersetServer:
    """Superset for one data folder, on 127.0.0.1:`port`; a context manager (starts, stops)."""

    settings: PlatformSettings
    port: int = DEFAULT_PORT
    log: Log = _quiet
    workers: int = 1
    install: SupersetInstall | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    username: str = field(default="", init=False)
    _password: str = field(default="", init=False, repr=False)

    @property
    def home(self) -> Path:
        return self.settings.data_dir / "superset"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.settings.data_dir / LOCAL_SERVER_FILE

    @property
    def log_file(self) -> Path:
        return self.home / "superset.log"

    def client(self, password: str | None = None) -> SupersetClient:
        """A REST client logged in as the admin (or with another password)."""
        return SupersetClient(
            self.url, self.username, self._password if password is None else password,
            max_retries=2, timeout=60.0,
        )  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SupersetServer:
        started = time.monotonic()
        install = self.install or ensure_installed(self.log)
        self.install = install
        credentials = SecretsResource.from_settings(self.settings).get_secret(
            self.settings.superset_secret_path
        )
        self.username = credentials.get("username", "")
        self._password = credentials.get("password", "")
        if not self.username or not self._password:
            msg = (
                f"the secret {self.settings.superset_secret_path!r} needs a username and a "
                f"password for Superset's admin (locally: {self.settings.local_secrets_file})"
            )
            raise SupersetServerError(msg)
        if not _port_is_free(self.port):
            msg = (
                f"port {self.port} on 127.0.0.1 is in use (another Superset?); stop it or pass "
                "--port"
            )
            raise SupersetServerError(msg)

        self.home.mkdir(parents=True, exist_ok=True)
        env = self._env()
        fresh = self._prepare_metadata(install, env)
        if fresh:
            self._create_admin(install, env)
        _ensure_empty_duckdb(self.settings.serving_warehouse_path)

        self._spawn(install, env)
        try:
            self._wait_until_healthy()
            self._ensure_login(install, env)
            with self.client() as client:
                client.upsert_database(
                    self.settings.superset_database_name,
                    warehouse_uri(self.settings),
                    expose_in_sqllab=True,
                    allow_run_async=False,
                    allow_dml=False,
                )
            self._write_state()
        except BaseException:
            self.stop()
            raise
        self.log(f"Superset ready on {self.url} in {time.monotonic() - started:.0f}s")
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group, SIGKILL after 20 s); idempotent."""
        with contextlib.suppress(FileNotFoundError):
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
            if self.process is not None and state.get("pid") == self.process.pid:
                self.state_file.unlink()
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def wait(self) -> int:
        """Block until the server exits (Ctrl-C stops it)."""
        assert self.process is not None
        return self.process.wait()

    def __enter__(self) -> SupersetServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- steps -------------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        key_file = self.home / "secret_key"
        if not key_file.exists():
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_hex(32), encoding="utf-8")
        return _superset_env(
            self.settings, self.home, self.home / "superset.db", key_file.read_text().strip()
        )

    def _prepare_metadata(self, install: SupersetInstall, env: dict[str, str]) -> bool:
        """The data folder's metadata database, at this install's schema; True if new."""
        database = self.home / "superset.db"
        stamp = self.home / "superset.db.version"
        fresh = not database.exists()
        if fresh:
            template = ensure_metadata_template(install, self.settings, self.log)
            temporary = database.with_name(f".{database.name}.tmp")
            shutil.copyfile(template, temporary)
            temporary.replace(database)
        elif not stamp.exists() or stamp.read_text().strip() != install.key:
            self.log("upgrading Superset's metadata database for this install")
            _run([install.superset, "db", "upgrade"], "superset db upgrade", env)
            _run([install.superset, "init"], "superset init", env)
        stamp.write_text(install.key, encoding="utf-8")
        return fresh

    def _create_admin(self, install: SupersetInstall, env: dict[str, str]) -> None:
        _run(
            [install.superset, "fab", "create-admin", "--username", self.username,
             "--firstname", "Platform", "--lastname", "Admin",
             "--email", f"{self.username}@localhost", "--password", self._password],
            "creating Superset's admin user",
            env,
        )  # fmt: skip

    def _ensure_login(self, install: SupersetInstall, env: dict[str, str]) -> None:
        """Log in as the admin; if the secrets file's password changed, reset it first."""
        try:
            with self.client() as client:
                client.find_database(self.settings.superset_database_name)
            return
        except SupersetAuthenticationError:
            self.log(f"setting the password of Superset user {self.username!r} from the secrets")
        output = _run(
            [install.superset, "fab", "reset-password", "--username", self.username,
             "--password", self._password],
            "resetting the admin password",
            env,
        )  # fmt: skip
        if "not found" in output.lower():
            self._create_admin(install, env)
        with self.client() as client:
            client.find_database(self.settings.superset_database_name)

    def _spawn(self, install: SupersetInstall, env: dict[str, str]) -> None:
        command = [
            str(install.python), "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--worker-class", "gthread", "--threads", "8",
            "--timeout", "120", "--graceful-timeout", "10",
            "--limit-request-line", "0", "--limit-request-field_size", "0",
            "superset.app:create_app()",
        ]  # fmt: skip
        log_handle = self.log_file.open("ab")
        try:
            # Its own session: a Ctrl-C in the terminal reaches us, and we stop it in order.
            self.process = subprocess.Popen(
                command,
                cwd=self.home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log_handle.close()

    def _wait_until_healthy(self) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                msg = (
                    f"Superset exited with code {self.process.returncode} while starting; "
                    f"the end of {self.log_file}:\n{self._log_tail()}"
                )
                raise SupersetServerError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            if time.monotonic() > deadline:
                msg = (
                    f"Superset did not answer on {self.url} within {START_TIMEOUT_SECONDS:.0f}s; "
                    f"the end of {self.log_file}:\n{self._log_tail()}"
                )
                raise SupersetServerError(msg)
            time.sleep(0.5)

    def _log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _write_state(self) -> None:
        assert self.process is not None
        state = {
            "url": self.url,
            "pid": self.process.pid,
            "started_at": datetime.now(UTC).isoformat(),
            "data_dir": str(self.settings.data_dir),
        }
        temporary = self.state_file.with_name(f".{self.state_file.name}.tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        temporary.replace(self.state_file)


def main_install(settings: PlatformSettings, log: Log = print) -> int:
    """`ol-platform superset install`: install (or find) the cached venv and its prepared
    metadata database, and say where."""
    start = time.monotonic()
    install = ensure_installed(log)
    ensure_metadata_template(install, settings, log)
    log(f"Superset {SUPERSET_VERSION}: {install.venv} ({time.monotonic() - start:.1f}s)")
    return 0
