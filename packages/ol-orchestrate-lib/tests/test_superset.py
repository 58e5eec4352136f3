"""SupersetResource against a real local HTTP server emulating Superset's REST API (ol_sandbox)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from ol_orchestrate.lib.environment import load_settings
from ol_orchestrate.lib.http import ApiError
from ol_orchestrate.resources.secrets import SecretsResource
from ol_orchestrate.resources.superset import (
    SupersetAuthenticationError,
    SupersetClient,
    SupersetDatabaseNotFoundError,
    SupersetError,
    SupersetNotConfiguredError,
    SupersetResource,
    filters_query,
    rison_dumps,
)
from ol_sandbox.superset import FakeSuperset, rison_loads

USERNAME = "publisher"
PASSWORD = "correct-horse-battery-staple"  # pragma: allowlist secret


@pytest.fixture
def fake() -> Iterator[FakeSuperset]:
    with FakeSuperset(
        users={USERNAME: PASSWORD},
        databases=("examples", "warehouse"),
        tables={
            "warehouse": [("main_marts", "dim_openedx__course_run")],
            "examples": [],
        },
    ) as server:
        yield server


def secrets_file(tmp_path: Path, password: str = PASSWORD) -> SecretsResource:
    path = tmp_path / "secrets.yaml"
    path.write_text(
        yaml.safe_dump({"superset": {"api": {"username": USERNAME, "password": password}}})
    )
    return SecretsResource(backend="local", local_secrets_file=str(path))


def resource(fake: FakeSuperset, tmp_path: Path, password: str = PASSWORD) -> SupersetResource:
    return SupersetResource(
        base_url=fake.url,
        secret_path="superset/api",
        database_name="warehouse",
        max_retries=0,
        secrets=secrets_file(tmp_path, password),
    )


# -- rison ----------------------------------------------------------------------------------------


def test_database_filter_is_the_rison_superset_expects() -> None:
    assert (
        filters_query(("database_name", "eq", "warehouse"))
        == "(filters:!((col:database_name,opr:eq,value:warehouse)))"
    )
    assert (
        filters_query(("database_name", "eq", "Trino prod"))
        == "(filters:!((col:database_name,opr:eq,value:'Trino prod')))"
    )


@pytest.mark.parametrize(
    "value",
    [
        {"filters": [{"col": "database", "opr": "rel_o_m", "value": 3}]},
        {"a": "it's", "b": "wow!", "c": "", "d": "-dash", "e": "9lives", "f": "x y"},
        {"t": True, "f": False, "n": None, "list": [], "obj": {}, "neg": -4, "float": 1.5},
        ["main_marts", "dim_openedx__course_run", "a:b", "(paren)", "o'k!"],
    ],
)
def test_rison_round_trips_through_the_fakes_decoder(value: object) -> None:
    assert rison_loads(rison_dumps(value)) == value


def test_rison_rejects_unknown_types() -> None:
    with pytest.raises(TypeError):
        rison_dumps({"when": object()})


# -- the emulator behaves like Superset ---------------------------------------------------------


def test_fake_requires_a_token_and_csrf_for_writes(fake: FakeSuperset) -> None:
    with httpx.Client(base_url=fake.url) as http:
        assert http.get("/api/v1/database/").status_code == 401
        token = http.post(
            "/api/v1/security/login",
            json={"username": USERNAME, "password": PASSWORD, "provider": "db", "refresh": True},
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        body = {"database": 2, "schema": "main_marts", "table_name": "dim_openedx__course_run"}

        no_csrf = http.post("/api/v1/dataset/", json=body, headers=bearer)
        assert no_csrf.status_code == 400
        assert "CSRF token is missing" in no_csrf.json()["errors"][0]["message"]

        csrf = http.get("/api/v1/security/csrf_token/", headers=bearer)
        assert "session" in csrf.cookies
        created = http.post(
            "/api/v1/dataset/", json=body, headers={**bearer, "X-CSRFToken": csrf.json()["result"]}
        )
        assert created.status_code == 201


# -- the client -----------------------------------------------------------------------------------


def test_create_then_refresh(fake: FakeSuperset, tmp_path: Path) -> None:
    superset = resource(fake, tmp_path)

    first = superset.upsert_dataset("warehouse", "main_marts", "dim_openedx__course_run")

    assert first["action"] == "created"
    dataset = fake.datasets[first["dataset_id"]]
    assert (dataset.database_id, dataset.schema, dataset.table_name) == (
        fake.database_id("warehouse"),
        "main_marts",
        "dim_openedx__course_run",
    )
    assert dataset.refresh_count == 0

    second = superset.upsert_dataset("warehouse", "main_marts", "dim_openedx__course_run")

    assert second == {"dataset_id": first["dataset_id"], "action": "refreshed"}
    assert fake.datasets[first["dataset_id"]].refresh_count == 1
    assert len(fake.datasets) == 1
    methods = [(method, path.split("?")[0]) for method, path in fake.requests]
    assert methods[-5:] == [
        ("POST", "/api/v1/security/login"),
        ("GET", "/api/v1/database/"),
        ("GET", "/api/v1/dataset/"),
        ("GET", "/api/v1/security/csrf_token/"),
        ("PUT", f"/api/v1/dataset/{first['dataset_id']}/refresh"),
    ]


def test_existing_dataset_from_the_ui_is_refreshed(fake: FakeSuperset, tmp_path: Path) -> None:
    existing = fake.add_dataset("warehouse", "main_marts", "fct_openedx__daily_enrollments")
    # Same table name in another database must not be mistaken for it.
    fake.add_dataset("examples", "main_marts", "fct_openedx__daily_enrollments")

    result = resource(fake, tmp_path).upsert_dataset(
        "warehouse", "main_marts", "fct_openedx__daily_enrollments"
    )

    assert result == {"dataset_id": existing.id, "action": "refreshed"}


def test_unknown_database_is_a_clear_error(fake: FakeSuperset, tmp_path: Path) -> None:
    with pytest.raises(SupersetDatabaseNotFoundError) as excinfo:
        resource(fake, tmp_path).upsert_dataset("Trino", "marts", "dim_openedx__course_run")
    message = str(excinfo.value)
    assert "'Trino'" in message
    assert "SUPERSET_DATABASE_NAME" in message
    assert not fake.datasets


def test_missing_table_is_reported_with_supersets_reason(
    fake: FakeSuperset, tmp_path: Path
) -> None:
    with pytest.raises(ApiError) as excinfo:
        resource(fake, tmp_path).upsert_dataset("warehouse", "main_marts", "no_such_mart")
    assert excinfo.value.status == 422
    assert "no_such_mart" in str(excinfo.value)
    assert "could not be found" in str(excinfo.value)


def test_auth_failure_is_clear_and_never_shows_the_password(
    fake: FakeSuperset, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-password-123"  # pragma: allowlist secret
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SupersetAuthenticationError) as excinfo:
        resource(fake, tmp_path, password=wrong).upsert_dataset(
            "warehouse", "main_marts", "dim_openedx__course_run"
        )
    message = str(excinfo.value)
    assert "rejected the login" in message
    assert repr(USERNAME) in message
    assert "HTTP 401" in message
    assert wrong not in message
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None or wrong not in str(excinfo.value.__context__)
    assert wrong not in caplog.text
    assert not fake.datasets


def test_expired_token_logs_in_again(fake: FakeSuperset, tmp_path: Path) -> None:
    with SupersetClient(fake.url, USERNAME, PASSWORD, max_retries=0) as client:
        database_id = client.find_database_id("warehouse")
        fake.expire_tokens()
        dataset_id = client.create_dataset(database_id, "main_marts", "dim_openedx__course_run")
        assert fake.datasets[dataset_id].table_name == "dim_openedx__course_run"
        assert client.auth is not None
        assert client.auth.logins == 2  # type: ignore[attr-defined]


def test_lost_csrf_session_fetches_a_new_token(fake: FakeSuperset, tmp_path: Path) -> None:
    with SupersetClient(fake.url, USERNAME, PASSWORD, max_retries=0) as client:
        database_id = client.find_database_id("warehouse")
        client.csrf_token()
        fake.state.sessions.clear()  # Superset restarted: old CSRF sessions are gone
        dataset_id = client.create_dataset(database_id, "main_marts", "dim_openedx__course_run")
        client.refresh_dataset(dataset_id)
    assert fake.datasets[dataset_id].refresh_count == 1


def test_client_repr_hides_the_password() -> None:
    client = SupersetClient("http://127.0.0.1:1", USERNAME, PASSWORD)
    try:
        assert PASSWORD not in repr(client)
    finally:
        client.close()


def test_unconfigured_superset(tmp_path: Path) -> None:
    superset = SupersetResource(base_url=None, secrets=secrets_file(tmp_path))
    assert not superset.is_configured
    with pytest.raises(SupersetNotConfiguredError, match="SUPERSET_URL"):
        superset.upsert_dataset("warehouse", "main_marts", "dim_openedx__course_run")


def test_secret_without_password(fake: FakeSuperset, tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump({"superset": {"api": {"username": USERNAME}}}))
    superset = SupersetResource(
        base_url=fake.url,
        secrets=SecretsResource(backend="local", local_secrets_file=str(path)),
    )
    with pytest.raises(SupersetError, match="has no password"):
        superset.upsert_dataset("warehouse", "main_marts", "dim_openedx__course_run")
    assert fake.requests == []


def test_from_settings_reads_nothing() -> None:
    settings = load_settings(
        {"DAGSTER_ENV": "production", "SUPERSET_URL": "https://superset.example.org/"}
    )
    superset = SupersetResource.from_settings(settings)
    assert superset.base_url == "https://superset.example.org"
    assert superset.database_name == "Trino"
    assert superset.secret_path == settings.superset_secret_path
    assert superset.secrets.backend == "vault"
    assert not SupersetResource.from_settings(load_settings({"DAGSTER_ENV": "dev"})).is_configured


# -- what a dataset refresh reports, and the local server's discovery ---------------------------


def test_charts_using_removed_columns_are_found_in_their_form_data() -> None:
    from ol_orchestrate.resources.superset import charts_using_columns

    charts = [
        {"id": 3, "slice_name": "by problem", "params": '{"groupby": ["problem_block_id"]}'},
        {
            "id": 1,
            "slice_name": "attempts",
            "params": {
                "metrics": [{"aggregate": "SUM", "column": {"column_name": "attempt_count"}}],
                "adhoc_filters": [{"subject": "course_id", "operator": "IS NOT NULL"}],
            },
        },
        {"id": 2, "slice_name": "count", "params": {"metric": "count"}},
        {"id": 4, "slice_name": "broken", "params": "not json"},
    ]

    found = charts_using_columns(charts, ["attempt_count", "course_id", "problem_block_id"])

    assert found == [
        {"chart_id": 1, "chart_name": "attempts", "columns": ["attempt_count", "course_id"]},
        {"chart_id": 3, "chart_name": "by problem", "columns": ["problem_block_id"]},
    ]


def test_a_local_server_is_found_only_while_it_answers(fake: FakeSuperset, tmp_path: Path) -> None:
    import json
    import os

    from ol_orchestrate.resources.superset import LOCAL_SERVER_FILE, read_local_server

    assert read_local_server(tmp_path) is None  # no state file
    state = tmp_path / LOCAL_SERVER_FILE
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"url": fake.url, "pid": os.getpid()}))
    assert read_local_server(tmp_path) == fake.url

    resource = SupersetResource(local_data_dir=str(tmp_path), secrets=secrets_file(tmp_path))
    assert resource.resolve_url() == fake.url
    assert resource.is_configured
    explicit = SupersetResource(
        base_url="http://127.0.0.1:9/", local_data_dir=str(tmp_path), secrets=secrets_file(tmp_path)
    )
    assert explicit.resolve_url() == "http://127.0.0.1:9"  # SUPERSET_URL wins

    state.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": os.getpid()}))
    assert read_local_server(tmp_path) is None  # nothing answers there
    state.write_text(json.dumps({"url": fake.url, "pid": 2**22 + 12345}))
    assert read_local_server(tmp_path) is None  # a server that was killed
    state.write_text("{")
    assert read_local_server(tmp_path) is None
    assert "ol-platform superset" in resource.not_configured_reason
