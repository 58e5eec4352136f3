"""Which dbt models are published to Superset: the one place that says so.

Every model in a folder listed in `dbt_models_for_superset_datasets` (a path under the dbt
project's `models/`; its subfolders count too) gets a Superset dataset asset
`["superset", "dataset", <model>]` (defs/superset.py), is copied into the local serving warehouse
Superset reads, and can be charted by the dashboards under `lakehouse/superset/dashboards/`.
Publishing a new folder's models is adding the folder here; nothing else changes.
"""

from collections.abc import Mapping, Sequence
from typing import Any

dbt_models_for_superset_datasets: list[str] = [
    "marts/openedx",
    "marts/canvas",
    # the platform's own health (the data_platform location's platform_health snapshot)
    "marts/platform",
    # every learning resource fed to MIT Learn (not the per-source integrations__learn__ models)
    "marts/learning_resources/catalog",
    # residential MITx, MITx Online and xPro from their LMS databases (legacy_openedx)
    "marts/residential",
    # MITx Online's and xPro's application databases (Airbyte): enrollments, programs, revenue
    "marts/mitxonline",
    "marts/xpro",
    # one learner across every platform, their enrollments and engagement
    "marts/combined",
]


def model_folder(node: Mapping[str, Any]) -> tuple[str, ...]:
    """The model's folder under `models/`, from its fqn (`[project, *folders, name]`)."""
    fqn = node.get("fqn") or []
    return tuple(str(part) for part in fqn[1:-1])


def is_published_model(node: Mapping[str, Any], folders: Sequence[str] | None = None) -> bool:
    """Whether the manifest node is a model in (or under) one of the published folders
    (`dbt_models_for_superset_datasets` unless `folders` is given)."""
    if node.get("resource_type") != "model":
        return False
    folder = model_folder(node)
    for published in dbt_models_for_superset_datasets if folders is None else folders:
        parts = tuple(part for part in published.strip("/").split("/") if part)
        if parts and folder[: len(parts)] == parts:
            return True
    return False
