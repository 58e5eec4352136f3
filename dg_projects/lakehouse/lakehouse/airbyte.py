"""Airbyte connections as assets, built from a prepared workspace state (never the network).

`AirbyteConnections` is the YAML component of `defs/airbyte/`: a Dagster `StateBackedComponent`
whose state is dagster-airbyte's `AirbyteWorkspaceData` (connections, their selected streams, the
destination), fetched by `write_state_to_path` when the state is refreshed (`ol-platform prepare`,
`ol-platform materialize`, `dg utils refresh-defs-state`) and read from the project's local defs
state when the location loads. Loading never calls Airbyte, so the location loads with no network
and no credentials; with no state for the environment it has no Airbyte assets.

Every selected stream of a connection is an asset keyed `[ol_warehouse_raw_data, <prefix><stream>]`
(the warehouse schema and table the dbt sources read) in the group named after the source half of
the connection's name (Airbyte names connections `<source> → <destination>`, U+2192); one
multi-asset per connection runs its sync. Each group gets a job (its tables and the staging models
reading them) and a schedule on the platform's conventions (STOPPED in dev/ci), and each table a
freshness check from its cadence.

A run joins a sync that is already running for the connection (Airbyte schedules syncs too) rather
than failing or starting a second one, never cancels a sync it did not start, and fails with
Airbyte's own failure message.
"""

# No `from __future__ import annotations`: Dagster reads the sync function's annotations (the
# `airbyte` resource) at definition time.
import re
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import requests
from dagster._utils.names import clean_name
from dagster.components.component.state_backed_component import StateBackedComponent
from dagster.components.utils.defs_state import DefsStateConfig
from dagster_airbyte import (
    AirbyteConnectionTableProps,
    AirbyteJobStatusType,
    DagsterAirbyteTranslator,
)
from dagster_airbyte.resources import AirbyteClient, BaseAirbyteWorkspace
from dagster_airbyte.translator import (
    AirbyteConnection,
    AirbyteJob,
    AirbyteMetadataSet,
    AirbyteWorkspaceData,
)
from dagster_airbyte.types import AirbyteOutput
from dagster_airbyte.utils import (
    DAGSTER_AIRBYTE_TRANSLATOR_METADATA_KEY,
    get_translator_from_airbyte_assets,
)
from dagster_shared.serdes.objects.models.defs_state_info import DefsStateManagementType
from pydantic import Field
from upath import UPath

from ol_orchestrate.io_managers import CONTENT_HASH_METADATA_KEY, folder_content_hash
from ol_orchestrate.lib.automation import (
    AIRBYTE_RAW_PREFIX,
    Cadence,
    default_schedule_status,
)
from ol_orchestrate.lib.definitions import platform_secrets
from ol_orchestrate.lib.environment import PlatformSettings, get_settings
from ol_orchestrate.resources.secrets import SecretsResource

# Columns Airbyte adds to every record (ids, extraction time, sync metadata): new at every sync.
AIRBYTE_COLUMN_PREFIX = "_airbyte_"
# Airbyte separates a connection's source and destination with a right arrow.
CONNECTION_ARROW = "\u2192"
RESOURCE_KEY = "airbyte"
STATE_KEY = "airbyte_connections"
JOB_PREFIX = "sync_and_stage_"
_RUNNING = (
    AirbyteJobStatusType.RUNNING,
    AirbyteJobStatusType.PENDING,
    AirbyteJobStatusType.INCOMPLETE,
)
_FAILED = (AirbyteJobStatusType.ERROR, AirbyteJobStatusType.FAILED)
_TERMINAL = (AirbyteJobStatusType.SUCCEEDED, AirbyteJobStatusType.CANCELLED, *_FAILED)


def connection_group(connection_name: str) -> str:
    """The group of a connection's assets: its source half, as an identifier
    (`MITx Online Production App DB → S3 Data Lake` -> `mitx_online_production_app_db`)."""
    source = connection_name.split(CONNECTION_ARROW)[0]
    group = re.sub(r"[^a-z0-9_]", "", re.sub(r"[-\s]+", "_", source.strip().lower()))
    return group.strip("_") or "airbyte"


class AirbyteSyncFailure(dg.Failure):
    """An Airbyte sync ended failed or cancelled; the description is Airbyte's own message."""


