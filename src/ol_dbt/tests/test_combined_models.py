"""The combined marts over the whole raw lake: one learner across the platforms, their
enrollments adding up to the per-platform marts, their engagement; and, on a lake where nothing
has landed, the same models build empty. The matching rules themselves are pinned by the unit
tests of int_combined__learner_matches (models/intermediate/combined/_int_combined__models.yml)."""

from __future__ import annotations

import hashlib
from types import ModuleType
from typing import TYPE_CHECKING

import duckdb

from ol_sandbox.airbyte import app_tables
from ol_sandbox.data import Institution

if TYPE_CHECKING:
    from .conftest import DuckDbBuild

COMBINED_MARTS = (
    "dim_combined__learner",
    "fct_combined__course_enrollment",
    "fct_combined__course_engagement",
)


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    result = connection.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _hash(raw_fixture: ModuleType, value: str) -> str:
    return hashlib.sha256((raw_fixture.PII_SALT + value).encode()).hexdigest()


def test_every_account_has_one_learner(warehouse: duckdb.DuckDBPyConnection) -> None:
    matches = _rows(warehouse, "select * from intermediate.int_combined__learner_matches")
    learners = {
        r["learner_id"]: r for r in _rows(warehouse, "select * from marts.dim_combined__learner")
    }
    assert {m["learner_id"] for m in matches} == set(learners)
    by_learner: dict[str, list[dict]] = {}
    for match in matches:
        by_learner.setdefault(match["learner_id"], []).append(match)
    for learner_id, accounts in by_learner.items():
        learner = learners[learner_id]
        assert learner["account_count"] == len(accounts)
        assert learner["platforms"] == ",".join(sorted({a["platform"] for a in accounts}))
        assert {a["match_rule"] for a in accounts} == {learner["match_rule"]}
    platforms = {p for learner in learners.values() for p in learner["platforms"].split(",")}
    assert platforms == {"mitxonline", "xpro", "edxorg", "residential", "canvas"}


def test_an_app_user_and_their_lms_account_are_one_learner(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    """The app's ` Wei_b@Example.COM ` is the LMS's `wei_b@example.com`: same email hash, and the
    app's user-id map names the same LMS account."""
    institution = Institution.generate(seed=7, courses=2, learners=12, days=7, deployments=())
    matches = {
        r["account_key"]: r
        for r in _rows(warehouse, "select * from intermediate.int_combined__learner_matches")
    }
    accounts = {
        r["account_key"]: r
        for r in _rows(warehouse, "select * from intermediate.int_combined__learner_accounts")
    }
    checked = 0
    for app in ("mitxonline", "xpro"):
        tables = app_tables(institution, app)
        linked = {o["user_id"] for o in tables.rows["openedx_openedxuser"]}
        for user in tables.rows["users_user"]:
            if user["is_staff"]:
                assert f"{app}:app:{user['id']}" not in matches
                continue
            app_match = matches[f"{app}:app:{user['id']}"]
            if user["id"] not in linked:
                continue  # never got an LMS account
            lms_key = next(
                key
                for key, account in accounts.items()
                if key.startswith(f"{app}:openedx:")
                and account["openedx_username_hash"]
                == accounts[app_match["account_key"]]["openedx_username_hash"]
            )
            assert matches[lms_key]["learner_id"] == app_match["learner_id"]
            assert app_match["match_rule"] in ("email+user_id_map", "user_id_map")
            if user["email"] != user["email"].strip().lower():
                # the case and whitespace variant: the email alone links them too
                assert (
                    accounts[lms_key]["email_hash"]
                    == accounts[app_match["account_key"]]["email_hash"]
                )
                checked += 1
    assert checked >= 2


def test_accounts_without_an_email_stay_apart(warehouse: duckdb.DuckDBPyConnection) -> None:
    """An account with no email that no user-id map links (an LMS user seen only in the tracking
    logs) is a learner of its own: accounts never match on a missing email."""
    rows = _rows(
        warehouse,
        """
        select matches.learner_id, matches.match_rule
        from intermediate.int_combined__learner_matches as matches
        inner join intermediate.int_combined__learner_accounts as accounts
            on matches.account_key = accounts.account_key
        where accounts.email_hash is null
        """,
    )
    alone = [r for r in rows if r["match_rule"] == "no_email"]
    assert len(alone) >= 2
    assert len({r["learner_id"] for r in alone}) == len(alone)


def test_combined_enrollments_add_up_to_the_platform_marts(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    combined = {
        r["platform"]: r["rows"]
        for r in _rows(
            warehouse,
            "select platform, count(*) as rows from marts.fct_combined__course_enrollment "
            "group by platform",
        )
    }
    (canvas,) = _rows(
        warehouse,
        "select count(*) as rows from (select distinct course_id, user_id_hash "
        "from marts.fct_canvas__enrollment where enrollment_is_student) as students",
    )
    expected = {
        "mitxonline": "select count(*) as rows from marts.fct_mitxonline__course_enrollment",
        "xpro": "select count(*) as rows from marts.fct_xpro__course_enrollment",
        "edxorg": "select count(*) as rows from marts.fct_edxorg__enrollment",
        "residential": "select count(*) as rows from marts.fct_residential__enrollment "
        "where openedx_deployment = 'mitx'",
    }
    counts = {platform: _rows(warehouse, sql)[0]["rows"] for platform, sql in expected.items()}
    counts["canvas"] = canvas["rows"]
    assert combined == counts
    assert all(counts.values())
    missing = _rows(
        warehouse,
        "select * from marts.fct_combined__course_enrollment where learner_id is null",
    )
    assert not missing


def test_engagement_follows_the_learner_through_the_tracking_logs(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    rows = _rows(warehouse, "select * from marts.fct_combined__course_engagement")
    assert {r["activity_source"] for r in rows} == {"tracking_logs", "canvas"}
    assert {r["platform"] for r in rows} >= {"mitxonline", "edxorg", "canvas"}
    assert all(r["learner_id"] for r in rows)
    tracked = [r for r in rows if r["activity_source"] == "tracking_logs"]
    assert all(r["active_day_count"] >= 1 for r in tracked)
    (totals,) = _rows(
        warehouse,
        "select count(distinct active.openedx_deployment || ':' || active.user_id || ':' "
        "|| active.courserun_readable_id) as pairs from marts.fct_openedx__user_activity as active",
    )
    assert len(tracked) == totals["pairs"]


def test_no_personal_data_in_the_combined_marts(
    warehouse: duckdb.DuckDBPyConnection, raw_fixture: ModuleType
) -> None:
    for mart in COMBINED_MARTS:
        columns = [r["column_name"] for r in _rows(warehouse, f"describe marts.{mart}")]
        assert not [c for c in columns if "email" in c or "username" in c or "name" in c]


def test_sources_that_have_not_landed_are_simply_empty(
    combined_empty_lake_build: DuckDbBuild,
) -> None:
    invocation = combined_empty_lake_build.invocation
    assert invocation.returncode == 0, invocation.output[-6000:]
    connection = duckdb.connect(str(combined_empty_lake_build.warehouse_path), read_only=True)
    try:
        for mart in (
            *COMBINED_MARTS,
            "fct_mitxonline__course_enrollment",
            "fct_xpro__course_enrollment",
        ):
            assert connection.execute(f"select count(*) from marts.{mart}").fetchone() == (0,)
    finally:
        connection.close()
