"""`plan_passes`: the order `ol-platform materialize` runs locations in, also when a location's
assets read another location's outputs that read its own (raw -> lakehouse -> delivery)."""

from __future__ import annotations

import io

import dagster as dg
from rich.console import Console

from ol_orchestrate.lib.automation import observes_instance_tags
from ol_orchestrate.lib.environment import get_settings
from ol_platform.locations import Pass, order_by_lineage, plan_passes
from ol_platform.materialize import LocationResult, MaterializeReport, print_summary
from ol_platform.runs import RunOutcome


def _asset(key: str, *deps: str, tags: dict[str, str] | None = None) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey.from_user_string(key),
        deps=[dg.AssetKey.from_user_string(d) for d in deps],
        tags=tags,
    )
    def _a() -> None: ...

    return _a


def _defs(*assets: dg.AssetsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=list(assets))


def _keys(step: Pass) -> list[str] | None:
    return None if step.assets is None else sorted(k.to_user_string() for k in step.assets)


def test_without_a_cycle_each_location_runs_once_in_lineage_order() -> None:
    loaded = {
        "warehouse": _defs(_asset("w/marts/m", "src/raw/t")),
        "src": _defs(_asset("src/raw/t")),
        "other": _defs(_asset("other/raw/x")),
    }
    assert plan_passes(loaded) == [Pass(name) for name in order_by_lineage(loaded)]
    assert [step.location for step in plan_passes(loaded)] == ["other", "src", "warehouse"]


def test_a_location_downstream_of_its_own_outputs_runs_again_after_the_other() -> None:
    loaded = {
        "learn": _defs(
            _asset("learn/raw/articles"),
            _asset("learn/delivery/articles", "learn/marts/integrations__learn__articles"),
        ),
        "lakehouse": _defs(
            _asset("learn/staging/stg_articles", "learn/raw/articles"),
            _asset("learn/marts/integrations__learn__articles", "learn/staging/stg_articles"),
            _asset("seeds/seeds/calendar"),  # no upstream: still built with the rest
            _asset("other/marts/m", "seeds/seeds/calendar", "canvas/raw/courses"),
        ),
        "canvas": _defs(_asset("canvas/raw/courses")),
    }
    steps = plan_passes(loaded)
    assert [(s.label, _keys(s)) for s in steps] == [
        ("canvas", None),
        ("learn", ["learn/raw/articles"]),
        ("lakehouse", None),
        ("learn (after lakehouse)", ["learn/delivery/articles"]),
    ]


def test_the_instance_snapshot_runs_after_the_ingestion_it_reports_on() -> None:
    """The platform's health snapshot reads the instance's runs: it runs after every location
    that does not read it (alphabetically 'a_platform' would otherwise run first) and before the
    lakehouse that builds marts from it, with or without a cycle elsewhere."""
    health = _asset("platform/raw/runs", tags=observes_instance_tags())
    plain = {
        "a_platform": _defs(health),
        "src": _defs(_asset("src/raw/t")),
        "zz_source": _defs(_asset("zz/raw/t")),
        "lakehouse": _defs(_asset("w/marts/m", "src/raw/t", "platform/raw/runs", "zz/raw/t")),
    }
    assert [s.label for s in plan_passes(plain)] == ["src", "zz_source", "a_platform", "lakehouse"]

    with_cycle = {
        **plain,
        "learn": _defs(_asset("learn/raw/a"), _asset("learn/delivery/a", "learn/marts/a")),
        "lakehouse": _defs(
            _asset("learn/marts/a", "learn/raw/a"),
            _asset("w/marts/m", "src/raw/t", "platform/raw/runs"),
        ),
    }
    assert [s.label for s in plan_passes(with_cycle)] == [
        "learn",
        "src",
        "zz_source",
        "a_platform",
        "lakehouse",
        "learn (after lakehouse)",
    ]


def test_the_summary_shows_what_assets_said_about_themselves() -> None:
    run = RunOutcome(
        "learning_resources (after lakehouse)",
        "0123456789",
        True,
        materialized=[dg.AssetKey(["learning_resources", "delivery", "oll"])],
        summaries={"learning_resources/delivery/oll": "sent 4, unchanged 0, deleted 0, failed 0"},
    )
    report = MaterializeReport(
        [LocationResult("learning_resources (after lakehouse)", runs=[run])], {}, get_settings()
    )
    output = io.StringIO()
    print_summary(report, Console(file=output, width=200))
    assert "learning_resources/delivery/oll: sent 4, unchanged 0, deleted 0, failed 0" in (
        output.getvalue()
    )
