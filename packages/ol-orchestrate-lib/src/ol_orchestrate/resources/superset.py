"""Publish warehouse tables as Apache Superset datasets through Superset's REST API.

Superset runs in its own virtual environment, so the platform only talks to it over HTTP:
`SupersetClient` (on `ApiClient`: retries, safe errors) logs in with a JWT, keeps the session
cookie and CSRF token that Superset requires for writes, registers databases, creates or refreshes
datasets (reporting the columns a refresh added or removed and the charts that used a removed
one) and imports dashboards in Superset's own export format; `SupersetResource` builds it from
settings, reading the credentials from the secrets resource only when an asset runs. Locally it
also finds a Superset started by `ol-platform superset` (its state file in the data folder), so
no variable has to be set. Credentials never appear in logs, errors or metadata.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

import httpx
from dagster import ConfigurableResource
from pydantic import Field

from ol_orchestrate.lib.http import ApiAuth, ApiClient, ApiError, redact_url
from ol_orchestrate.resources.secrets import SecretsResource

if TYPE_CHECKING:
    from ol_orchestrate.lib.environment import PlatformSettings

log = logging.getLogger(__name__)

LOGIN_PATH = "/api/v1/security/login"
CSRF_PATH = "/api/v1/security/csrf_token/"
DATABASE_PATH = "/api/v1/database/"
DATASET_PATH = "/api/v1/dataset/"
CHART_PATH = "/api/v1/chart/"
DASHBOARD_PATH = "/api/v1/dashboard/"
ASSETS_IMPORT_PATH = "/api/v1/assets/import/"
# Written by `ol-platform superset` while a local Superset runs: {"url": ..., "pid": ...}.
LOCAL_SERVER_FILE = Path("superset") / "server.json"


class SupersetError(RuntimeError):
    """A Superset operation failed; the message says which and why, never a credential."""


class SupersetNotConfiguredError(SupersetError):
    """No Superset URL is configured for this environment (`SUPERSET_URL`)."""


class SupersetAuthenticationError(SupersetError):
    """Superset rejected the login."""


class SupersetDatabaseNotFoundError(SupersetError):
    """No Superset database connection has the requested name."""


class UpsertResult(TypedDict):
    dataset_id: int
    action: Literal["created", "refreshed"]


class ChartUsingColumns(TypedDict):
    chart_id: int
    chart_name: str
    columns: list[str]


class PublishResult(UpsertResult):
    """What publishing a dataset did: its columns now, and what the refresh changed."""

    dataset_uuid: str
    columns: list[str]
    columns_added: list[str]
    columns_removed: list[str]
    # Charts of the dataset whose definition names a removed column: they now fail to render.
    charts_using_removed_columns: list[ChartUsingColumns]
    database_id: NotRequired[int]


# -- rison ---------------------------------------------------------------------------------------

# Characters rison allows in an unquoted identifier (https://github.com/Nanonid/rison).
_RISON_ID = re.compile(r"^[^-0-9 '!:(),*@$][^ '!:(),*@$]*$")


def rison_dumps(value: Any) -> str:
    """Encode `value` as rison, the notation of Superset's `q=` query parameter.

    Covers what list filters need: dicts, lists/tuples, strings, ints, floats, booleans, None.
    """
    if value is None:
        return "!n"
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        if _RISON_ID.match(value):
            return value
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, Mapping):
        items = ",".join(f"{rison_dumps(str(k))}:{rison_dumps(v)}" for k, v in value.items())
        return f"({items})"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison_dumps(v) for v in value) + ")"
    msg = f"cannot rison-encode {type(value).__name__}"
    raise TypeError(msg)


def filters_query(*filters: tuple[str, str, Any], page_size: int | None = None) -> str:
    """`q=` for a Superset list endpoint: `(filters:!((col:..,opr:..,value:..),...))`."""
    query: dict[str, Any] = {
        "filters": [{"col": col, "opr": opr, "value": value} for col, opr, value in filters]
    }
    if page_size is not None:
        query["page_size"] = page_size
    return rison_dumps(query)


# -- auth ----------------------------------------------------------------------------------------


class SupersetAuth(ApiAuth):
    """Superset's `db` login: a JWT access token, fetched lazily and again once after a 401."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._token: str | None = None
        self._lock = threading.Lock()
        self.logins = 0

    def __repr__(self) -> str:
        return f"SupersetAuth(username={self.username!r}, password=***)"

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._password, self._token) if s)

    def auth_headers(self, client: ApiClient) -> dict[str, str]:
        with self._lock:
            if self._token is None:
                self._token = self._login(client)
            return {"Authorization": f"Bearer {self._token}"}

    def refresh(self, client: ApiClient, used_headers: Mapping[str, str]) -> bool:
        with self._lock:
            if self._token and used_headers.get("Authorization", "").endswith(self._token):
                self._token = None
        if isinstance(client, SupersetClient):
            client.forget_csrf_token()  # the CSRF token belongs to the old login's session
        return True

    def _login(self, client: ApiClient) -> str:
        body = {
            "username": self.username,
            "password": self._password,
            "provider": "db",
            "refresh": True,
        }
        try:
            payload = client.post_json(LOGIN_PATH, json=body, authenticated=False)
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                msg = (
                    f"Superset at {redact_url(client.base_url)} rejected the login of user "
                    f"{self.username!r} (HTTP {exc.status}); check the username and password "
                    "in the Superset secret"
                )
                raise SupersetAuthenticationError(msg) from None
            raise
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            msg = (
                f"Superset at {redact_url(client.base_url)}: no access_token in the login response"
            )
            raise SupersetAuthenticationError(msg)
        self.logins += 1
        log.debug("logged in to Superset at %s as %s", redact_url(client.base_url), self.username)
        return token


