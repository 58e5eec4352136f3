with
    source as (select * from {{ lake_source_or_empty('platform', 'dagster_assets') }}),

    renamed as (
        select
            cast(asset_key as varchar) as asset_key,
            cast(source_system as varchar) as source_system,
            cast(asset_layer as varchar) as asset_layer,
            cast(asset_name as varchar) as asset_name,
            {{ cast_timestamp('last_materialized_at') }} as last_materialized_at,
            cast(last_materialization_run_id as varchar) as last_materialization_run_id,
            {{ cast_timestamp('last_failed_at') }} as last_failed_at,
            {{ cast_timestamp('freshness_checked_at') }} as freshness_checked_at,
            cast(freshness_passed as boolean) as freshness_passed,
            cast(overdue_seconds as double) as overdue_seconds,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
