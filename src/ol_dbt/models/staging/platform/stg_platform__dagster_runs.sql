with
    source as (select * from {{ lake_source_or_empty('platform', 'dagster_runs') }}),

    renamed as (
        select
            cast(run_id as varchar) as run_id,
            cast(coalesce(root_run_id, run_id) as varchar) as root_run_id,
            cast(parent_run_id as varchar) as parent_run_id,
            cast(location as varchar) as code_location,
            cast(job_name as varchar) as job_name,
            cast(partition_key as varchar) as partition_key,
            cast(run_status as varchar) as run_status,
            cast(retry_number as bigint) as retry_number,
            {{ cast_timestamp('created_at') }} as run_created_at,
            {{ cast_timestamp('started_at') }} as run_started_at,
            {{ cast_timestamp('ended_at') }} as run_ended_at,
            cast(duration_seconds as double) as run_duration_seconds,
            cast(failed_step_key as varchar) as failed_step_key,
            cast(error_class as varchar) as error_class,
            cast(error_type as varchar) as error_type,
            cast(error_message as varchar) as error_message,
            cast(will_retry as boolean) as will_retry,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
