with
    source as (select * from {{ lake_source_or_empty('platform', 'dagster_asset_checks') }}),

    renamed as (
        select
            cast(asset_key as varchar) as asset_key,
            cast(check_name as varchar) as check_name,
            cast(passed as boolean) as check_passed,
            cast(severity as varchar) as check_severity,
            cast(run_id as varchar) as run_id,
            cast(partition_key as varchar) as partition_key,
            {{ cast_timestamp('evaluated_at') }} as check_evaluated_at,
            cast(is_dbt_test as boolean) as is_dbt_test,
            cast(failed_row_count as bigint) as failed_row_count,
            cast(overdue_seconds as double) as overdue_seconds,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
