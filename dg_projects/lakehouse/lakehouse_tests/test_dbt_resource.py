"""The lakehouse's `dbt` resource and project: the fixed costs it leaves out of every dbt step
(no `dbt --version` subprocess, no in-process adapter unless asked for) and the manifest version
the build plan compares (the project's files, not the parse)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from packaging import version

from lakehouse.dbt_project import LakehouseDbtProject, in_process_adapter


def test_the_version_of_the_workspaces_dbt_needs_no_subprocess(
    dev_project: LakehouseDbtProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_subprocess(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError(f"dbt was started: {args}")

    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    resource = dev_project.cli_resource()
    assert resource._cli_version == version.parse(importlib.metadata.version("dbt-core"))


def test_the_in_process_adapter_is_built_only_when_asked_for(
    dev_project: LakehouseDbtProject,
) -> None:
    resource = dev_project.cli_resource()
    assert resource._initialize_dbt_core_adapter(["build"]) is None
    with dev_project.run_environment(), in_process_adapter():
        adapter = resource._initialize_dbt_core_adapter(["build"])
    assert adapter is not None
    assert adapter.type() == "duckdb"


def _scratch_project(root: Path) -> LakehouseDbtProject:
    (root / "target").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: scratch\nprofile: scratch\nversion: '1.0'\n")
    return LakehouseDbtProject(
        project_dir=root,
        target="dev",
        warehouse_kind="duckdb",
        is_local=True,
        warehouse_path=root / "warehouse.duckdb",
    )


def _parse(project: LakehouseDbtProject, invocation_id: str, files: str) -> dict[str, Any]:
    """What `ensure_manifest` leaves behind: a manifest and the record of what it was parsed
    from (`files`: the project files' fingerprint)."""
    manifest = {"metadata": {"invocation_id": invocation_id}, "nodes": {}}
    path = project.project_dir / "target" / "manifest.json"
    path.write_text(json.dumps(manifest))
    stat = path.stat()
    record = {
        "dbt_version": "1.11.16",
        "fingerprint": files,
        "manifest_mtime_ns": stat.st_mtime_ns,
        "manifest_size": stat.st_size,
        "target": "dev",
    }
    (project.project_dir / "target" / "manifest.fingerprint.json").write_text(json.dumps(record))
    return manifest


def test_the_manifest_version_follows_the_project_files_not_the_parse(tmp_path: Path) -> None:
    project = _scratch_project(tmp_path / "project")
    first = project.manifest_version(_parse(project, "parse-1", "files-a"))
    # parsed again (another data folder's prepare, a test) from the same files: same version
    assert project.manifest_version(_parse(project, "parse-2-longer", "files-a")) == first
    # the files changed: another version
    assert project.manifest_version(_parse(project, "parse-3", "files-b")) != first
    # a manifest rewritten by hand (a manual `dbt parse`): no record for it, its own id
    path = project.project_dir / "target" / "manifest.json"
    path.write_text(json.dumps({"metadata": {"invocation_id": "by-hand"}, "nodes": {}}) + " ")
    assert project.manifest_version(json.loads(path.read_text())) == "by-hand"


def test_a_successful_invocations_parse_state_becomes_the_projects(tmp_path: Path) -> None:
    """The next dbt invocation starts from the last one's parse state (dbt re-checks it), so a
    data folder other than the one the manifest was prepared for parses fully once, not every
    run."""
    project = _scratch_project(tmp_path / "project")
    prepared = project.project_dir / "target" / "partial_parse.msgpack"
    prepared.write_bytes(b"state for the prepared settings")
    invocation = project.project_dir / "target" / "ol_dbt-run1-abc"
    invocation.mkdir()
    project.keep_partial_parse(invocation)  # the invocation wrote none: nothing changes
    assert prepared.read_bytes() == b"state for the prepared settings"
    (invocation / "partial_parse.msgpack").write_bytes(b"state for this data folder")
    project.keep_partial_parse(invocation)
    assert prepared.read_bytes() == b"state for this data folder"
    assert sorted(p.name for p in prepared.parent.iterdir()) == [
        "ol_dbt-run1-abc",
        "partial_parse.msgpack",
    ]
