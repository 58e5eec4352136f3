"""Environment resolution: DAGSTER_ENV becomes typed settings, unknown values fail clearly."""

from __future__ import annotations

import pytest

from ol_orchestrate.lib.environment import (
    Environment,
    MissingSourceConfigError,
    UnknownEnvironmentError,
    get_settings,
    load_settings,
    reset_settings_cache,
)


def test_default_is_dev_with_embedded_defaults() -> None:
    settings = load_settings({})
    assert settings.environment is Environment.DEV
    assert settings.lake_root.endswith("/.data/lake")
    assert settings.warehouse_path.name == "warehouse.duckdb"
    assert settings.dbt_target == "dev"
    assert settings.secrets_backend == "local"
    assert settings.superset_url is None
    assert settings.source_base_url("openedx_xpro", {}, "openedx/xpro") == (
        "http://127.0.0.1:8765/openedx/xpro"
    )
    assert settings.secret_path("canvas/api") == "canvas/api"


def test_ci_behaves_like_dev() -> None:
    settings = load_settings({"DAGSTER_ENV": "ci", "OL_SANDBOX_URL": "http://127.0.0.1:9/"})
    assert settings.is_local
    assert settings.dbt_target == "ci"
    assert settings.source_base_url("x", {"ci": "https://ignored"}, "/openedx/mitxonline/") == (
        "http://127.0.0.1:9/openedx/mitxonline"
    )


@pytest.mark.parametrize("env", ["qa", "production", " Production "])
def test_deployed_environments_use_s3_vault_and_real_hosts(env: str) -> None:
    settings = load_settings({"DAGSTER_ENV": env})
    name = env.strip().lower()
    assert settings.lake_root == f"s3://ol-data-lake-{name}"
    assert settings.secrets_backend == "vault"
    assert settings.dbt_target == name
    assert settings.sandbox_url is None
    hosts = {"qa": "https://qa.example.org/", "production": "https://example.org"}
    assert settings.source_base_url("lms", hosts, "lms") == hosts[name].rstrip("/")
    assert settings.secret_path("/canvas/api") == "pipelines/canvas/api"


def test_overrides_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "DAGSTER_ENV": "production",
            "OL_LAKE_ROOT": "s3://other-bucket/",
            "OPENEDX_XPRO_BASE_URL": "https://xpro.example.org",
            "SUPERSET_URL": "https://bi.example.org/",
        }
    )
    assert settings.lake_root == "s3://other-bucket"
    assert settings.source_base_url("openedx_xpro", {}, "x") == "https://xpro.example.org"
    assert settings.superset_url == "https://bi.example.org"


def test_unknown_environment_names_the_value_and_the_choices() -> None:
    with pytest.raises(UnknownEnvironmentError) as error:
        load_settings({"DAGSTER_ENV": "staging"})
    message = str(error.value)
    assert "'staging'" in message
    assert "dev, ci, qa, production" in message


def test_a_source_without_a_host_for_the_environment_names_what_is_missing() -> None:
    settings = load_settings({"DAGSTER_ENV": "qa"})
    with pytest.raises(MissingSourceConfigError) as error:
        settings.source_base_url("canvas", {"production": "https://canvas.mit.edu"}, "canvas")
    message = str(error.value)
    assert "DAGSTER_ENV=qa" in message
    assert "configured: production" in message
    assert "CANVAS_BASE_URL" in message


def test_settings_are_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_ENV", "qa")
    reset_settings_cache()
    try:
        first = get_settings()
        monkeypatch.setenv("DAGSTER_ENV", "production")
        assert get_settings() is first
        reset_settings_cache()
        assert get_settings().environment is Environment.PRODUCTION
    finally:
        monkeypatch.delenv("DAGSTER_ENV")
        reset_settings_cache()
