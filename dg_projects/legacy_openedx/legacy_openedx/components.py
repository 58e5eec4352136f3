"""`LegacyOpenEdxDeployment`: one Open edX LMS database as a YAML component.

Each deployment is one `defs/deployments/<name>/defs.yaml`: its database, LMS, Studio and
forum service per deployed environment, the Vault role of its dynamic credentials, its results
bucket and its healthcheck. The component builds the deployment's raw LMS tables (one
multi-asset, one snapshot), the day's OLX course exports and forum posts, its IRx bundle, a
daily-partitioned job with its schedule, a sensor that re-requests the latest day when its run
failed or its files were lost (or, locally, when it has not run), and the resources: the
database (`legacy_openedx_<name>_database`), Studio (`_studio`), the forum (`_forum`), the
results bucket and the healthcheck. Adding a deployment is adding one such file.

dev/ci read the SQLite LMS database the sandbox writes in the landing area
(`landing/legacy_openedx/<name>/edxapp.sqlite`), the sandbox's Studio (`/studio/<name>`, also
the LMS token endpoint) and forum (`/forum/<name>`), and deliver bundles to
`<data dir>/irx_results`; `LEGACY_OPENEDX_<NAME>_DATABASE_BASE_URL` (a SQLAlchemy URL without
credentials), `..._STUDIO_BASE_URL`, `..._LMS_BASE_URL` and `..._FORUM_BASE_URL` point any
environment at other hosts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from legacy_openedx.bundle import ResultsBucket, build_irx_bundle_asset, results_bucket_url
from legacy_openedx.course_exports import (
    build_course_exports_asset,
    course_exports_key,
    studio_resource_key,
)
from legacy_openedx.extraction import (
    build_lms_tables_asset,
    database_resource_key,
    group_name,
    healthcheck_resource_key,
    table_key,
)
from legacy_openedx.forum import build_forum_posts_asset, forum_posts_key, forum_resource_key
from legacy_openedx.tables import COURSEWARE_STUDENTMODULE, FORUM_POSTS, LMS_TABLES
from ol_orchestrate.lib.automation import Cadence, default_schedule_status, default_sensor_status
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import (
    MissingSourceConfigError,
    PlatformSettings,
    get_settings,
)
from ol_orchestrate.lib.partition_health import assess_partitions, healing_run_key
from ol_orchestrate.resources.healthchecks import HealthcheckResource
from ol_orchestrate.resources.openedx_forum import ForumApiResource
from ol_orchestrate.resources.openedx_studio import TOKEN_PATH, OpenEdxStudioResource
from ol_orchestrate.resources.sql_database import SqlDatabaseResource

# The schedule requests each day; the freshness check fails a table not refreshed for 30 hours.
LEGACY_DAILY = Cadence(cron=None, max_lag=timedelta(hours=30))
SQLITE_NAME = "edxapp.sqlite"
SENSOR_INTERVAL_SECONDS = 3600
# A missing day is the schedule's to run; the sensor steps in when it has not, this long after.
SCHEDULE_GRACE = timedelta(hours=1)


def results_bucket_key(deployment: str) -> str:
    return f"legacy_openedx_{deployment}_results"


def sandbox_database_path(settings: PlatformSettings, deployment: str) -> Path:
    """Where the sandbox writes the deployment's SQLite LMS database (dev/ci)."""
    return Path(settings.lake_root) / "landing" / "legacy_openedx" / deployment / SQLITE_NAME


def database_url(settings: PlatformSettings, deployment: str, hosts: dict[str, str]) -> str:
    """The deployment's database for this environment (a SQLAlchemy URL without credentials)."""
    override = settings.base_url_overrides.get(f"legacy_openedx_{deployment}_database")
    if override:
        return override
    if settings.is_local:
        return f"sqlite:///{sandbox_database_path(settings, deployment)}"
    url = hosts.get(settings.environment.value)
    if not url:
        msg = (
            f"legacy_openedx {deployment}: no database configured for DAGSTER_ENV="
            f"{settings.environment.value} (configured: {', '.join(sorted(hosts)) or 'none'}); "
            f"add it to database_urls or set LEGACY_OPENEDX_{deployment.upper()}_DATABASE_BASE_URL"
        )
        raise MissingSourceConfigError(msg)
    return url


