"""`ol-platform locations new NAME`: a new, empty code location in the platform's shape.

Writes `dg_projects/<name>/` (pyproject, `<name>/definitions.py` calling the platform bootstrap,
an empty `<name>/defs/`, a test that the location loads in every environment with no
credentials), then derives every file that lists locations (`deployment_files.sync`). Nothing
else is edited: the workspace's globs install and type-check the new folder.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ol_platform.deployment_files import sync
from ol_platform.locations import PROJECTS_DIR

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ScaffoldError(ValueError):
    """The name is not usable for a code location, or the folder already exists."""


PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"
description = "Dagster code location: {name}."
requires-python = ">=3.13,<3.14"
dependencies = [
    "ol-orchestrate-lib",
    "dagster>=1.13,<1.14",
]

[tool.uv.sources]
ol-orchestrate-lib = {{ workspace = true }}

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "{name}"
code_location_target_module = "{name}.definitions"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["{name}"]
"""

PACKAGE_INIT = '''"""The {name} code location."""
'''

DEFINITIONS = '''"""The {name} code location: its `defs/` folder, with the platform's policy."""

from ol_orchestrate.lib.definitions import location_definitions

defs = location_definitions(__file__)
'''

DEFS_INIT = '''"""The {name} location's definitions, one module per topic (`defs/<topic>.py`).

Assets, checks, sensors, schedules and jobs defined at module level here are loaded by Dagster's
`load_from_defs_folder`; a folder with a `defs.yaml` is a component. Raw assets
(`["<source>", "raw", "<table>"]`) declare a cadence, from which the platform builds their
freshness check: `@dg.asset(..., **raw_asset_automation(DAILY_API))`
(`ol_orchestrate.lib.automation`).
"""
'''

TEST_DEFINITIONS = '''"""The {name} location loads in every environment with no credentials."""

import pytest

from ol_orchestrate.testing import environment, load_definitions


@pytest.mark.parametrize("env", ["dev", "ci", "qa", "production"])
def test_loads_in_every_environment_without_credentials(env: str) -> None:
    # An unroutable Vault address and no token: loading must not try to read a secret.
    with environment(env, {{"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": ""}}):
        defs = load_definitions("{name}.definitions")
    assert "{name}_automation" in {{sensor.name for sensor in defs.sensors or ()}}
'''


def validate_name(name: str, repo_root: Path) -> None:
    if not _NAME.match(name) or keyword.iskeyword(name):
        msg = (
            f"{name!r} is not a code location name: use lower-case letters, digits and "
            "underscores, starting with a letter (it is the folder, package and module name)"
        )
        raise ScaffoldError(msg)
    if (repo_root / PROJECTS_DIR / name).exists():
        msg = f"{PROJECTS_DIR}/{name} already exists"
        raise ScaffoldError(msg)


def new_location(repo_root: Path, name: str) -> list[Path]:
    """Create `dg_projects/<name>/` and derive the files that list locations; returns what
    was written (relative to `repo_root`)."""
    validate_name(name, repo_root)
    project = repo_root / PROJECTS_DIR / name
    files = {
        project / "pyproject.toml": PYPROJECT,
        project / name / "__init__.py": PACKAGE_INIT,
        project / name / "definitions.py": DEFINITIONS,
        project / name / "defs" / "__init__.py": DEFS_INIT,
        project / f"{name}_tests" / "test_definitions.py": TEST_DEFINITIONS,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=name), encoding="utf-8")
    written = [path.relative_to(repo_root) for path in files]
    return written + sync(repo_root)
