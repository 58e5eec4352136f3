"""Environment resolution: DAGSTER_ENV becomes typed settings, unknown values fail clearly."""

from __future__ import annotations

import pytest

from ol_orchestrate.lib.environment import (
    Environment,
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
    assert [d.name for d in settings.openedx_deployments] == ["mitxonline", "xpro"]
    assert settings.openedx_deployment("xpro").base_url == "http://127.0.0.1:8765/openedx/xpro"


def test_ci_behaves_like_dev() -> None:
    settings = load_settings({"DAGSTER_ENV": "ci", "OL_SANDBOX_URL": "http://127.0.0.1:9/"})
    assert settings.is_local
    assert settings.dbt_target == "ci"
    assert settings.openedx_deployment("mitxonline").base_url == (
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
    assert all(d.base_url.startswith("https://") for d in settings.openedx_deployments)


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
    assert settings.openedx_deployment("xpro").base_url == "https://xpro.example.org"
    assert settings.superset_url == "https://bi.example.org"


def test_unknown_environment_names_the_value_and_the_choices() -> None:
    with pytest.raises(UnknownEnvironmentError) as error:
        load_settings({"DAGSTER_ENV": "staging"})
    message = str(error.value)
    assert "'staging'" in message
    assert "dev, ci, qa, production" in message


def test_unknown_deployment_names_the_configured_ones() -> None:
    with pytest.raises(KeyError, match="mitxonline, xpro"):
        load_settings({}).openedx_deployment("edx")


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
