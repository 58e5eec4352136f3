"""The course registry: which Canvas courses the location ingests, per environment.

A YAML file in the repository (`settings.canvas_course_registry`, default
`dg_projects/canvas/canvas/course_registry.yaml`) holds one section per `DAGSTER_ENV`. Each lists
course ids explicitly (`courses`) and/or account filters (`accounts`: every course of an account,
its sub-accounts too unless `include_subaccounts: false`, optionally only one
`enrollment_term_id`); the registered courses are the union of both. Filters are resolved through
the Canvas API, so reading the file is cheap and resolving it happens only in the sensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ol_orchestrate.resources.canvas import CanvasClient

_FILTER_KEYS = frozenset({"account_id", "enrollment_term_id", "include_subaccounts"})
_SECTION_KEYS = frozenset({"courses", "accounts"})


class CourseRegistryError(ValueError):
    """The course registry file is missing or malformed; the message names the file."""


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


def load_registry(path: Path, environment: str, *, default_account_id: str) -> CourseRegistry:
    """The registry section of `environment` in the YAML file at `path` (none: empty)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"Canvas course registry {path} does not exist (CANVAS_COURSE_REGISTRY)"
        raise CourseRegistryError(msg) from None
    except yaml.YAMLError as error:
        msg = f"Canvas course registry {path} is not valid YAML: {error}"
        raise CourseRegistryError(msg) from None
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        msg = f"Canvas course registry {path}: expected a mapping of environment -> section"
        raise CourseRegistryError(msg)
    return CourseRegistry.parse(
        document.get(environment),
        default_account_id=default_account_id,
        source=f"Canvas course registry {path} [{environment}]",
    )


def sort_course_ids(ids: Iterable[str]) -> list[str]:
    """Numeric ids in numeric order first, then any others alphabetically."""
    return sorted(set(ids), key=lambda c: (0, int(c), "") if c.isdigit() else (1, 0, c))
