"""The one definitions bootstrap every code location calls.

Each location passes only what is specific to it (assets, checks, sensors, its own resources);
the platform-wide resources (`secrets`, `io_manager`) and the executor policy are wired here, from
the environment settings, so no location repeats resource wiring. Nothing here reads Vault, the
network or the lake: resources are configured, not connected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from ol_orchestrate.io_managers import lake_io_manager_from_settings
from ol_orchestrate.lib.environment import PlatformSettings, get_settings
from ol_orchestrate.resources.secrets import SecretsResource


def platform_resources(
    settings: PlatformSettings, secrets: SecretsResource | None = None
) -> dict[str, Any]:
    """The resources every code location gets: the secrets backend and the lake IO manager.

    A location whose own resources nest the secrets resource passes that same instance as
    `secrets`, so one secrets resource serves the whole location.
    """
    return {
        "secrets": secrets or SecretsResource.from_settings(settings),
        "io_manager": lake_io_manager_from_settings(settings),
    }


def build_definitions(
    *,
    assets: Iterable[Any] = (),
    asset_checks: Iterable[Any] = (),
    jobs: Iterable[Any] = (),
    schedules: Iterable[Any] = (),
    sensors: Iterable[Any] = (),
    resources: Mapping[str, Any] | None = None,
    secrets: SecretsResource | None = None,
    settings: PlatformSettings | None = None,
) -> dg.Definitions:
    """Definitions for one code location with the platform's resources and executor.

    Local environments execute in-process (the multiprocess executor re-imports every module per
    step, which costs more than most local steps take); qa/production use the multiprocess
    executor inside the run worker.
    """
    settings = settings or get_settings()
    all_resources = platform_resources(settings, secrets)
    all_resources.update(resources or {})
    executor = dg.in_process_executor if settings.is_local else dg.multiprocess_executor
    return dg.Definitions(
        assets=list(assets),
        asset_checks=list(asset_checks),
        jobs=list(jobs),
        schedules=list(schedules),
        sensors=list(sensors),
        resources=all_resources,
        executor=executor,
    )
