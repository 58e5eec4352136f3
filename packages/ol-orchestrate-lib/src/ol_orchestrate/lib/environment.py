"""The one place that decides what differs between dev, ci, qa and production.

`DAGSTER_ENV` is read once into a frozen `PlatformSettings`; every resource, IO manager, dbt
target and source endpoint is derived from it, and nothing else branches on raw environment
variables. Building settings never touches the network, Vault or the lake, so code locations
load with no credentials in every environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path

ENV_VAR = "DAGSTER_ENV"


class UnknownEnvironmentError(ValueError):
    """`DAGSTER_ENV` holds a value that is not one of the known environments."""


class Environment(StrEnum):
    DEV = "dev"
    CI = "ci"
    QA = "qa"
    PRODUCTION = "production"

    @property
    def is_local(self) -> bool:
        """dev and ci run on embedded defaults: local lake, DuckDB, sandbox sources."""
        return self in (Environment.DEV, Environment.CI)

    @classmethod
    def parse(cls, value: str | None) -> Environment:
        raw = (value or "").strip().lower() or cls.DEV.value
        try:
            return cls(raw)
        except ValueError:
            known = ", ".join(e.value for e in cls)
            msg = f"{ENV_VAR}={value!r} is not a known environment; expected one of: {known}"
            raise UnknownEnvironmentError(msg) from None


class MissingSourceConfigError(KeyError):
    """A source system has no endpoint configured for this environment; the message names it."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"
# The sandbox's S3-compatible endpoint (moto's server): object stores outside the lake, such as
# edX.org's delivery bucket, are read there in dev/ci with the boto3 code production runs on AWS.
DEFAULT_SANDBOX_S3_URL = "http://127.0.0.1:8766"
# Secrets of deployed environments live under this Vault prefix; locally the same path without it.
DEPLOYED_SECRET_PREFIX = "pipelines/"  # noqa: S105  # pragma: allowlist secret (a path prefix)
BASE_URL_SUFFIX = "_BASE_URL"


def find_repo_root(start: Path | None = None) -> Path:
    """The workspace root: the nearest folder holding the dbt project, else the cwd."""
    override = os.environ.get("OL_PLATFORM_ROOT")
    if override:
        return Path(override).resolve()
    for base in (start or Path(__file__).resolve(), Path.cwd()):
        for candidate in (base, *base.parents):
            if (candidate / "src" / "ol_dbt" / "dbt_project.yml").is_file():
                return candidate
    return Path.cwd()


@dataclass(frozen=True)
class PlatformSettings:
    """Typed settings for one environment. Build with `load_settings()`."""

    environment: Environment
    repo_root: Path
    data_dir: Path
    lake_root: str
    dagster_home: Path
    dbt_project_dir: Path
    dbt_target: str
    warehouse_path: Path
    secrets_backend: str  # "local" | "vault"
    local_secrets_file: Path
    vault_addr: str
    vault_auth_method: str  # "token" | "approle" | "kubernetes"
    vault_role: str
    vault_kv_mount: str
    vault_kv_version: int
    sandbox_url: str | None
    superset_url: str | None
    # dev/ci: the sandbox's S3 endpoint (OL_SANDBOX_S3_URL); None deployed (the real AWS).
    sandbox_s3_url: str | None
    superset_secret_path: str
    superset_database_name: str
    # `<NAME>_BASE_URL` variables (e.g. OPENEDX_XPRO_BASE_URL, CANVAS_BASE_URL), keyed by the
    # lower-cased name: they point one source system at another host in any environment.
    base_url_overrides: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.environment.is_local

    @property
    def serving_warehouse_path(self) -> Path:
        """The read-only copy of the published marts a local Superset reads (dev/ci), next to
        the warehouse: dbt keeps the one DuckDB writer of `warehouse_path` to itself."""
        return self.warehouse_path.with_name(f"{self.warehouse_path.stem}.serving.duckdb")

    def source_base_url(self, name: str, hosts: Mapping[str, str], sandbox_path: str) -> str:
        """Where source system `name` answers in this environment.

        dev/ci: the sandbox (`<sandbox_url>/<sandbox_path>`); qa/production: `hosts[<env>]`, the
        host the location's configuration gives for that environment. `<NAME>_BASE_URL` overrides
        both. A deployed environment with no host configured is a `MissingSourceConfigError`.
        """
        override = self.base_url_overrides.get(name.lower())
        if override:
            return override.rstrip("/")
        if self.is_local:
            return f"{self.sandbox_url}/{sandbox_path.strip('/')}"
        host = hosts.get(self.environment.value)
        if not host:
            msg = (
                f"{name}: no host configured for DAGSTER_ENV={self.environment.value} (configured: "
                f"{', '.join(sorted(hosts)) or 'none'}); add it to the location's configuration "
                f"or set {name.upper()}{BASE_URL_SUFFIX}"
            )
            raise MissingSourceConfigError(msg)
        return host.rstrip("/")

    def secret_path(self, path: str) -> str:
        """A secret's path in this environment: as given locally (the local secrets file), under
        `pipelines/` in Vault for qa/production."""
        path = path.strip("/")
        return path if self.is_local else f"{DEPLOYED_SECRET_PREFIX}{path}"


