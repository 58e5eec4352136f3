"""A course registry: which Canvas courses the location ingests, and the sensor that applies it.

Each registry (one `CanvasCourseRegistry` component, `defs/course_registries/<name>/defs.yaml`)
has one section per `DAGSTER_ENV`. A section lists course ids explicitly (`courses`) and/or
account filters (`accounts`: every course of an account, its sub-accounts too unless
`include_subaccounts: false`, optionally only one `enrollment_term_id`); the registered courses
are the union of both. Filters are resolved through the Canvas API, so loading a registry is
cheap and resolving it happens only in its sensor.

The sensor keeps the shared `canvas_courses` partitions in step with the registry: it adds a
partition (and requests a run of every canvas asset) for each newly registered course, requests
again every registered course whose data is missing, failed or was deleted from the lake, and
deletes the partitions of courses it registered before and no longer does. Its cursor records
the courses it registered, so several registries can share the partitions without deleting each
other's courses. Deleting a partition only forgets it: the data already landed stays in the lake.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from canvas.factory import GROUP
from canvas.partitions import CANVAS_COURSES, CANVAS_COURSES_NAME
from ol_orchestrate.lib.automation import default_sensor_status
from ol_orchestrate.lib.environment import get_settings
from ol_orchestrate.lib.partition_health import assess_partitions, healing_run_key
from ol_orchestrate.resources.canvas import CanvasApiClientFactory, CanvasClient

REGISTRY_SENSOR_INTERVAL_SECONDS = 3600

_FILTER_KEYS = frozenset({"account_id", "enrollment_term_id", "include_subaccounts"})
_SECTION_KEYS = frozenset({"courses", "accounts"})


class CourseRegistryError(ValueError):
    """A course registry is malformed; the message names the registry and the environment."""


@dataclass(frozen=True)
class AccountFilter:
    """Every course of a Canvas account (and its sub-accounts), optionally in one term."""

    account_id: str
    enrollment_term_id: str | None = None
    include_subaccounts: bool = True

    def resolve(self, client: CanvasClient) -> list[str]:
        ids = []
        for course in client.iter_account_courses(
            self.account_id, enrollment_term_id=self.enrollment_term_id
        ):
            if not self.include_subaccounts and str(course.get("account_id")) != self.account_id:
                continue
            ids.append(str(course["id"]))
        return ids


@dataclass(frozen=True)
class CourseRegistry:
    """Explicit course ids plus account filters; `resolve` gives the registered course ids."""

    courses: tuple[str, ...] = ()
    accounts: tuple[AccountFilter, ...] = ()

    @property
    def needs_api(self) -> bool:
        return bool(self.accounts)

    def resolve(self, client: CanvasClient | None) -> list[str]:
        """The registered course ids, de-duplicated, in numeric-then-text order."""
        found = set(self.courses)
        if self.accounts:
            if client is None:
                msg = "the course registry has account filters: resolving it needs a Canvas client"
                raise ValueError(msg)
            for account in self.accounts:
                found.update(account.resolve(client))
        return sort_course_ids(found)

    @classmethod
    def parse(
        cls, section: Mapping[str, Any] | None, *, default_account_id: str, source: str
    ) -> CourseRegistry:
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            msg = f"{source}: expected a mapping with 'courses' and/or 'accounts'"
            raise CourseRegistryError(msg)
        unknown = set(section) - _SECTION_KEYS
        if unknown:
            msg = f"{source}: unknown key(s) {sorted(unknown)}; expected 'courses', 'accounts'"
            raise CourseRegistryError(msg)
        courses = section.get("courses") or []
        if not isinstance(courses, list) or not all(
            isinstance(c, int | str) and not isinstance(c, bool) and str(c).strip() for c in courses
        ):
            msg = f"{source}: 'courses' must be a list of Canvas course ids"
            raise CourseRegistryError(msg)
        filters = []
        for position, entry in enumerate(section.get("accounts") or []):
            entry = entry or {}
            if not isinstance(entry, Mapping) or set(entry) - _FILTER_KEYS:
                msg = (
                    f"{source}: accounts[{position}] must be a mapping of "
                    f"{', '.join(sorted(_FILTER_KEYS))}"
                )
                raise CourseRegistryError(msg)
            term = entry.get("enrollment_term_id")
            filters.append(
                AccountFilter(
                    account_id=str(entry.get("account_id") or default_account_id),
                    enrollment_term_id=None if term is None else str(term),
                    include_subaccounts=bool(entry.get("include_subaccounts", True)),
                )
            )
        return cls(tuple(str(c).strip() for c in courses), tuple(filters))


def sort_course_ids(ids: Iterable[str]) -> list[str]:
    """Numeric ids in numeric order first, then any others alphabetically."""
    return sorted(set(ids), key=lambda c: (0, int(c), "") if c.isdigit() else (1, 0, c))


def plan_registry_tick(
    existing: Iterable[str],
    registered: Iterable[str],
    owned: Iterable[str] = (),
    needs_run: Mapping[str, str] | None = None,
    *,
    run_key_prefix: str = "canvas",
) -> dg.SensorResult:
    """Partitions to add and delete, the runs to request, and the cursor of the next tick.

    `owned` are the courses this registry registered at its previous tick (its cursor): only
    those are deleted when they leave the registry, never another registry's courses.
    `needs_run` (course -> reason) are registered, existing courses whose data is missing,
    failed or lost (`ol_orchestrate.lib.partition_health`): they are requested again.
    """
    existing_set, registered_set = set(existing), set(registered)
    added = sort_course_ids(registered_set - existing_set)
    removed = sort_course_ids((set(owned) - registered_set) & existing_set)
    healing = {
        course: reason
        for course, reason in (needs_run or {}).items()
        if course in registered_set and course in existing_set
    }
    cursor = json.dumps(sort_course_ids(registered_set))
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(CANVAS_COURSES.build_add_request(added))
    if removed:
        requests.append(CANVAS_COURSES.build_delete_request(removed))
    runs = [dg.RunRequest(partition_key=course_id) for course_id in added]
    runs += [
        dg.RunRequest(
            partition_key=course_id,
            run_key=healing_run_key(run_key_prefix, course_id, healing[course_id]),
            tags={"ol/rerun_reason": healing[course_id]},
        )
        for course_id in sort_course_ids(healing)
    ]
    if not requests and not runs:
        return dg.SensorResult(
            skip_reason=(
                f"course registry unchanged and every course landed ({len(registered_set)} "
                "course(s))"
            ),
            cursor=cursor,
        )
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=requests, cursor=cursor)


def build_registry_sensor(
    name: str,
    registry: CourseRegistry,
    *,
    default_status: dg.DefaultSensorStatus | None = None,
) -> dg.SensorDefinition:
    """The sensor applying `registry` to the `canvas_courses` partitions (see the module doc)."""

    @dg.sensor(
        name=f"canvas_{name}_course_registry_sensor",
        target=dg.AssetSelection.groups(GROUP),
        minimum_interval_seconds=REGISTRY_SENSOR_INTERVAL_SECONDS,
        default_status=default_status or default_sensor_status(),
        description=(
            f"Turns the {name!r} Canvas course registry into `canvas_courses` partitions: adds "
            "new courses (and runs every canvas asset for them), re-runs registered courses whose "
            "data is missing, failed or was deleted from the lake, and deletes courses taken off "
            "the registry without deleting their landed data."
        ),
    )
    def _registry_sensor(
        context: dg.SensorEvaluationContext, canvas_api: CanvasApiClientFactory
    ) -> dg.SensorResult:
        # The factory reads its token only when a client is built: explicit course lists
        # resolve with no token at all.
        if registry.needs_api:
            with canvas_api.get_client() as client:
                registered = registry.resolve(client)
        else:
            registered = registry.resolve(None)
        owned = json.loads(context.cursor) if context.cursor else []
        existing = context.instance.get_dynamic_partitions(CANVAS_COURSES_NAME)
        needs_run = assess_partitions(
            context.instance,
            _canvas_asset_keys(context),
            sort_course_ids(set(registered) & set(existing)),
            CANVAS_COURSES,
            get_settings().lake_root,
        ).needs_run
        context.log.info(
            f"course registry {name!r}: {len(registered)} course(s) registered, "
            f"{len(existing)} partition(s) before this tick, {len(needs_run)} to run again"
        )
        return plan_registry_tick(
            existing, registered, owned, needs_run, run_key_prefix=f"canvas_{name}"
        )

    return _registry_sensor


def _canvas_asset_keys(context: dg.SensorEvaluationContext) -> list[dg.AssetKey]:
    """The assets a course's run materializes: the location's `canvas_courses` assets."""
    repository = context.repository_def
    if repository is None:
        msg = "the course registry sensor needs the location's definitions to find its assets"
        raise dg.DagsterInvariantViolationError(msg)
    graph = repository.asset_graph
    return sorted(
        (
            key
            for key in graph.get_all_asset_keys()
            if graph.get(key).is_materializable and graph.get(key).partitions_def == CANVAS_COURSES
        ),
        key=lambda key: key.to_user_string(),
    )