class OlAirbyteTranslator(DagsterAirbyteTranslator):
    """Airbyte tables -> platform assets: the warehouse's raw key, the connection's source as the
    group, a description, and the cadence the table's freshness check is built from."""

    def __init__(self, key_prefix: str, cadences: Mapping[str, Cadence], default: Cadence) -> None:
        self.key_prefix = key_prefix
        self.cadences = dict(cadences)
        self.default = default

    def get_asset_spec(self, props: AirbyteConnectionTableProps) -> dg.AssetSpec:
        spec = super().get_asset_spec(props)
        group = connection_group(props.connection_name)
        cadence = self.cadences.get(group, self.default)
        source = props.connection_name.split(CONNECTION_ARROW)[0].strip()
        return spec.replace_attributes(
            key=spec.key.with_prefix(self.key_prefix),
            group_name=group,
            description=(
                f"The `{props.stream_name}` table of {source}, replicated by the Airbyte "
                f"connection “{props.connection_name}” into the lake as `{props.table_name}` "
                "(Parquet with Airbyte's `_airbyte_*` columns)."
            ),
        ).merge_attributes(metadata=cadence.metadata())


class _SyncAlreadyRunningError(Exception):
    """Airbyte answered 409: the connection has a sync running."""


class OlAirbyteClient(AirbyteClient):
    """dagster-airbyte's client, with the platform's sync semantics (see the module docstring)."""

    def _running_jobs(self, connection_id: str) -> list[AirbyteJob]:
        jobs = self.get_jobs_for_connection(
            connection_id, created_after=datetime.now(UTC) - timedelta(days=2)
        )
        return [job for job in jobs if job.status in _RUNNING]

    def _start_job(self, connection_id: str) -> Mapping[str, Any]:
        """POST /jobs; a 409 (a sync is already running) is not retried but reported."""
        url = f"{self.rest_api_base_url}/jobs"
        body = {"connectionId": connection_id, "jobType": "sync"}
        for attempt in range(self.request_max_retries + 1):
            try:
                response = self._get_session(include_additional_request_headers=True).post(
                    url, json=body, timeout=self.request_timeout
                )
            except requests.RequestException as error:
                if attempt >= self.request_max_retries:
                    raise dg.Failure(f"Airbyte did not answer {url}: {error}") from error
            else:
                if response.status_code == 409:
                    raise _SyncAlreadyRunningError(response.text)
                if response.status_code < 500 or attempt >= self.request_max_retries:
                    response.raise_for_status()
                    return response.json()
            time.sleep(self.request_retry_delay)
        raise AssertionError("unreachable")

    def failure_message(self, job_id: int) -> str:
        """Airbyte's failure summary of a job's last attempt (configuration API `jobs/get`)."""
        try:
            info = self._single_request(
                method="POST",
                url=f"{self.configuration_api_base_url}/jobs/get",
                data={"id": job_id},
            )
        except dg.Failure:
            return "Airbyte reported no failure reason"
        attempts = info.get("attempts") or [{}]
        attempt = attempts[-1].get("attempt") or attempts[-1]
        failures = (attempt.get("failureSummary") or {}).get("failures") or []
        messages = [
            f"{failure.get('externalMessage') or failure.get('internalMessage')} "
            f"(origin: {failure.get('failureOrigin', 'unknown')})"
            for failure in failures
        ]
        return "; ".join(messages) or "Airbyte reported no failure reason"

    def stream_stats(self, job_id: int) -> dict[str, int]:
        """Records written per destination table by a job (empty when Airbyte gives none)."""
        try:
            info = self._single_request(
                method="POST",
                url=f"{self.configuration_api_base_url}/jobs/get",
                data={"id": job_id},
            )
        except dg.Failure:
            return {}
        attempts = info.get("attempts") or [{}]
        attempt = attempts[-1].get("attempt") or attempts[-1]
        return {
            stat["streamName"]: int((stat.get("stats") or {}).get("recordsEmitted") or 0)
            for stat in attempt.get("streamStats") or []
        }

    def sync_and_poll(self, connection_id: str) -> AirbyteOutput:
        connection_details = self.get_connection_details(connection_id)
        name = connection_details.get("name", connection_id)
        started_here = False
        running = self._running_jobs(connection_id)
        if not running:
            try:
                job = AirbyteJob.from_job_details(self._start_job(connection_id))
                started_here = True
                self._log.info(f"Airbyte job {job.id} started for {name}.")
            except _SyncAlreadyRunningError:
                running = self._running_jobs(connection_id)  # it started in between
                if not running:
                    raise
        if not started_here:
            job = max(running, key=lambda candidate: candidate.id)
            self._log.info(
                f"Airbyte job {job.id} is already syncing {name}: joining it instead of starting "
                "another."
            )
        poll_start = time.monotonic()
        job_details: Mapping[str, Any] = {}
        try:
            while True:
                if self.poll_timeout and time.monotonic() - poll_start > self.poll_timeout:
                    raise dg.Failure(
                        f"Airbyte job {job.id} ({name}) was not done after {self.poll_timeout}s"
                    )
                time.sleep(self.poll_interval)
                job_details = self.get_job_details(job.id)
                job = AirbyteJob.from_job_details(job_details)
                if job.status in _RUNNING:
                    continue
                if job.status == AirbyteJobStatusType.SUCCEEDED:
                    break
                if job.status in _FAILED:
                    message = self.failure_message(job.id)
                    raise AirbyteSyncFailure(
                        description=f"Airbyte sync of {name} failed (job {job.id}): {message}",
                        metadata={"airbyte_job_id": job.id, "airbyte_message": message},
                    )
                if job.status == AirbyteJobStatusType.CANCELLED:
                    raise AirbyteSyncFailure(
                        description=f"Airbyte sync of {name} was cancelled (job {job.id})",
                        metadata={"airbyte_job_id": job.id},
                    )
                raise dg.Failure(f"Airbyte job {job.id} ({name}) is in state {job.status!r}")
        finally:
            # Cancel only a sync this run started: a joined one belongs to whoever started it.
            if started_here and self.cancel_on_termination and job.status not in _TERMINAL:
                self.cancel_job(job.id)
        return AirbyteOutput(job_details=dict(job_details), connection_details=connection_details)