def _env(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip()
    return value or default


def load_settings(environ: Mapping[str, str] | None = None) -> PlatformSettings:
    """Resolve settings from `environ` (default: the process environment)."""
    environ = os.environ if environ is None else environ
    env = Environment.parse(environ.get(ENV_VAR))
    root = find_repo_root()
    data_dir = Path(_env(environ, "OL_DATA_DIR", str(root / ".data"))).resolve()

    if env.is_local:
        lake_root = _env(environ, "OL_LAKE_ROOT", str(data_dir / "lake"))
        sandbox_url: str | None = _env(environ, "OL_SANDBOX_URL", DEFAULT_SANDBOX_URL).rstrip("/")
        sandbox_s3_url: str | None = _env(
            environ, "OL_SANDBOX_S3_URL", DEFAULT_SANDBOX_S3_URL
        ).rstrip("/")
        secrets_backend = _env(environ, "OL_SECRETS_BACKEND", "local")
    else:
        lake_root = _env(environ, "OL_LAKE_ROOT", f"s3://ol-data-lake-{env.value}")
        sandbox_url = None
        sandbox_s3_url = None
        secrets_backend = _env(environ, "OL_SECRETS_BACKEND", "vault")

    return PlatformSettings(
        environment=env,
        repo_root=root,
        data_dir=data_dir,
        lake_root=lake_root.rstrip("/"),
        dagster_home=Path(_env(environ, "DAGSTER_HOME", str(data_dir / "dagster_home"))),
        dbt_project_dir=root / "src" / "ol_dbt",
        dbt_target=_env(environ, "DBT_TARGET", env.value),
        warehouse_path=Path(_env(environ, "OL_WAREHOUSE_PATH", str(data_dir / "warehouse.duckdb"))),
        secrets_backend=secrets_backend,
        local_secrets_file=Path(
            _env(
                environ, "OL_SECRETS_FILE", str(root / "dg_deployments" / "local" / "secrets.yaml")
            )
        ),
        vault_addr=_env(environ, "VAULT_ADDR", f"https://vault-{env.value}.odl.mit.edu"),
        vault_auth_method=_env(environ, "VAULT_AUTH_METHOD", "kubernetes"),
        vault_role=_env(environ, "VAULT_ROLE", "dagster"),
        vault_kv_mount=_env(environ, "VAULT_KV_MOUNT", "secret-data"),
        vault_kv_version=int(_env(environ, "VAULT_KV_VERSION", "2")),
        sandbox_url=sandbox_url,
        sandbox_s3_url=sandbox_s3_url,
        superset_url=(environ.get("SUPERSET_URL") or "").strip().rstrip("/") or None,
        superset_secret_path=_env(environ, "SUPERSET_SECRET_PATH", "superset/api"),
        superset_database_name=_env(
            environ, "SUPERSET_DATABASE_NAME", "warehouse" if env.is_local else "Trino"
        ),
        base_url_overrides={
            name[: -len(BASE_URL_SUFFIX)].lower(): value.strip()
            for name, value in environ.items()
            if name.endswith(BASE_URL_SUFFIX) and value.strip() and name != "OL_SANDBOX_URL"
        },
    )


@cache
def get_settings() -> PlatformSettings:
    """The settings of this process, resolved once."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests that change `DAGSTER_ENV` call this)."""
    get_settings.cache_clear()


@contextmanager
def environ_overrides(changes: Mapping[str, str]) -> Iterator[None]:
    """Set process environment variables for a block and restore the previous values after.

    For tools that read the environment themselves (dbt subprocesses) and for tests; settings
    resolved while the block runs are cached, so callers reset the cache when that matters.
    """
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
