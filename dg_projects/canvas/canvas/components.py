"""`CanvasCourseRegistry`: one Canvas account's course registry as a YAML component.

Each registry is one `defs/course_registries/<name>/defs.yaml`: a section per environment listing
course ids and/or account filters (see `canvas.registry`). Every section is validated when the
location loads, so a typo in the production section fails in dev too; the section of the current
environment becomes the registry's sensor.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from canvas.registry import CourseRegistry, build_registry_sensor
from ol_orchestrate.lib.environment import Environment, get_settings


class CanvasCourseRegistry(dg.Component, dg.Model, dg.Resolvable):
    """The courses of one Canvas account that the canvas location ingests, per environment."""

    name: str = Field(description="Short name: the sensor is canvas_<name>_course_registry_sensor")
    account_id: int | str = Field(default="1", description="The account filters default to")
    environments: dict[str, Any] = Field(
        default_factory=dict,
        description="DAGSTER_ENV -> {courses: [...], accounts: [{account_id, ...}]}",
    )

    def registry(self, environment: str) -> CourseRegistry:
        """The registry section of `environment` (none: an empty registry)."""
        return CourseRegistry.parse(
            self.environments.get(environment),
            default_account_id=str(self.account_id),
            source=f"Canvas course registry {self.name!r} [{environment}]",
        )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        unknown = set(self.environments) - {env.value for env in Environment}
        if unknown:
            msg = (
                f"Canvas course registry {self.name!r}: unknown environment(s) "
                f"{sorted(unknown)}; expected {', '.join(env.value for env in Environment)}"
            )
            raise ValueError(msg)
        registries = {env.value: self.registry(env.value) for env in Environment}
        current = registries[get_settings().environment.value]
        return dg.Definitions(sensors=[build_registry_sensor(self.name, current)])