class OlAirbyteWorkspace(BaseAirbyteWorkspace):
    """The `airbyte` resource: the Airbyte API of this environment, its credentials read from the
    platform's secrets (`client_id`/`client_secret` or `username`/`password`, and `workspace_id`
    under `secret_path`) when a run or a state refresh first needs them, never at load time."""

    rest_api_base_url: str = Field(description="Airbyte's public API, `<host>/api/public/v1`")
    configuration_api_base_url: str = Field(description="The configuration API, `<host>/api/v1`")
    secrets: SecretsResource
    secret_path: str = Field(description="The API credentials and workspace id (Vault path)")
    destination_root: str | None = Field(
        default=None,
        description=(
            "The folder (local or s3://) holding the destination's tables as Parquet files, "
            "`<root>/<schema>/<table>/`: each synced table's materialization then carries a "
            "digest of its rows without Airbyte's `_airbyte_*` columns (`ol/content_hash`), so "
            "a sync that brought no new data rebuilds nothing downstream. None: no digest."
        ),
    )

    def _credentials(self) -> Mapping[str, str]:
        return self.secrets.get_secret(self.secret_path)

    def get_client(self) -> OlAirbyteClient:
        credentials = self._credentials()
        with _beta_api():
            return self._build_client(credentials)

    def _build_client(self, credentials: Mapping[str, str]) -> OlAirbyteClient:
        return OlAirbyteClient(
            rest_api_base_url=self.rest_api_base_url,
            configuration_api_base_url=self.configuration_api_base_url,
            workspace_id=credentials["workspace_id"],
            client_id=credentials.get("client_id"),
            client_secret=credentials.get("client_secret"),
            username=credentials.get("username"),
            password=credentials.get("password"),
            request_max_retries=self.request_max_retries,
            request_retry_delay=self.request_retry_delay,
            request_timeout=self.request_timeout,
            max_items_per_page=self.max_items_per_page,
            poll_interval=self.poll_interval,
            poll_timeout=self.poll_timeout,
            cancel_on_termination=self.cancel_on_termination,
            poll_previous_running_sync=True,
        )

    def sync_and_poll(self, context: dg.AssetExecutionContext) -> Iterator[Any]:
        """Sync the connection of `context`'s assets; a materialization per synced table.

        Airbyte syncs a connection's every selected stream whatever subset was asked for: a
        table this location knows but did not select is reported as a materialization too; a
        stream added since the state was prepared has no asset yet and is only logged.
        """
        assets_def = context.assets_def
        translator = get_translator_from_airbyte_assets(assets_def)
        connection_id = next(
            str(AirbyteMetadataSet.extract(spec.metadata).connection_id)
            for spec in assets_def.specs
        )
        client = self.get_client()
        output = client.sync_and_poll(connection_id)
        job_id = output.job_details.get("jobId")
        rows = client.stream_stats(int(job_id)) if job_id is not None else {}
        known = {spec.key for spec in assets_def.specs}
        for materialization in self._generate_materialization(output, translator):
            key = materialization.asset_key
            table = key.path[-1]
            metadata = {**materialization.metadata, "airbyte_job_id": job_id}
            if table in rows:
                metadata["dagster/row_count"] = rows[table]
            digest = self._content_hash(context, key)
            if digest is not None:
                metadata[CONTENT_HASH_METADATA_KEY] = dg.MetadataValue.text(digest)
            if key in context.selected_asset_keys:
                yield dg.MaterializeResult(asset_key=key, metadata=metadata)
            elif key in known:
                yield dg.AssetMaterialization(asset_key=key, metadata=metadata)
            else:
                context.log.warning(
                    f"Airbyte synced {table}, which has no asset yet: the connection gained a "
                    "stream after the Airbyte state was prepared (`uv run ol-platform prepare` "
                    "refreshes it)."
                )

    def _content_hash(self, context: dg.AssetExecutionContext, key: dg.AssetKey) -> str | None:
        """The synced table's data digest, or None (no destination folder configured, or it
        cannot be read: the table then counts as changed downstream, as any new sync did)."""
        if self.destination_root is None:
            return None
        folder = UPath(self.destination_root).joinpath(*key.path)
        try:
            return folder_content_hash(folder, ignored_prefix=AIRBYTE_COLUMN_PREFIX)
        except (OSError, ValueError, duckdb.Error) as error:
            context.log.warning(f"No content digest for {key.to_user_string()}: {error}")
            return None