class LegacyOpenEdxDeployment(dg.Component, dg.Model, dg.Resolvable):
    """The LMS database extraction and IRx bundle of one Open edX deployment."""

    deployment: str = Field(description="Short name: keys read legacy_openedx/raw/<name>_<table>")
    database_urls: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "The LMS database per deployed environment (qa, production) as a SQLAlchemy URL "
            "without credentials, e.g. mysql+pymysql://<host>:3306/edxapp"
        ),
    )
    credentials_mount: str = Field(
        default="", description="Vault database secrets mount (default mariadb-<name>)"
    )
    credentials_role: str = Field(default="readonly", description="Vault database role")
    results_bucket: dict[str, str] = Field(
        default_factory=dict, description="The IRx results bucket per deployed environment"
    )
    healthcheck_secret_path: str = Field(
        default="",
        description="Secret with the check's ping_url (default healthchecks/legacy_openedx/<name>)",
    )
    lms_urls: dict[str, str] = Field(
        default_factory=dict,
        description="The LMS per deployed environment (its oauth2/access_token issues the JWT)",
    )
    studio_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Studio per deployed environment (the course export API)",
    )
    studio_secret_path: str = Field(
        default="",
        description="Secret with Studio's OAuth2 client_id/client_secret (default "
        "openedx/<name>/oauth; a staff client)",
    )
    forum_urls: dict[str, str] = Field(
        default_factory=dict,
        description="The forum service (cs_comments_service) per deployed environment",
    )
    forum_secret_path: str = Field(
        default="", description="Secret with the forum service's api_key (default forum/<name>/api)"
    )
    export_timeout_seconds: float = Field(
        default=1800.0, description="How long the day's OLX exports may take, in all"
    )
    export_poll_interval_seconds: float = Field(
        default=15.0, description="The longest wait between two polls of the export tasks"
    )
    refresh_hour_utc: int = Field(default=6, description="When the daily extraction runs (UTC)")
    start_date: str = Field(default="2026-01-01", description="The first daily partition")
    statement_timeout_seconds: float = Field(default=900.0)
    chunk_size: int = Field(default=10_000)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        settings = get_settings()
        name = self.deployment
        partitions = dg.DailyPartitionsDefinition(start_date=self.start_date, timezone="UTC")
        lms_tables = build_lms_tables_asset(name, partitions, LEGACY_DAILY)
        course_exports = build_course_exports_asset(name, partitions, LEGACY_DAILY)
        forum_posts = build_forum_posts_asset(name, partitions, LEGACY_DAILY)
        bundle = build_irx_bundle_asset(
            name,
            partitions,
            [
                *(table_key(name, table.name) for table in LMS_TABLES),
                course_exports_key(name),
                forum_posts_key(name),
            ],
            tables=[*(table.name for table in LMS_TABLES), FORUM_POSTS.name],
            incremental=COURSEWARE_STUDENTMODULE.name,
            bucket_key=results_bucket_key(name),
            healthcheck_key=healthcheck_resource_key(name),
            group=group_name(name),
        )
        job = dg.define_asset_job(
            f"legacy_openedx_{name}_daily",
            selection=dg.AssetSelection.groups(group_name(name)),
            partitions_def=partitions,
            description=f"The {name} LMS tables and IRx bundle of one day",
        )
        schedule = dg.build_schedule_from_partitioned_job(
            job,
            name=f"legacy_openedx_{name}_daily_schedule",
            hour_of_day=self.refresh_hour_utc,
            minute_of_hour=0,
            default_status=default_schedule_status(settings),
        )
        secrets = platform_secrets(settings)
        mount = self.credentials_mount or f"mariadb-{name}"
        database = SqlDatabaseResource(
            url=database_url(settings, name, self.database_urls),
            credentials_path=f"{mount}/creds/{self.credentials_role}",
            secrets=secrets,
            chunk_size=self.chunk_size,
            statement_timeout_seconds=self.statement_timeout_seconds,
        )
        healthcheck = HealthcheckResource(
            secrets=secrets,
            secret_path=settings.secret_path(
                self.healthcheck_secret_path or f"healthchecks/legacy_openedx/{name}"
            ),
            base_url=settings.base_url_overrides.get("healthchecks")
            or (f"{settings.sandbox_url}/healthchecks" if settings.is_local else None),
        )
        studio = OpenEdxStudioResource(
            deployment=name,
            studio_url=settings.source_base_url(
                f"legacy_openedx_{name}_studio", self.studio_urls, f"studio/{name}"
            ),
            token_url=settings.source_base_url(
                f"legacy_openedx_{name}_lms", self.lms_urls, f"studio/{name}"
            )
            + TOKEN_PATH,
            secret_path=settings.secret_path(self.studio_secret_path or f"openedx/{name}/oauth"),
            secrets=secrets,
            export_timeout_seconds=self.export_timeout_seconds,
            export_poll_interval_seconds=self.export_poll_interval_seconds,
        )
        forum = ForumApiResource(
            deployment=name,
            base_url=settings.source_base_url(
                f"legacy_openedx_{name}_forum", self.forum_urls, f"forum/{name}"
            ),
            secret_path=settings.secret_path(self.forum_secret_path or f"forum/{name}/api"),
            secrets=secrets,
        )
        bucket_url = results_bucket_url(self.results_bucket)
        bucket = ResultsBucket(
            url=bucket_url, s3=S3Resource() if bucket_url.startswith("s3://") else None
        )
        return dg.Definitions(
            assets=[lms_tables, course_exports, forum_posts, bundle],
            jobs=[job],
            schedules=[schedule],
            sensors=[self._healing_sensor(settings, job, partitions)],
            resources={
                database_resource_key(name): database,
                healthcheck_resource_key(name): healthcheck,
                studio_resource_key(name): studio,
                forum_resource_key(name): forum,
                results_bucket_key(name): bucket,
            },
        )

    def _healing_sensor(
        self,
        settings: PlatformSettings,
        job: dg.UnresolvedAssetJobDefinition,
        partitions: dg.DailyPartitionsDefinition,
    ) -> dg.SensorDefinition:
        name = self.deployment
        raw_keys = [
            *(table_key(name, table.name) for table in LMS_TABLES),
            course_exports_key(name),
            forum_posts_key(name),
        ]
        bundle_key = dg.AssetKey(["legacy_openedx", "export", f"{name}_irx_bundle"])
        hour = self.refresh_hour_utc

        @dg.sensor(
            name=f"legacy_openedx_{name}_daily_sensor",
            job=job,
            minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
            default_status=default_sensor_status(settings),
            description=(
                f"Requests the latest day of {name} when its run failed, its files were lost, or "
                "the schedule has not run it (locally: whenever it has not run)."
            ),
        )
        def daily_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
            latest = partitions.get_last_partition_key()
            if latest is None:
                return dg.SensorResult(skip_reason="no partition yet")
            lake = get_settings().lake_root
            health = assess_partitions(context.instance, raw_keys, [latest], partitions, lake)
            bundle = assess_partitions(context.instance, [bundle_key], [latest], partitions, None)
            if latest in health.in_progress or latest in bundle.in_progress:
                return dg.SensorResult(skip_reason=f"{latest} is running")
            reason = health.needs_run.get(latest) or bundle.needs_run.get(latest)
            if reason is None:
                return dg.SensorResult(skip_reason=f"{latest} is complete")
            now = datetime.now(UTC)
            scheduled = datetime.combine(now.date(), datetime.min.time(), UTC) + timedelta(
                hours=hour
            )
            if reason == "missing" and not settings.is_local and now < scheduled + SCHEDULE_GRACE:
                return dg.SensorResult(skip_reason=f"{latest}: the schedule runs it at {hour}:00")
            return dg.SensorResult(
                run_requests=[
                    dg.RunRequest(
                        partition_key=latest,
                        run_key=healing_run_key(f"legacy_openedx_{name}", latest, reason),
                        tags={"ol/heal_reason": reason},
                    )
                ]
            )

        return daily_sensor
