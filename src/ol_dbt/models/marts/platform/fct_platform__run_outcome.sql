-- One row per Dagster run of the latest platform-health snapshot: its outcome, which attempt it
-- was, timing and, for failures, the failed step, the error class (code error or worker
-- interruption), type and first line. A failed run that was retried is `retried`, not `failed`:
-- only a failed last attempt counts as a failure (as the alerts report it). Every column is cast
-- to its contract type so DuckDB and Trino agree.
with
    runs as (select * from {{ ref('stg_platform__dagster_runs') }}),

    retried_runs as (
        select distinct parent_run_id as run_id from runs where parent_run_id is not null
    ),

    outcomes as (
        select
            runs.*,
            retried_runs.run_id is null as is_final_attempt,
            case
                when runs.run_status = 'SUCCESS'
                then 'succeeded'
                when
                    runs.run_status = 'FAILURE'
                    and (retried_runs.run_id is not null or runs.will_retry)
                then 'retried'
                when runs.run_status = 'FAILURE'
                then 'failed'
                when runs.run_status in ('CANCELED', 'CANCELING')
                then 'canceled'
                else 'in_progress'
            end as run_outcome
        from runs
        left join retried_runs on runs.run_id = retried_runs.run_id
    ),

    final as (
        select
            cast(run_id as varchar) as run_id,
            cast(root_run_id as varchar) as root_run_id,
            cast(code_location as varchar) as code_location,
            cast(job_name as varchar) as job_name,
            cast(partition_key as varchar) as partition_key,
            cast(run_status as varchar) as run_status,
            cast(run_outcome as varchar) as run_outcome,
            cast(retry_number + 1 as bigint) as attempt_number,
            cast(is_final_attempt as boolean) as is_final_attempt,
            cast(cast(run_created_at as date) as date) as run_date,
            cast(run_created_at as timestamp(6)) as run_created_at,
            cast(run_started_at as timestamp(6)) as run_started_at,
            cast(run_ended_at as timestamp(6)) as run_ended_at,
            cast(run_duration_seconds as double) as run_duration_seconds,
            cast(failed_step_key as varchar) as failed_step_key,
            cast(error_class as varchar) as error_class,
            cast(error_type as varchar) as error_type,
            cast(error_message as varchar) as error_message,
            cast(retrieved_at as timestamp(6)) as snapshot_at
        from outcomes
    )

select *
from final