class AirbyteConnections(StateBackedComponent, dg.Model, dg.Resolvable):
    """The Airbyte connections landing tables in the lake, as assets (see the module docstring)."""

    hosts: dict[str, str] = Field(
        default_factory=dict,
        description="Airbyte's API server per deployed environment (dev/ci: the sandbox)",
    )
    secret_path: str = Field(
        default="airbyte/api",
        description="client_id/client_secret (or username/password) and workspace_id",
    )
    key_prefix: str = Field(
        default=AIRBYTE_RAW_PREFIX, description="Prefix of every table's key: the raw schema"
    )
    destination_name: str = Field(
        default="S3 Data Lake",
        description="Only connections to this destination (`<source> → <destination_name>`)",
    )
    schedule: str = Field(default="0 6 * * *", description="Default sync cron of a connection")
    schedules: dict[str, str] = Field(
        default_factory=dict, description="Sync cron per group (the connection's source)"
    )
    max_lag_hours: int = Field(
        default=3, description="A table is overdue this long after its sync's scheduled time"
    )
    poll_interval_seconds: float = Field(default=10.0, description="Job polling, deployed")

    # -- state ---------------------------------------------------------------------------------

    @property
    def defs_state_config(self) -> DefsStateConfig:
        """One state per kind of environment (the sandbox's workspace for dev and ci), in the
        project's local defs state; never refreshed while loading, even under `dagster dev`."""
        settings = get_settings()
        family = "local" if settings.is_local else settings.environment.value
        return DefsStateConfig(
            key=f"{STATE_KEY}.{family}",
            management_type=DefsStateManagementType.LOCAL_FILESYSTEM,
            refresh_if_dev=False,
        )

    def workspace(self, settings: PlatformSettings | None = None) -> OlAirbyteWorkspace:
        settings = settings or get_settings()
        base = settings.source_base_url("airbyte", self.hosts, "airbyte")
        with _beta_api():
            return self._workspace(base, settings)

    def _workspace(self, base: str, settings: PlatformSettings) -> OlAirbyteWorkspace:
        return OlAirbyteWorkspace(
            rest_api_base_url=f"{base}/api/public/v1",
            configuration_api_base_url=f"{base}/api/v1",
            secrets=platform_secrets(settings),
            secret_path=settings.secret_path(self.secret_path),
            # Locally the dbt sources read the destination's Parquet folders under the lake's
            # raw/ (their external_location); deployed, Trino's catalog tables, whose files
            # are the catalog's business: no digest there.
            destination_root=f"{settings.lake_root}/raw" if settings.is_local else None,
            poll_interval=0.2 if settings.is_local else self.poll_interval_seconds,
            request_timeout=60,
        )

    def fetch_state(self, settings: PlatformSettings | None = None) -> AirbyteWorkspaceData:
        """The workspace's connections and destinations, from Airbyte's API."""
        return self.workspace(settings).fetch_airbyte_workspace_data()

    def write_state_to_path(self, state_path: Path) -> None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        text = dg.serialize_value(self.fetch_state())
        # An unchanged workspace leaves the file alone; a change replaces it atomically.
        if state_path.is_file() and state_path.read_text(encoding="utf-8") == text:
            return
        partial = state_path.with_name(f".{state_path.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(state_path)

    # -- definitions ---------------------------------------------------------------------------

    @cached_property
    def translator(self) -> OlAirbyteTranslator:
        max_lag = timedelta(hours=self.max_lag_hours)
        return OlAirbyteTranslator(
            self.key_prefix,
            {group: Cadence(cron, max_lag) for group, cron in self.schedules.items()},
            Cadence(self.schedule, max_lag),
        )

    def selects(self, connection: AirbyteConnection) -> bool:
        destination = connection.name.split(CONNECTION_ARROW)[-1].strip()
        return CONNECTION_ARROW in connection.name and destination == self.destination_name

    def build_defs_from_state(
        self, context: dg.ComponentLoadContext, state_path: Path | None
    ) -> dg.Definitions:
        if state_path is None:
            return dg.Definitions(resources={RESOURCE_KEY: self.workspace()})
        state = dg.deserialize_value(state_path.read_text(encoding="utf-8"), AirbyteWorkspaceData)
        return self.defs_from_state(state)

    def defs_from_state(
        self, state: AirbyteWorkspaceData, settings: PlatformSettings | None = None
    ) -> dg.Definitions:
        """One multi-asset per selected connection, a job and schedule per group, the resource."""
        settings = settings or get_settings()
        specs_by_connection: dict[str, list[dg.AssetSpec]] = defaultdict(list)
        for props in state.to_airbyte_connection_table_props_data():
            if not self.selects(state.connections_by_id[props.connection_id]):
                continue
            spec = self.translator.get_asset_spec(props).merge_attributes(
                metadata={DAGSTER_AIRBYTE_TRANSLATOR_METADATA_KEY: self.translator}
            )
            specs_by_connection[props.connection_name].append(spec)
        assets = [
            _connection_assets(name, specs) for name, specs in sorted(specs_by_connection.items())
        ]
        jobs, schedules = [], []
        for group in sorted({connection_group(name) for name in specs_by_connection}):
            job = dg.define_asset_job(
                f"{JOB_PREFIX}{group}",
                selection=dg.AssetSelection.groups(group)
                .downstream(depth=1, include_self=True)
                .required_multi_asset_neighbors(),
                description=(
                    f"Airbyte sync of {group} and the dbt staging models reading its tables "
                    "(later models follow their upstream)."
                ),
            )
            jobs.append(job)
            schedules.append(
                dg.ScheduleDefinition(
                    name=f"{JOB_PREFIX}{group}_schedule",
                    job=job,
                    cron_schedule=self.schedules.get(group, self.schedule),
                    execution_timezone="UTC",
                    default_status=default_schedule_status(settings),
                )
            )
        return dg.Definitions(
            assets=assets,
            jobs=jobs,
            schedules=schedules,
            resources={RESOURCE_KEY: self.workspace(settings)},
        )


@contextmanager
def _beta_api() -> Iterator[None]:
    """dagster-airbyte's workspace and client are marked beta; the platform pins its version."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.BetaWarning)
        yield


def _connection_assets(connection_name: str, specs: Sequence[dg.AssetSpec]) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"airbyte_{clean_name(connection_name)}",
        specs=specs,
        can_subset=True,
        description=f"Sync of the Airbyte connection “{connection_name}”.",
    )
    def _sync(context: dg.AssetExecutionContext, airbyte: OlAirbyteWorkspace) -> Iterator[Any]:
        yield from airbyte.sync_and_poll(context)

    return _sync