# -- client --------------------------------------------------------------------------------------


class SupersetClient(ApiClient):
    """The Superset REST calls the platform needs: find databases and datasets, create and
    refresh datasets. Writes carry the CSRF token and the session cookie it belongs to (the
    underlying httpx client keeps cookies)."""

    def __init__(self, base_url: str, username: str, password: str, **kwargs: Any) -> None:
        super().__init__(base_url, SupersetAuth(username, password), **kwargs)
        self._csrf_token: str | None = None
        # Re-entrant: a 401 while fetching the token makes the auth forget the token.
        self._csrf_lock = threading.RLock()

    def csrf_token(self) -> str:
        with self._csrf_lock:
            if self._csrf_token is None:
                payload = self.get_json(CSRF_PATH)
                token = payload.get("result") if isinstance(payload, dict) else None
                if not isinstance(token, str) or not token:
                    msg = f"GET {CSRF_PATH} on {redact_url(self.base_url)} returned no CSRF token"
                    raise SupersetError(msg)
                self._csrf_token = token
            return self._csrf_token

    def forget_csrf_token(self) -> None:
        with self._csrf_lock:
            self._csrf_token = None

    def _scrub(self, text: str) -> str:
        text = super()._scrub(text)
        if self._csrf_token:
            text = text.replace(self._csrf_token, "***")
        return text

    def _write(self, method: str, path: str, json: Any = None) -> Any:
        """A state-changing request; fetches a new CSRF token once if Superset rejects it."""
        for attempt in (1, 2):
            headers = {
                "X-CSRFToken": self.csrf_token(),
                # Flask-WTF checks the Referer of HTTPS writes against the host.
                "Referer": self.base_url + "/",
            }
            try:
                response = self.request(method, path, json=json, headers=headers)
            except ApiError as exc:
                if attempt == 1 and exc.status == 400 and "CSRF" in (exc.detail or ""):
                    log.info("Superset rejected the CSRF token; fetching a new one")
                    self.forget_csrf_token()
                    continue
                raise
            return response.json() if response.content else None
        raise AssertionError("unreachable")  # pragma: no cover

    def _list(self, path: str, *filters: tuple[str, str, Any]) -> list[dict[str, Any]]:
        payload = self.get_json(path, params={"q": filters_query(*filters, page_size=100)})
        rows = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            msg = f"GET {path} on {redact_url(self.base_url)}: the response has no result list"
            raise SupersetError(msg)
        return rows

    def find_database_id(self, database_name: str) -> int:
        """The id of the database connection named `database_name`."""
        rows = self._list(DATABASE_PATH, ("database_name", "eq", database_name))
        ids = [row["id"] for row in rows if row.get("database_name") == database_name]
        if not ids:
            msg = (
                f"Superset at {redact_url(self.base_url)} has no database connection named "
                f"{database_name!r}; create it in Superset (Settings > Database Connections) or "
                "set SUPERSET_DATABASE_NAME to an existing one"
            )
            raise SupersetDatabaseNotFoundError(msg)
        return int(ids[0])

    def find_dataset(self, database_id: int, schema: str, table_name: str) -> dict[str, Any] | None:
        """The dataset for `schema.table_name` in database `database_id`, if there is one."""
        rows = self._list(
            DATASET_PATH,
            ("database", "rel_o_m", database_id),
            ("schema", "eq", schema),
            ("table_name", "eq", table_name),
        )
        # Filters are applied by Superset; re-check in case a version matches loosely.
        for row in rows:
            database = row.get("database") or {}
            database_matches = database.get("id", database_id) == database_id
            if (
                database_matches
                and row.get("schema") == schema
                and row.get("table_name") == table_name
            ):
                return row
        return None

    def create_dataset(self, database_id: int, schema: str, table_name: str) -> int:
        """Create a physical dataset; returns its id."""
        payload = self._write(
            "POST",
            DATASET_PATH,
            json={"database": database_id, "schema": schema, "table_name": table_name},
        )
        dataset_id = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(dataset_id, int):
            msg = f"POST {DATASET_PATH} on {redact_url(self.base_url)}: no dataset id returned"
            raise SupersetError(msg)
        return dataset_id

    def refresh_dataset(self, dataset_id: int) -> None:
        """Re-read the dataset's columns from the database (after a model changed shape)."""
        self._write("PUT", f"{DATASET_PATH}{dataset_id}/refresh")

    def upsert_dataset(self, database_name: str, schema: str, table_name: str) -> UpsertResult:
        """Create the dataset for `schema.table_name`, or refresh its columns if it exists."""
        database_id = self.find_database_id(database_name)
        existing = self.find_dataset(database_id, schema, table_name)
        if existing is not None:
            dataset_id = int(existing["id"])
            self.refresh_dataset(dataset_id)
            return {"dataset_id": dataset_id, "action": "refreshed"}
        dataset_id = self.create_dataset(database_id, schema, table_name)
        return {"dataset_id": dataset_id, "action": "created"}

    # -- datasets: what a refresh changed ----------------------------------------------------

    def get_dataset(self, dataset_id: int) -> dict[str, Any]:
        """The dataset as `GET /api/v1/dataset/<id>` shows it (columns, metrics, uuid, ...)."""
        payload = self.get_json(f"{DATASET_PATH}{dataset_id}")
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(result, dict):
            msg = f"GET {DATASET_PATH}{dataset_id} on {redact_url(self.base_url)}: no result"
            raise SupersetError(msg)
        return result

    def dataset_columns(self, dataset_id: int) -> list[str]:
        """The physical columns Superset knows for the dataset, in its order."""
        columns = self.get_dataset(dataset_id).get("columns") or []
        return [col["column_name"] for col in columns if not col.get("expression")]

    def charts_of_dataset(self, dataset_id: int) -> list[dict[str, Any]]:
        """Every chart built on the dataset: id, slice_name, viz_type and params (form data)."""
        charts: list[dict[str, Any]] = []
        page = 0
        while True:
            query = {
                "filters": [
                    {"col": "datasource_id", "opr": "eq", "value": dataset_id},
                    {"col": "datasource_type", "opr": "eq", "value": "table"},
                ],
                "columns": ["id", "slice_name", "viz_type", "params", "uuid"],
                "page": page,
                "page_size": 100,
            }
            payload = self.get_json(CHART_PATH, params={"q": rison_dumps(query)})
            rows = payload.get("result") if isinstance(payload, dict) else None
            if not isinstance(rows, list):
                msg = f"GET {CHART_PATH} on {redact_url(self.base_url)}: no result list"
                raise SupersetError(msg)
            charts.extend(rows)
            if len(rows) < 100:
                return charts
            page += 1

    def publish_dataset(self, database_name: str, schema: str, table_name: str) -> PublishResult:
        """Create the dataset for `schema.table_name`, or re-read its columns from the database.

        The result names the columns the refresh added and removed, and the charts of the
        dataset that use a removed column (they fail to render until they are changed).
        """
        database_id = self.find_database_id(database_name)
        existing = self.find_dataset(database_id, schema, table_name)
        if existing is None:
            dataset_id = self.create_dataset(database_id, schema, table_name)
            dataset = self.get_dataset(dataset_id)
            columns = [c["column_name"] for c in dataset.get("columns") or []]
            return {
                "dataset_id": dataset_id,
                "dataset_uuid": str(dataset.get("uuid") or ""),
                "action": "created",
                "columns": columns,
                "columns_added": columns,
                "columns_removed": [],
                "charts_using_removed_columns": [],
                "database_id": database_id,
            }
        dataset_id = int(existing["id"])
        before = self.dataset_columns(dataset_id)
        self.refresh_dataset(dataset_id)
        dataset = self.get_dataset(dataset_id)
        after = [c["column_name"] for c in dataset.get("columns") or [] if not c.get("expression")]
        removed = [name for name in before if name not in after]
        return {
            "dataset_id": dataset_id,
            "dataset_uuid": str(dataset.get("uuid") or ""),
            "action": "refreshed",
            "columns": after,
            "columns_added": [name for name in after if name not in before],
            "columns_removed": removed,
            "charts_using_removed_columns": (
                charts_using_columns(self.charts_of_dataset(dataset_id), removed) if removed else []
            ),
            "database_id": database_id,
        }

    # -- databases -------------------------------------------------------------------------

    def find_database(self, database_name: str) -> dict[str, Any] | None:
        rows = self._list(DATABASE_PATH, ("database_name", "eq", database_name))
        return next((row for row in rows if row.get("database_name") == database_name), None)

    def upsert_database(
        self, database_name: str, sqlalchemy_uri: str, **options: Any
    ) -> tuple[int, Literal["created", "updated"]]:
        """Register a database connection by name, or point the existing one at the URI."""
        body = {"database_name": database_name, "sqlalchemy_uri": sqlalchemy_uri, **options}
        existing = self.find_database(database_name)
        if existing is None:
            payload = self._write("POST", DATABASE_PATH, json=body)
            database_id = payload.get("id") if isinstance(payload, dict) else None
            if not isinstance(database_id, int):
                msg = f"POST {DATABASE_PATH} on {redact_url(self.base_url)}: no database id"
                raise SupersetError(msg)
            return database_id, "created"
        database_id = int(existing["id"])
        self._write("PUT", f"{DATABASE_PATH}{database_id}", json=body)
        return database_id, "updated"

    # -- dashboards ------------------------------------------------------------------------

    def import_assets(self, bundle: bytes, *, sparse: bool = True) -> None:
        """Import a ZIP in Superset's export format through `/api/v1/assets/import/`.

        That endpoint overwrites what the bundle holds (charts, dashboards), so re-importing the
        same bundle converges instead of duplicating. `sparse`: the bundle may name datasets
        and databases that already exist (by uuid) without carrying them, so importing a
        dashboard never overwrites a dataset's columns or a database connection.
        """
        for attempt in (1, 2):
            headers = {"X-CSRFToken": self.csrf_token(), "Referer": self.base_url + "/"}
            try:
                self.request(
                    "POST",
                    ASSETS_IMPORT_PATH,
                    data={"sparse": "true" if sparse else "false"},
                    files={"bundle": ("bundle.zip", bundle, "application/zip")},
                    headers=headers,
                    # A failed import is Superset's verdict on the bundle (HTTP 500 included).
                    retry=False,
                )
            except ApiError as exc:
                if attempt == 1 and exc.status == 400 and "CSRF" in (exc.detail or ""):
                    self.forget_csrf_token()
                    continue
                raise
            return

    def get_dashboard(self, id_or_slug: int | str) -> dict[str, Any]:
        payload = self.get_json(f"{DASHBOARD_PATH}{id_or_slug}")
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(result, dict):
            msg = f"GET {DASHBOARD_PATH}{id_or_slug} on {redact_url(self.base_url)}: no result"
            raise SupersetError(msg)
        return result

    def dashboard_charts(self, id_or_slug: int | str) -> list[dict[str, Any]]:
        payload = self.get_json(f"{DASHBOARD_PATH}{id_or_slug}/charts")
        result = payload.get("result") if isinstance(payload, dict) else None
        return result if isinstance(result, list) else []


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value (keys included): where a form-data refers to a column."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def charts_using_columns(
    charts: Iterable[Mapping[str, Any]], columns: Iterable[str]
) -> list[ChartUsingColumns]:
    """The charts whose form data (`params`) names any of `columns`, and which ones.

    A column is named where a string in the form data equals it (groupby, x axis, a metric's or
    a filter's column); free-text SQL in a chart is not parsed (the platform's charts have none).
    """
    wanted = set(columns)
    found: list[ChartUsingColumns] = []
    for chart in charts:
        params = chart.get("params") or {}
        if isinstance(params, str):
            try:
                params = json.loads(params)
            except ValueError:
                params = {}
        used = sorted(wanted.intersection(_strings(params)))
        if used:
            found.append(
                {
                    "chart_id": int(chart["id"]),
                    "chart_name": str(chart.get("slice_name") or ""),
                    "columns": used,
                }
            )
    return sorted(found, key=lambda chart: chart["chart_id"])


