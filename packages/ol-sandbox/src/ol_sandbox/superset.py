"""A local emulator of the parts of Apache Superset's REST API the platform publishes through.

Fast unit tests of the REST client (`ol_orchestrate.resources.superset`) run against this: JWT
login, the CSRF token plus session cookie that writes require, database and dataset lists filtered
with rison `q=` parameters, dataset create and column refresh. Request and response shapes, status
codes and error bodies follow Superset 4/5. Standard library only. No test that claims Superset
works uses it: those start a real Superset (`ol_platform.superset_server`, `ol-platform superset`).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeDataset", "FakeSuperset", "RisonDecodeError", "rison_loads"]

SESSION_COOKIE = "session"


class RisonDecodeError(ValueError):
    """The `q=` parameter is not valid rison."""


_RISON_ID_CHARS = re.compile(r"[^ '!:(),*@$]")


class _RisonParser:
    """Decode rison (https://github.com/Nanonid/rison), the encoding Superset's `q=` uses."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> Any:
        value = self._value()
        if self.pos != len(self.text):
            msg = f"unexpected {self.text[self.pos :]!r} after the value"
            raise RisonDecodeError(msg)
        return value

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            msg = f"expected {char!r} at {self.pos} in {self.text!r}"
            raise RisonDecodeError(msg)
        self.pos += 1

    def _value(self) -> Any:
        char = self._peek()
        if char == "(":
            return self._object()
        if char == "'":
            return self._quoted()
        if char == "!":
            self.pos += 1
            marker = self._peek()
            self.pos += 1
            if marker == "(":
                return self._array()
            constants = {"t": True, "f": False, "n": None}
            if marker in constants:
                return constants[marker]
            msg = f"unknown rison escape !{marker} at {self.pos}"
            raise RisonDecodeError(msg)
        if char == "-" or char.isdigit():
            match = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?").match(self.text, self.pos)
            if match:
                self.pos = match.end()
                number = match.group(0)
                return float(number) if any(c in number for c in ".eE") else int(number)
        return self._identifier()

    def _identifier(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and _RISON_ID_CHARS.match(self.text[self.pos]):
            self.pos += 1
        if start == self.pos:
            msg = f"expected a value at {self.pos} in {self.text!r}"
            raise RisonDecodeError(msg)
        return self.text[start : self.pos]

    def _quoted(self) -> str:
        self._expect("'")
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                msg = "unterminated string"
                raise RisonDecodeError(msg)
            char = self.text[self.pos]
            self.pos += 1
            if char == "'":
                return "".join(out)
            if char == "!":
                escaped = self._peek()
                if escaped not in ("!", "'"):
                    msg = f"invalid string escape !{escaped}"
                    raise RisonDecodeError(msg)
                self.pos += 1
                out.append(escaped)
            else:
                out.append(char)

    def _object(self) -> dict[str, Any]:
        self._expect("(")
        result: dict[str, Any] = {}
        while self._peek() != ")":
            if result:
                self._expect(",")
            key = self._quoted() if self._peek() == "'" else self._identifier()
            self._expect(":")
            result[key] = self._value()
        self._expect(")")
        return result

    def _array(self) -> list[Any]:
        result: list[Any] = []
        while self._peek() != ")":
            if result:
                self._expect(",")
            result.append(self._value())
        self._expect(")")
        return result


def rison_loads(text: str) -> Any:
    """Decode one rison value."""
    return _RisonParser(text).parse()


@dataclass
class FakeDataset:
    id: int
    database_id: int
    schema: str
    table_name: str
    refresh_count: int = 0


@dataclass
class _State:
    users: dict[str, str]
    databases: dict[int, str]
    # database id -> {(schema, table)} the "warehouse" has; None: every table exists.
    tables: dict[int, set[tuple[str, str]]] | None
    datasets: dict[int, FakeDataset] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    # session cookie -> the CSRF token issued with it
    sessions: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    request_bodies: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSuperset/1.0"
    state: _State  # set on the subclass FakeSuperset creates

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return

    # --- plumbing -------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw: bytes) -> dict[str, Any] | None:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            self._send(HTTPStatus.UNAUTHORIZED, {"msg": "Missing Authorization Header"})
            return False
        if header.removeprefix("Bearer ").strip() not in self.state.access_tokens:
            self._send(HTTPStatus.UNAUTHORIZED, {"msg": "Token has expired"})
            return False
        return True

    def _csrf_ok(self) -> bool:
        token = self.headers.get("X-CSRFToken")
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        session = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
        problem = None
        if not token:
            problem = "The CSRF token is missing."
        elif session is None or session not in self.state.sessions:
            problem = "The CSRF session token is missing."
        elif self.state.sessions[session] != token:
            problem = "The CSRF tokens do not match."
        if problem is None:
            return True
        # Superset turns flask-wtf's CSRFError into its generic error payload.
        self._send(
            HTTPStatus.BAD_REQUEST,
            {
                "errors": [
                    {
                        "message": f"400 Bad Request: {problem}",
                        "error_type": "GENERIC_BACKEND_ERROR",
                        "level": "error",
                        "extra": {},
                    }
                ]
            },
        )
        return False

    def _query(self) -> tuple[str, dict[str, Any] | None, str | None]:
        """Path, decoded rison `q` (or None) and an error message if `q` is invalid."""
        parts = urlsplit(self.path)
        q = parse_qs(parts.query).get("q")
        if not q:
            return parts.path, None, None
        try:
            decoded = rison_loads(q[0])
        except RisonDecodeError as exc:
            return parts.path, None, str(exc)
        if not isinstance(decoded, dict):
            return parts.path, None, "q must be a rison object"
        return parts.path, decoded, None

    def _record(self, raw: bytes = b"") -> None:
        with self.state.lock:
            self.state.requests.append((self.command, self.path))
            self.state.request_bodies.append(raw)

    # --- verbs ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record()
        path, q, q_error = self._query()
        if path == "/health":
            self._send(HTTPStatus.OK, "OK")
            return
        if not self._authorized():
            return
        if q_error:
            self._send(
                HTTPStatus.BAD_REQUEST, {"message": f"Not a valid rison argument: {q_error}"}
            )
            return
        if path == "/api/v1/security/csrf_token/":
            self._csrf_token()
        elif path == "/api/v1/database/":
            self._list_databases(q or {})
        elif path == "/api/v1/dataset/":
            self._list_datasets(q or {})
        elif match := re.fullmatch(r"/api/v1/dataset/(\d+)", path):
            self._get_dataset(int(match.group(1)))
        else:
            self._send(HTTPStatus.NOT_FOUND, {"message": "Not found"})

    def do_POST(self) -> None:
        raw = self._body()
        self._record(raw)
        path = urlsplit(self.path).path
        if path == "/api/v1/security/login":
            self._login(raw)
            return
        if not self._authorized() or not self._csrf_ok():
            return
        if path == "/api/v1/dataset/":
            self._create_dataset(raw)
        else:
            self._send(HTTPStatus.NOT_FOUND, {"message": "Not found"})

    def do_PUT(self) -> None:
        raw = self._body()
        self._record(raw)
        path = urlsplit(self.path).path
        if not self._authorized() or not self._csrf_ok():
            return
        if match := re.fullmatch(r"/api/v1/dataset/(\d+)/refresh", path):
            self._refresh_dataset(int(match.group(1)))
        else:
            self._send(HTTPStatus.NOT_FOUND, {"message": "Not found"})

    # --- endpoints ------------------------------------------------------------------------

    def _login(self, raw: bytes) -> None:
        body = self._json_body(raw)
        if body is None:
            self._send(HTTPStatus.BAD_REQUEST, {"message": "Request is not JSON"})
            return
        missing = [key for key in ("username", "password", "provider") if key not in body]
        if missing:
            self._send(
                HTTPStatus.BAD_REQUEST,
                {"message": {key: ["Missing data for required field."] for key in missing}},
            )
            return
        if body["provider"] != "db":
            self._send(HTTPStatus.BAD_REQUEST, {"message": {"provider": ["Must be one of: db"]}})
            return
        if self.state.users.get(str(body["username"])) != body["password"]:
            self._send(HTTPStatus.UNAUTHORIZED, {"message": "Not authorized"})
            return
        token = secrets.token_hex(16)
        with self.state.lock:
            self.state.access_tokens.add(token)
        response: dict[str, str] = {"access_token": token}
        if body.get("refresh"):
            response["refresh_token"] = secrets.token_hex(16)
        self._send(HTTPStatus.OK, response)

    def _csrf_token(self) -> None:
        session = secrets.token_hex(16)
        token = secrets.token_hex(20)
        with self.state.lock:
            self.state.sessions[session] = token
        self._send(
            HTTPStatus.OK,
            {"result": token},
            headers={"Set-Cookie": f"{SESSION_COOKIE}={session}; HttpOnly; Path=/; SameSite=Lax"},
        )

    @staticmethod
    def _filters(q: Mapping[str, Any]) -> Iterable[tuple[str, str, Any]]:
        for item in q.get("filters") or []:
            yield item.get("col"), item.get("opr"), item.get("value")

    def _list_response(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "count": len(rows),
            "ids": [row["id"] for row in rows],
            "result": rows,
            "description_columns": {},
            "label_columns": {},
            "list_columns": sorted(rows[0]) if rows else [],
            "order_columns": [],
        }

    def _list_databases(self, q: Mapping[str, Any]) -> None:
        rows = []
        for database_id, name in sorted(self.state.databases.items()):
            keep = True
            for col, opr, value in self._filters(q):
                if col != "database_name" or opr not in ("eq", "ct"):
                    self._send(HTTPStatus.BAD_REQUEST, {"message": f"Invalid filter {col}/{opr}"})
                    return
                keep &= name == value if opr == "eq" else str(value).lower() in name.lower()
            if keep:
                rows.append(
                    {
                        "id": database_id,
                        "database_name": name,
                        "backend": "duckdb",
                        "expose_in_sqllab": True,
                        "allow_run_async": False,
                    }
                )
        self._send(HTTPStatus.OK, self._list_response(rows))

    def _dataset_row(self, dataset: FakeDataset) -> dict[str, Any]:
        return {
            "id": dataset.id,
            "database": {
                "id": dataset.database_id,
                "database_name": self.state.databases[dataset.database_id],
            },
            "schema": dataset.schema,
            "table_name": dataset.table_name,
            "kind": "physical",
            "sql": None,
        }

    def _list_datasets(self, q: Mapping[str, Any]) -> None:
        supported = {("database", "rel_o_m"), ("schema", "eq"), ("table_name", "eq")}
        filters = list(self._filters(q))
        for col, opr, _ in filters:
            if (col, opr) not in supported:
                self._send(HTTPStatus.BAD_REQUEST, {"message": f"Invalid filter {col}/{opr}"})
                return
        rows = []
        for dataset in sorted(self.state.datasets.values(), key=lambda d: d.id):
            fields = {
                "database": dataset.database_id,
                "schema": dataset.schema,
                "table_name": dataset.table_name,
            }
            if all(fields[col] == value for col, _, value in filters):
                rows.append(self._dataset_row(dataset))
        self._send(HTTPStatus.OK, self._list_response(rows))

    def _get_dataset(self, dataset_id: int) -> None:
        dataset = self.state.datasets.get(dataset_id)
        if dataset is None:
            self._send(HTTPStatus.NOT_FOUND, {"message": "Not found"})
            return
        self._send(HTTPStatus.OK, {"id": dataset.id, "result": self._dataset_row(dataset)})

    def _create_dataset(self, raw: bytes) -> None:
        body = self._json_body(raw)
        if body is None:
            self._send(HTTPStatus.BAD_REQUEST, {"message": "Request is not JSON"})
            return
        missing = [key for key in ("database", "table_name") if key not in body]
        if missing:
            self._send(
                HTTPStatus.BAD_REQUEST,
                {"message": {key: ["Missing data for required field."] for key in missing}},
            )
            return
        database_id, schema, table = body["database"], body.get("schema") or "", body["table_name"]
        if database_id not in self.state.databases:
            self._send(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                {"message": {"database": ["Database does not exist"]}},
            )
            return
        with self.state.lock:
            for dataset in self.state.datasets.values():
                if (dataset.database_id, dataset.schema, dataset.table_name) == (
                    database_id,
                    schema,
                    table,
                ):
                    self._send(
                        HTTPStatus.UNPROCESSABLE_ENTITY,
                        {"message": {"table_name": [f"Dataset {table} already exists"]}},
                    )
                    return
            known = self.state.tables
            if known is not None and (schema, table) not in known.get(database_id, set()):
                self._send(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    {
                        "message": {
                            "table": [
                                f"Table [{table}] could not be found, please double check "
                                "your database connection, schema, and table name"
                            ]
                        }
                    },
                )
                return
            dataset_id = max(self.state.datasets, default=0) + 1
            self.state.datasets[dataset_id] = FakeDataset(dataset_id, database_id, schema, table)
        self._send(
            HTTPStatus.CREATED,
            {
                "id": dataset_id,
                "result": {"database": database_id, "schema": schema, "table_name": table},
            },
        )

    def _refresh_dataset(self, dataset_id: int) -> None:
        with self.state.lock:
            dataset = self.state.datasets.get(dataset_id)
            if dataset is not None:
                dataset.refresh_count += 1
        if dataset is None:
            self._send(HTTPStatus.NOT_FOUND, {"message": "Not found"})
            return
        self._send(HTTPStatus.OK, {"message": "OK"})


class FakeSuperset:
    """A Superset REST API on 127.0.0.1 for tests and local runs; a context manager.

    `users` maps usernames to passwords (provider `db`); `databases` lists the database
    connections by name (ids 1, 2, ... in order); `tables`, when given, maps a database name to
    the `(schema, table)` pairs that exist in it, and creating a dataset for any other table fails
    as in Superset. `expire_tokens()` invalidates every access token issued so far.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        databases: Iterable[str] = ("warehouse",),
        tables: Mapping[str, Iterable[tuple[str, str]]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        database_ids = dict(enumerate(databases, start=1))
        ids_by_name = {name: i for i, name in database_ids.items()}
        self.state = _State(
            users=dict(users or {"admin": "admin"}),
            databases=database_ids,
            tables=None
            if tables is None
            else {ids_by_name[name]: set(pairs) for name, pairs in tables.items()},
        )
        handler = type("FakeSupersetHandler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def datasets(self) -> dict[int, FakeDataset]:
        return self.state.datasets

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path with query) of every request received, in order."""
        return self.state.requests

    @property
    def request_bodies(self) -> list[bytes]:
        return self.state.request_bodies

    def database_id(self, name: str) -> int:
        return next(i for i, n in self.state.databases.items() if n == name)

    def add_dataset(self, database_name: str, schema: str, table_name: str) -> FakeDataset:
        """Register an existing dataset (as if created earlier through the UI)."""
        with self.state.lock:
            dataset_id = max(self.state.datasets, default=0) + 1
            dataset = FakeDataset(dataset_id, self.database_id(database_name), schema, table_name)
            self.state.datasets[dataset_id] = dataset
        return dataset

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.access_tokens.clear()

    def start(self) -> FakeSuperset:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-superset", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSuperset:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
