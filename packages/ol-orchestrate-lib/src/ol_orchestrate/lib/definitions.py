"""The one definitions bootstrap every code location calls.

A location's `definitions.py` is two lines: it loads the location's `defs/` folder (assets,
checks, sensors, schedules, jobs, resources and YAML components, found by Dagster's
`load_from_defs_folder`) through `location_definitions`, which then applies the platform's
policy in one place: the platform resources (`secrets`, `io_manager`), the executor, a freshness
check for every raw asset from its declared cadence, and the location's automation and
freshness sensors (`ol_orchestrate.lib.automation`). Nothing here reads Vault, the network or the
lake: resources are configured, not connected.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster.components.core.component_tree import ComponentTreeException

from ol_orchestrate.io_managers import lake_io_manager_from_settings
from ol_orchestrate.lib.automation import automation_sensors, freshness_checks
from ol_orchestrate.lib.environment import PlatformSettings, get_settings
from ol_orchestrate.resources.secrets import SecretsResource

# The secrets resource of the last settings seen: a location's own resources nest the same
# instance as the platform's `secrets` key, so one resource (one Vault login) serves the location.
_secrets: tuple[weakref.ref[PlatformSettings], SecretsResource] | None = None


class MissingCadenceError(ValueError):
    """A raw asset declares no cadence, so the platform cannot build its freshness check."""


def platform_secrets(settings: PlatformSettings | None = None) -> SecretsResource:
    """The location's secrets resource (the same instance for the same settings)."""
    global _secrets
    settings = settings or get_settings()
    if _secrets is None or _secrets[0]() is not settings:
        _secrets = (weakref.ref(settings), SecretsResource.from_settings(settings))
    return _secrets[1]


def platform_resources(settings: PlatformSettings | None = None) -> dict[str, Any]:
    """The resources every code location gets: the secrets backend and the lake IO manager."""
    settings = settings or get_settings()
    return {
        "secrets": platform_secrets(settings),
        "io_manager": lake_io_manager_from_settings(settings),
    }


def location_definitions(
    definitions_file: str | Path, *, settings: PlatformSettings | None = None
) -> dg.Definitions:
    """Everything under `<location>/defs/`, with the platform's resources and policy applied.

    `definitions_file` is the location's `definitions.py` (`__file__`); the location's name is
    its package's name.
    """
    package_dir = Path(definitions_file).resolve().parent
    try:
        loaded = dg.load_from_defs_folder(path_within_project=package_dir)
    except ComponentTreeException as error:
        raise _root_cause(error, package_dir.name) from None
    return with_platform_policy(package_dir.name, loaded, settings=settings)


def with_platform_policy(
    location: str, defs: dg.Definitions, *, settings: PlatformSettings | None = None
) -> dg.Definitions:
    """`defs` plus the platform resources, executor, freshness checks and automation sensors.

    Local environments execute in-process (the multiprocess executor re-imports every module per
    step, which costs more than most local steps take); qa/production use the multiprocess
    executor inside the run worker.
    """
    settings = settings or get_settings()
    checks, missing = freshness_checks(_asset_specs(defs))
    if missing:
        names = ", ".join(key.to_user_string() for key in missing)
        msg = (
            f"code location {location!r}: raw asset(s) {names} declare no cadence; pass "
            "`**raw_asset_automation(<Cadence>)` (ol_orchestrate.lib.automation) to the asset"
        )
        raise MissingCadenceError(msg)
    policy = dg.Definitions(
        asset_checks=checks,
        sensors=automation_sensors(location, checks, settings),
        resources=platform_resources(settings),
        executor=dg.in_process_executor if settings.is_local else dg.multiprocess_executor,
    )
    return dg.Definitions.merge(defs, policy)


def _root_cause(error: ComponentTreeException, location: str) -> BaseException:
    """The error a defs module or component raised, instead of Dagster's wrapper around it.

    Loading errors the platform raises on purpose (a missing dbt manifest, an unknown host, a
    malformed registry) say what to do in one line; the wrapper buries that under a tree of the
    defs folder, which is kept as a note.
    """
    cause: BaseException = error
    while isinstance(cause, ComponentTreeException) and cause.__cause__ is not None:
        cause = cause.__cause__
    if cause is error:
        return error
    cause.add_note(f"while loading the {location} code location's defs folder:\n{error}")
    return cause


def _asset_specs(defs: dg.Definitions) -> Iterator[dg.AssetSpec]:
    for item in defs.assets or ():
        if isinstance(item, dg.AssetsDefinition):
            yield from item.specs
        elif isinstance(item, dg.AssetSpec):
            yield item
