"""The application databases of MITx Online and xPro (Django on PostgreSQL), as Airbyte reads them.

One table per stream (`users_user`, `courses_courserun`, `ecommerce_order`, ...) with the rows the
apps would hold for the institution's learners: the same usernames, course runs and enrollments
the deployment's Open edX serves (`ol_sandbox.data`) and its LMS database holds
(`ol_sandbox.edxapp`), so a learner can be followed from the app to the LMS and its tracking logs.
The app's `openedx_openedxuser` maps each app user to their LMS username.

On purpose, for the platform's matching rules: some app emails differ from the LMS's only by case
and surrounding whitespace, some learners changed their email in the app (the LMS keeps the old
one), a few users never got an LMS account, and one user's name was nulled by the destination
(`_airbyte_meta.changes`). Deterministic from the institution's seed (own `random.Random`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from ol_sandbox.data import DeploymentData, Institution
from ol_sandbox.edxapp import edxapp_deployment

APPS: tuple[str, ...] = ("mitxonline", "xpro")

# Column types as Airbyte's Postgres source reports them (JSON schema types) and the S3
# destination writes them in Parquet: integer -> int64, number -> double, timestamp ->
# timestamp(us, UTC), date -> date32.
ColumnType = str  # "integer" | "number" | "string" | "boolean" | "timestamp" | "date"
Columns = tuple[tuple[str, ColumnType], ...]

_TS = "timestamp"
_AUDIT = (("created_on", _TS), ("updated_on", _TS))

STREAM_COLUMNS: Mapping[str, Columns] = {
    "users_user": (
        ("id", "integer"), ("username", "string"), ("email", "string"), ("name", "string"),
        ("is_active", "boolean"), ("is_staff", "boolean"), ("is_superuser", "boolean"),
        ("last_login", _TS), *_AUDIT,
    ),
    "openedx_openedxuser": (
        ("id", "integer"), ("user_id", "integer"), ("edx_username", "string"),
        ("platform", "string"), ("has_been_synced", "boolean"), *_AUDIT,
    ),
    "courses_program": (
        ("id", "integer"), ("title", "string"), ("readable_id", "string"),
        ("program_type", "string"), ("live", "boolean"), *_AUDIT,
    ),
    "courses_course": (
        ("id", "integer"), ("title", "string"), ("readable_id", "string"), ("live", "boolean"),
        ("program_id", "integer"), ("position_in_program", "integer"), *_AUDIT,
    ),
    "courses_courserun": (
        ("id", "integer"), ("course_id", "integer"), ("title", "string"),
        ("courseware_id", "string"), ("run_tag", "string"), ("start_date", _TS),
        ("end_date", _TS), ("enrollment_start", _TS), ("enrollment_end", _TS),
        ("upgrade_deadline", _TS), ("is_self_paced", "boolean"), ("live", "boolean"), *_AUDIT,
    ),
    "courses_courserunenrollment": (
        ("id", "integer"), ("user_id", "integer"), ("run_id", "integer"),
        ("enrollment_mode", "string"), ("active", "boolean"), ("change_status", "string"),
        ("edx_enrolled", "boolean"), *_AUDIT,
    ),
    "courses_courserungrade": (
        ("id", "integer"), ("user_id", "integer"), ("course_run_id", "integer"),
        ("grade", "number"), ("letter_grade", "string"), ("passed", "boolean"),
        ("set_by_admin", "boolean"), *_AUDIT,
    ),
    "courses_courseruncertificate": (
        ("id", "integer"), ("user_id", "integer"), ("course_run_id", "integer"),
        ("uuid", "string"), ("is_revoked", "boolean"), *_AUDIT,
    ),
    "courses_programenrollment": (
        ("id", "integer"), ("user_id", "integer"), ("program_id", "integer"),
        ("enrollment_mode", "string"), ("active", "boolean"), ("change_status", "string"),
        *_AUDIT,
    ),
    "courses_programcertificate": (
        ("id", "integer"), ("user_id", "integer"), ("program_id", "integer"),
        ("uuid", "string"), ("is_revoked", "boolean"), *_AUDIT,
    ),
    "django_content_type": (("id", "integer"), ("app_label", "string"), ("model", "string")),
    "ecommerce_product": (
        ("id", "integer"), ("content_type_id", "integer"), ("object_id", "integer"),
        ("price", "number"), ("description", "string"), ("is_active", "boolean"), *_AUDIT,
    ),
    "ecommerce_discount": (
        ("id", "integer"), ("discount_code", "string"), ("discount_type", "string"),
        ("redemption_type", "string"), ("amount", "number"), ("activation_date", _TS),
        ("expiration_date", _TS), *_AUDIT,
    ),
    "ecommerce_order": (
        ("id", "integer"), ("purchaser_id", "integer"), ("state", "string"),
        ("total_price_paid", "number"), ("reference_number", "string"), *_AUDIT,
    ),
    "ecommerce_line": (
        ("id", "integer"), ("order_id", "integer"), ("product_id", "integer"),
        ("quantity", "integer"), ("unit_price", "number"), ("total_price", "number"), *_AUDIT,
    ),
    "ecommerce_discountredemption": (
        ("id", "integer"), ("redeemed_discount_id", "integer"), ("redeemed_order_id", "integer"),
        ("redeemed_by_id", "integer"), ("redemption_date", _TS),
    ),
    # Available in the source but not selected in the connection until someone adds it.
    "flexiblepricing_flexibleprice": (
        ("id", "integer"), ("user_id", "integer"), ("status", "string"),
        ("income_usd", "number"), ("country_of_income", "string"), *_AUDIT,
    ),
}  # fmt: skip
PRIMARY_KEYS: Mapping[str, str] = dict.fromkeys(STREAM_COLUMNS, "id")
# The streams each app's connection selects from the start (the rest are available only).
SELECTED_STREAMS: tuple[str, ...] = tuple(
    name for name in STREAM_COLUMNS if name != "flexiblepricing_flexibleprice"
)

_CONTENT_TYPES = (
    (1, "courses", "courserun"),
    (2, "courses", "program"),
    (3, "ecommerce", "order"),
    (4, "users", "user"),
)
COURSERUN_CONTENT_TYPE = 1
PROGRAM_CONTENT_TYPE = 2
_LETTERS = ((0.9, "A"), (0.8, "B"), (0.7, "C"), (0.6, "D"))
_PRICES: Mapping[str, tuple[float, ...]] = {
    "mitxonline": (49.0, 99.0, 149.0),
    "xpro": (999.0, 1250.0, 2500.0),
}
_PROGRAM_TITLES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "mitxonline": (
        ("DEDP", "Data, Economics, and Design of Policy"),
        ("SDS", "Statistics and Data Science"),
    ),
    "xpro": (
        ("DgtlTF", "Digital Transformation"),
        ("SysEng", "Systems Architecture"),
    ),
}
_DISCOUNTS = (
    ("WELCOME10", "percent-off", "unlimited", 10.0),
    ("SPRING25", "dollars-off", "unlimited", 25.0),
    ("FINAID-50", "percent-off", "one-time", 50.0),
    ("STAFF100", "percent-off", "one-time", 100.0),
)


@dataclass(frozen=True)
class AppTables:
    """Every stream's rows (column -> value dicts) of one app, plus the values the S3
    destination could not write (stream -> row index -> nulled columns)."""

    app: str
    rows: Mapping[str, list[dict[str, Any]]]
    nulled: Mapping[str, Mapping[int, tuple[str, ...]]] = field(default_factory=dict)

    def count(self, stream: str) -> int:
        return len(self.rows[stream])


def app_tables(institution: Institution, app: str) -> AppTables:
    """The application tables of `app` (deterministic; cached per institution knobs)."""
    if app not in APPS:
        msg = f"unknown application {app!r}; the sandbox's Airbyte reads: {', '.join(APPS)}"
        raise KeyError(msg)
    return _tables(
        institution.seed, institution.courses, institution.learners, institution.days,
        institution.anchor, app,
    )  # fmt: skip


@cache
def _tables(seed: int, courses: int, learners: int, days: int, anchor: date, app: str) -> AppTables:
    institution = Institution.generate(seed, courses, learners, days, deployments=(), anchor=anchor)
    return _build(institution, edxapp_deployment(institution, app), app)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _letter(grade: float) -> str:
    return next((letter for floor, letter in _LETTERS if grade >= floor), "F")


def _build(institution: Institution, data: DeploymentData, app: str) -> AppTables:
    rng = random.Random(f"{institution.seed}:airbyte:{app}")
    start = institution.start
    window_end = institution.end
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in STREAM_COLUMNS}
    nulled: dict[str, dict[int, tuple[str, ...]]] = {}

    def audit(created: datetime, updated: datetime | None = None) -> dict[str, datetime]:
        return {"created_on": created, "updated_on": updated or created}

    # -- users and their LMS accounts ----------------------------------------------------------
    first_enrolled: dict[str, datetime] = {}
    for enrollment in data.all_enrollments():
        created = _parse(enrollment.created)
        assert created is not None
        seen = first_enrolled.get(enrollment.username)
        if seen is None or created < seen:
            first_enrolled[enrollment.username] = created
    user_ids: dict[str, int] = {}
    for index, username in enumerate(data.usernames):
        user_id = index + 1
        user_ids[username] = user_id
        joined = first_enrolled.get(username, start + timedelta(hours=index)) - timedelta(
            days=rng.randint(1, 60), seconds=rng.randint(0, 86_399)
        )
        email = f"{username}@example.com"  # what the LMS holds (ol_sandbox.edxapp)
        roll = rng.random()
        if roll < 0.1:
            # the same address typed differently: case and surrounding whitespace
            email = f" {username.capitalize()}@Example.COM "
        elif roll < 0.16:
            email = f"{username}.new@example.org"  # changed in the app; the LMS keeps the old one
        first, _, last = username.partition("_")
        rows["users_user"].append(
            {
                "id": user_id,
                "username": username,
                "email": email,
                "name": f"{first.capitalize()} {last.upper()}.",
                "is_active": rng.random() < 0.97,
                "is_staff": False,
                "is_superuser": False,
                "last_login": joined + timedelta(days=rng.randint(1, 40)),
                **audit(joined, joined + timedelta(days=rng.randint(0, 20))),
            }
        )
        if rng.random() < 0.04:
            continue  # never got an LMS account (the app's sync to Open edX failed)
        rows["openedx_openedxuser"].append(
            {
                "id": len(rows["openedx_openedxuser"]) + 1,
                "user_id": user_id,
                "edx_username": username,
                "platform": app,
                "has_been_synced": True,
                **audit(joined + timedelta(minutes=1)),
            }
        )
    staff_joined = start - timedelta(days=400)
    for offset, username in enumerate(("ol_staff", "ol_finance")):
        rows["users_user"].append(
            {
                "id": len(data.usernames) + offset + 1,
                "username": username,
                "email": f"{username}@mit.edu",
                "name": "Open Learning Staff",
                "is_active": True,
                "is_staff": True,
                "is_superuser": offset == 0,
                "last_login": start,
                **audit(staff_joined),
            }
        )
    if rows["users_user"]:
        # A value the S3 destination could not write: nulled, and recorded in _airbyte_meta.
        rows["users_user"][0]["name"] = None
        nulled["users_user"] = {0: ("name",)}

    # -- programs, courses and runs ------------------------------------------------------------
    course_keys: list[str] = []
    for run in data.course_runs:
        key = f"course-v1:{run.org}+{run.number}"
        if key not in course_keys:
            course_keys.append(key)
    programs = _PROGRAM_TITLES[app]
    org = data.course_runs[0].org if data.course_runs else "MITx"
    program_start = start - timedelta(days=300)
    for program_id, (code, title) in enumerate(programs, start=1):
        rows["courses_program"].append(
            {
                "id": program_id,
                "title": title,
                "readable_id": f"program-v1:{org}+{code}",
                "program_type": "MicroMasters®"
                if app == "mitxonline"
                else "Professional Certificate",
                "live": True,
                **audit(program_start + timedelta(days=program_id)),
            }
        )
    course_ids: dict[str, int] = {}
    program_of: dict[int, int | None] = {}
    position: dict[int, int] = {}
    for index, key in enumerate(course_keys):
        course_id = index + 1
        course_ids[key] = course_id
        # Two courses in three belong to a program, alternately; the third to none.
        member_of = None if index % 3 == 2 or not programs else (index % 2) + 1
        program_of[course_id] = member_of
        if member_of is not None:
            position[member_of] = position.get(member_of, 0) + 1
        run = next(r for r in data.course_runs if f"course-v1:{r.org}+{r.number}" == key)
        rows["courses_course"].append(
            {
                "id": course_id,
                "title": run.name,
                "readable_id": key,
                "live": True,
                "program_id": member_of,
                "position_in_program": position.get(member_of) if member_of else None,
                **audit(program_start + timedelta(days=10 + index)),
            }
        )
    run_ids: dict[str, int] = {}
    run_course: dict[int, int] = {}
    for index, run in enumerate(data.course_runs):
        run_id = index + 1
        run_ids[run.course_id] = run_id
        course_id = course_ids[f"course-v1:{run.org}+{run.number}"]
        run_course[run_id] = course_id
        run_start = _parse(run.start)
        assert run_start is not None
        rows["courses_courserun"].append(
            {
                "id": run_id,
                "course_id": course_id,
                "title": run.name,
                "courseware_id": run.course_id,
                "run_tag": run.run,
                "start_date": run_start,
                "end_date": _parse(run.end),
                "enrollment_start": _parse(run.enrollment_start),
                "enrollment_end": _parse(run.enrollment_end),
                "upgrade_deadline": run_start + timedelta(days=30) if app == "mitxonline" else None,
                "is_self_paced": run.pacing == "self",
                "live": not run.hidden,
                **audit(run_start - timedelta(days=60)),
            }
        )

    # -- products and discounts ----------------------------------------------------------------
    prices = _PRICES[app]
    product_of_run: dict[int, tuple[int, float]] = {}
    for run_id in run_ids.values():
        price = prices[run_id % len(prices)]
        product_id = len(rows["ecommerce_product"]) + 1
        product_of_run[run_id] = (product_id, price)
        rows["ecommerce_product"].append(
            {
                "id": product_id,
                "content_type_id": COURSERUN_CONTENT_TYPE,
                "object_id": run_id,
                "price": price,
                "description": f"Course run {run_id}",
                "is_active": True,
                **audit(start - timedelta(days=50)),
            }
        )
    for program_id in range(1, len(programs) + 1):
        rows["ecommerce_product"].append(
            {
                "id": len(rows["ecommerce_product"]) + 1,
                "content_type_id": PROGRAM_CONTENT_TYPE,
                "object_id": program_id,
                "price": prices[-1] * 3,
                "description": f"Program {program_id}",
                "is_active": program_id == 1,
                **audit(start - timedelta(days=50)),
            }
        )
    for content_type_id, app_label, model in _CONTENT_TYPES:
        rows["django_content_type"].append(
            {"id": content_type_id, "app_label": app_label, "model": model}
        )
    for discount_id, (code, kind, redemption, amount) in enumerate(_DISCOUNTS, start=1):
        rows["ecommerce_discount"].append(
            {
                "id": discount_id,
                "discount_code": code,
                "discount_type": kind,
                "redemption_type": redemption,
                "amount": amount,
                "activation_date": start - timedelta(days=90),
                "expiration_date": None if redemption == "unlimited" else window_end,
                **audit(start - timedelta(days=91)),
            }
        )

    # -- enrollments, grades, certificates and orders -------------------------------------------
    certified: dict[int, set[int]] = {}  # user -> courses with a valid certificate
    enrolled_courses: dict[int, dict[int, str]] = {}  # user -> course -> best mode
    for enrollment in data.all_enrollments():
        user_id = user_ids[enrollment.username]
        run_id = run_ids[enrollment.course_id]
        created = _parse(enrollment.created)
        assert created is not None
        mode = "verified" if enrollment.mode == "verified" or app == "xpro" else "audit"
        order_state = None
        if mode == "verified":
            order_state = rng.choices(("fulfilled", "refunded"), weights=(92, 8))[0]
        active = enrollment.is_active and order_state != "refunded"
        change_status = None
        if order_state == "refunded":
            change_status = "refunded"
        elif not active:
            change_status = "unenrolled"
        enrollment_id = len(rows["courses_courserunenrollment"]) + 1
        rows["courses_courserunenrollment"].append(
            {
                "id": enrollment_id,
                "user_id": user_id,
                "run_id": run_id,
                "enrollment_mode": mode,
                "active": active,
                "change_status": change_status,
                "edx_enrolled": True,
                **audit(created, created + timedelta(minutes=rng.randint(0, 600))),
            }
        )
        course_id = run_course[run_id]
        best = enrolled_courses.setdefault(user_id, {})
        if best.get(course_id) != "verified":
            best[course_id] = mode

        if order_state is not None:
            product_id, price = product_of_run[run_id]
            discount = rng.choice(rows["ecommerce_discount"]) if rng.random() < 0.2 else None
            paid = price
            if discount is not None:
                if discount["discount_type"] == "percent-off":
                    paid = round(price * (1 - discount["amount"] / 100), 2)
                else:
                    paid = max(0.0, price - discount["amount"])
            ordered = created - timedelta(minutes=rng.randint(1, 30))
            order_id = len(rows["ecommerce_order"]) + 1
            rows["ecommerce_order"].append(
                {
                    "id": order_id,
                    "purchaser_id": user_id,
                    "state": order_state,
                    "total_price_paid": paid,
                    "reference_number": f"{app}-production-{order_id}",
                    **audit(ordered, ordered + timedelta(days=rng.randint(0, 20))),
                }
            )
            rows["ecommerce_line"].append(
                {
                    "id": order_id,
                    "order_id": order_id,
                    "product_id": product_id,
                    "quantity": 1,
                    "unit_price": price,
                    "total_price": paid,
                    **audit(ordered),
                }
            )
            if discount is not None:
                rows["ecommerce_discountredemption"].append(
                    {
                        "id": len(rows["ecommerce_discountredemption"]) + 1,
                        "redeemed_discount_id": discount["id"],
                        "redeemed_order_id": order_id,
                        "redeemed_by_id": user_id,
                        "redemption_date": ordered,
                    }
                )
        elif rng.random() < 0.08:
            # Checkout started and abandoned: an order that never completed.
            product_id, price = product_of_run[run_id]
            ordered = created + timedelta(hours=rng.randint(1, 48))
            order_id = len(rows["ecommerce_order"]) + 1
            state = rng.choice(("pending", "canceled"))
            rows["ecommerce_order"].append(
                {
                    "id": order_id,
                    "purchaser_id": user_id,
                    "state": state,
                    "total_price_paid": 0.0,
                    "reference_number": f"{app}-production-{order_id}",
                    **audit(ordered),
                }
            )
            rows["ecommerce_line"].append(
                {
                    "id": order_id,
                    "order_id": order_id,
                    "product_id": product_id,
                    "quantity": 1,
                    "unit_price": price,
                    "total_price": price,
                    **audit(ordered),
                }
            )

        run_start = rows["courses_courserun"][run_id - 1]["start_date"]
        if run_start >= window_end or rng.random() > 0.65:
            continue  # not started within the window, or not graded yet
        grade = round(rng.random() ** 0.7, 2)
        passed = grade >= 0.5
        graded_at = max(created, run_start) + timedelta(days=rng.randint(7, 60))
        rows["courses_courserungrade"].append(
            {
                "id": len(rows["courses_courserungrade"]) + 1,
                "user_id": user_id,
                "course_run_id": run_id,
                "grade": grade,
                "letter_grade": _letter(grade) if rng.random() < 0.9 else None,
                "passed": passed,
                "set_by_admin": rng.random() < 0.02,
                **audit(graded_at, graded_at + timedelta(days=rng.randint(0, 5))),
            }
        )
        if passed and mode == "verified" and active:
            revoked = rng.random() < 0.04
            rows["courses_courseruncertificate"].append(
                {
                    "id": len(rows["courses_courseruncertificate"]) + 1,
                    "user_id": user_id,
                    "course_run_id": run_id,
                    "uuid": _uuid(rng),
                    "is_revoked": revoked,
                    **audit(graded_at + timedelta(days=1)),
                }
            )
            if not revoked:
                certified.setdefault(user_id, set()).add(course_id)

    # -- program enrollments and certificates --------------------------------------------------
    program_courses: dict[int, set[int]] = {}
    for course_id, member_of in program_of.items():
        if member_of is not None:
            program_courses.setdefault(member_of, set()).add(course_id)
    for user_id in sorted(enrolled_courses):
        for program_id, members in sorted(program_courses.items()):
            modes = [m for c, m in enrolled_courses[user_id].items() if c in members]
            if not modes or rng.random() > 0.75:
                continue
            enrolled_at = start + timedelta(days=rng.randint(0, 10), hours=rng.randint(0, 23))
            rows["courses_programenrollment"].append(
                {
                    "id": len(rows["courses_programenrollment"]) + 1,
                    "user_id": user_id,
                    "program_id": program_id,
                    "enrollment_mode": "verified" if "verified" in modes else "audit",
                    "active": True,
                    "change_status": None,
                    **audit(enrolled_at),
                }
            )
            if members <= certified.get(user_id, set()):
                rows["courses_programcertificate"].append(
                    {
                        "id": len(rows["courses_programcertificate"]) + 1,
                        "user_id": user_id,
                        "program_id": program_id,
                        "uuid": _uuid(rng),
                        "is_revoked": False,
                        **audit(window_end - timedelta(days=1)),
                    }
                )

    # -- financial assistance (available, selected by no connection at first) ------------------
    for user_id in sorted(enrolled_courses):
        if rng.random() > 0.1:
            continue
        asked = start + timedelta(days=rng.randint(0, 10))
        rows["flexiblepricing_flexibleprice"].append(
            {
                "id": len(rows["flexiblepricing_flexibleprice"]) + 1,
                "user_id": user_id,
                "status": rng.choice(("approved", "approved", "denied", "pending")),
                "income_usd": float(rng.randrange(5_000, 90_000, 500)),
                "country_of_income": rng.choice(("US", "IN", "BR", "NG", "MX")),
                **audit(asked, asked + timedelta(days=rng.randint(0, 7))),
            }
        )
    return AppTables(app, rows, nulled)
