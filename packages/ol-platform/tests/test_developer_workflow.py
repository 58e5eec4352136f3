"""The developer guide's workflow as written: `.env.example`, the mypy command, `sqlfmt models/`,
the pre-commit hooks (ids and order), yamlfmt, the GitHub workflows, and CI running the checks.

`uv run pre-commit run --all-files` in CI (.ci/run) runs every hook for real (mypy with the
guide's paths, `sqlfmt --check`, sqlfluff); these tests pin what the guide's command lines rely on
and run the quick ones the way the guide types them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from ol_orchestrate.lib.environment import find_repo_root

ROOT = find_repo_root()
VENV_BIN = Path(sys.executable).parent

# "Pre-commit hooks in order" of the developer guide.
GUIDE_HOOK_ORDER = [
    "trailing-whitespace",
    "end-of-file-fixer",
    "check-yaml",
    "check-toml",
    "yamlfmt",
    "yamllint",
    "detect-secrets",
    "ruff-format",
    "ruff",
    "mypy",
    "sqlfluff-fix",
    "sqlfluff-lint",
]
GUIDE_MYPY_COMMAND = "mypy packages/ dg_projects/ --config-file=pyproject.toml"
GUIDE_ENV_VARIABLES = [
    "GITHUB_TOKEN",
    "DBT_TRINO_USERNAME",
    "DBT_TRINO_PASSWORD",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "DBT_SCHEMA_SUFFIX",
]


def _tool(name: str) -> str:
    path = VENV_BIN / name
    assert path.exists(), f"{name} is not installed in the workspace venv (uv sync)"
    return str(path)


def _hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_env_example_lists_the_guides_variables() -> None:
    text = (ROOT / ".env.example").read_text()
    for name in GUIDE_ENV_VARIABLES:
        assert re.search(rf"^(# )?{name}=", text, re.MULTILINE), name
    # the Kubernetes run launcher's variables (dg_deployments/production) stay listed
    assert "DAGSTER_K8S_JOB_NAMESPACE=" in text


def test_pre_commit_has_the_guides_hooks_in_its_order() -> None:
    ids = [hook["id"] for hook in _hooks()]
    assert len(ids) == len(set(ids)), ids
    positions = [ids.index(hook_id) for hook_id in GUIDE_HOOK_ORDER]
    assert positions == sorted(positions), ids
    # sqlfmt owns the SQL layout: it checks before sqlfluff fixes and lints the rest
    assert ids.index("sqlfmt") < ids.index("sqlfluff-fix")


def test_every_hook_runs_offline_from_the_workspace_venv() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    for hook in _hooks():
        assert hook["language"] == "system", hook["id"]
        assert hook["entry"].startswith("uv run --frozen "), hook["id"]
        tool = hook["entry"].split()[3]
        _tool(tool)


def test_mypy_and_sqlfmt_hooks_run_the_guides_commands() -> None:
    hooks = {hook["id"]: hook for hook in _hooks()}
    assert hooks["mypy"]["entry"] == f"uv run --frozen {GUIDE_MYPY_COMMAND}"
    assert hooks["mypy"]["pass_filenames"] is False
    assert hooks["sqlfmt"]["entry"] == "uv run --frozen sqlfmt --check"
    assert re.match(hooks["sqlfmt"]["files"], "src/ol_dbt/models/staging/x/stg_x__y.sql")
    assert re.match(hooks["sqlfmt"]["files"], "src/ol_dbt/macros/cross_db/hash_pii.sql")


def test_ci_runs_every_hook() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pre-commit run --all-files" in ci
    assert not re.search(r"^\s*(export )?SKIP=", ci, re.MULTILINE)


def test_skip_works_with_the_guides_hook_ids() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("pre-commit needs the git checkout")
    env = {**os.environ, "SKIP": "sqlfluff-lint"}
    completed = subprocess.run(
        [_tool("pre-commit"), "run", "sqlfluff-lint", "--all-files"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r"sqlfluff lint\.+Skipped", completed.stdout), completed.stdout


def test_the_guides_mypy_paths_find_no_test_modules_and_no_duplicates() -> None:
    """The cause of mypy stopping on `conftest`: every package's tests folder holds a top-level
    `conftest`. The explicit paths of the guide's command must still honour [tool.mypy] exclude."""
    from mypy.config_parser import parse_config_file
    from mypy.find_sources import create_source_list
    from mypy.fscache import FileSystemCache
    from mypy.options import Options

    options = Options()
    parse_config_file(options, lambda: None, str(ROOT / "pyproject.toml"), sys.stdout, sys.stderr)
    cwd = Path.cwd()
    os.chdir(ROOT)  # mypy matches `exclude` against paths relative to where it runs
    try:
        sources = create_source_list(["packages/", "dg_projects/"], options, FileSystemCache())
        options.exclude = []
        unexcluded = create_source_list(["packages/", "dg_projects/"], options, FileSystemCache())
    finally:
        os.chdir(cwd)
    modules = [source.module for source in sources]
    duplicates = [name for name, count in Counter(modules).items() if count > 1]
    assert not duplicates
    assert not [m for m in modules if m.split(".")[-1] == "conftest" or m.startswith("test_")]
    assert {"ol_orchestrate", "ol_platform", "canvas.definitions"} <= set(modules)
    # without the excludes the same paths collide (the error the excludes prevent)
    assert Counter(source.module for source in unexcluded)["conftest"] > 1