def read_local_server(data_dir: Path) -> str | None:
    """The URL of the Superset `ol-platform superset` runs for this data folder, if it is up.

    The state file names the server's process; a file left by a killed server (its process is
    gone) or a server that does not answer its health check counts as not running.
    """
    path = data_dir / LOCAL_SERVER_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(state["url"]).rstrip("/"), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    try:
        response = httpx.get(f"{url}/health", timeout=3.0)
    except httpx.HTTPError:
        return None
    return url if response.status_code == 200 else None


# -- resource ------------------------------------------------------------------------------------


class SupersetResource(ConfigurableResource):
    """Superset for assets. Unconfigured (no `base_url`, no local server) means publishing is
    skipped.

    Credentials are the `username` / `password` keys of the secret at `secret_path`, read through
    the nested `secrets` resource when a client is made, never when the resource is built. With
    no `base_url`, `local_data_dir` (dev/ci) is where `ol-platform superset` records the Superset
    it runs; it is looked up when an asset runs, so a server started after the location loaded
    is found.
    """

    base_url: str | None = Field(default=None, description="Superset URL; None: not configured")
    local_data_dir: str | None = Field(
        default=None, description="data folder of a local `ol-platform superset` (dev/ci)"
    )
    secret_path: str = Field(default="superset/api", description="secret with username/password")
    database_name: str = Field(
        default="warehouse", description="Superset database connection holding the marts"
    )
    timeout: float = Field(default=30.0, description="seconds per request")
    max_retries: int = Field(default=5, description="retries of transient failures")
    secrets: SecretsResource

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, secrets: SecretsResource | None = None
    ) -> SupersetResource:
        """The resource for an environment (reads nothing, contacts nothing)."""
        return cls(
            base_url=settings.superset_url,
            local_data_dir=str(settings.data_dir) if settings.is_local else None,
            secret_path=settings.superset_secret_path,
            database_name=settings.superset_database_name,
            secrets=secrets or SecretsResource.from_settings(settings),
        )

    def resolve_url(self) -> str | None:
        """`base_url`, else the local Superset running for `local_data_dir`, else None."""
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.local_data_dir:
            return read_local_server(Path(self.local_data_dir))
        return None

    @property
    def is_configured(self) -> bool:
        return self.resolve_url() is not None

    @property
    def not_configured_reason(self) -> str:
        if self.local_data_dir:
            return (
                "no Superset is configured (SUPERSET_URL is unset) and no local Superset is "
                "running (`uv run ol-platform superset` starts one)"
            )
        return "Superset is not configured in this environment (SUPERSET_URL is unset)"

    def get_client(self, url: str | None = None) -> SupersetClient:
        """A logged-out client (it logs in on the first request). Close it when done."""
        url = url or self.resolve_url()
        if not url:
            msg = "Superset is not configured for this environment (set SUPERSET_URL)"
            raise SupersetNotConfiguredError(msg)
        credentials = self.secrets.get_secret(self.secret_path)
        missing = [key for key in ("username", "password") if not credentials.get(key)]
        if missing:
            msg = f"the Superset secret {self.secret_path!r} has no {' or '.join(missing)}"
            raise SupersetError(msg)
        return SupersetClient(
            url,
            credentials["username"],
            credentials["password"],
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    def upsert_dataset(self, database_name: str, schema: str, table_name: str) -> UpsertResult:
        """Create or refresh the dataset for `schema.table_name` in `database_name`."""
        with self.get_client() as client:
            return client.upsert_dataset(database_name, schema, table_name)