def test_sqlfmt_models_uses_the_projects_config() -> None:
    """`cd src/ol_dbt && sqlfmt models/` finds [tool.sqlfmt] of the root pyproject.toml."""
    dbt_dir = ROOT / "src" / "ol_dbt"
    completed = subprocess.run(
        [_tool("sqlfmt"), "--check", "--verbose", "--no-progressbar", "models/"],
        cwd=dbt_dir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    assert "failed formatting check" not in output


def _yaml_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.yaml", "*.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if "/superset/dashboards/" not in name]


@pytest.mark.skipif(shutil.which("git") is None, reason="lists the files with git")
def test_yamlfmt_never_changes_what_the_yaml_means() -> None:
    """yamlfmt rewrites some constructs (its line-break keeping has dropped text from multi-line
    quoted scalars): whatever it writes for any YAML here must load to the same data."""
    if not (ROOT / ".git").exists():
        pytest.skip("lists the files with git")
    changed_meaning = []
    for path in _yaml_files():
        original = path.read_text()
        formatted = subprocess.run(
            [_tool("yamlfmt"), "-conf", str(ROOT / ".yamlfmt"), "-in"],
            cwd=ROOT,
            input=original,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        if list(yaml.safe_load_all(formatted)) != list(yaml.safe_load_all(original)):
            changed_meaning.append(str(path.relative_to(ROOT)))
    assert not changed_meaning


def _workflow(name: str) -> dict[Any, Any]:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_workflows_sit_beside_ci() -> None:
    names = {path.name for path in (ROOT / ".github" / "workflows").iterdir()}
    assert {"ci.yaml", "publish_dbt_docs.yaml", "project_automation.yaml"} <= names


def test_dbt_docs_are_built_on_the_embedded_data_and_published_to_pages() -> None:
    workflow = _workflow("publish_dbt_docs.yaml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert build["env"]["DAGSTER_ENV"] == "dev"
    runs = _runs(build)
    materialize = runs.index("uv run --frozen ol-platform materialize")
    docs = runs.index("dbt docs generate --target dev")
    assert materialize < docs
    assert "TRINO" not in runs
    assert "AWS" not in runs
    assert {"actions/configure-pages", "actions/upload-pages-artifact"} <= set(_uses(build))
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert _uses(deploy) == ["actions/deploy-pages"]
    assert workflow["permissions"] == {"contents": "read"}


def test_project_automation_adds_issues_and_pull_requests_to_the_board() -> None:
    workflow = _workflow("project_automation.yaml")
    triggers = workflow[True]
    assert "opened" in triggers["issues"]["types"]
    assert "opened" in triggers["pull_request_target"]["types"]
    job = workflow["jobs"]["add-to-project"]
    assert _uses(job) == ["actions/add-to-project"]
    # pull_request_target runs with secrets: it must never check out the pull request's code
    assert "actions/checkout" not in _uses(job)
    assert workflow["permissions"] == {}
