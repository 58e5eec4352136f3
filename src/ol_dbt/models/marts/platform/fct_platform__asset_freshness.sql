-- One row per asset the Dagster instance knows, at the latest platform-health snapshot: when it
-- was last materialized and how long before the snapshot that was, its freshness check's latest
-- result, and the latest result of each of its checks (failing checks, failing dbt tests).
-- Every column is cast to its contract type so DuckDB and Trino agree.
with
    assets as (select * from {{ ref('stg_platform__dagster_assets') }}),

    checks as (select * from {{ ref('stg_platform__dagster_asset_checks') }}),

    latest_checks as (
        select *
        from
            {{ deduplicate(
        'checks',
        partition_by=['asset_key', 'check_name'],
        order_by=['check_evaluated_at desc', 'run_id desc nulls last'],
    ) }}
    ),

    check_counts as (
        select
            asset_key,
            count(*) as check_count,
            count(case when not check_passed then 1 end) as failing_check_count,
            count(case when not check_passed and is_dbt_test then 1 end) as failing_dbt_test_count,
            max(check_evaluated_at) as last_check_evaluated_at
        from latest_checks
        group by asset_key
    ),

    final as (
        select
            cast(assets.asset_key as varchar) as asset_key,
            cast(assets.source_system as varchar) as source_system,
            cast(assets.asset_layer as varchar) as asset_layer,
            cast(assets.asset_name as varchar) as asset_name,
            cast(assets.last_materialized_at as timestamp(6)) as last_materialized_at,
            cast(assets.last_materialization_run_id as varchar) as last_materialization_run_id,
            cast(
                date_diff('second', assets.last_materialized_at, assets.retrieved_at)
                / 3600.0 as double
            ) as hours_since_materialization,
            cast(assets.last_failed_at as timestamp(6)) as last_failed_at,
            cast(
                assets.last_failed_at is not null
                and (
                    assets.last_materialized_at is null
                    or assets.last_failed_at > assets.last_materialized_at
                ) as boolean
            ) as is_last_attempt_failed,
            cast(
                case
                    when assets.freshness_passed
                    then 'fresh'
                    when not assets.freshness_passed
                    then 'overdue'
                    else 'not_checked'
                end as varchar
            ) as freshness_status,
            cast(assets.freshness_checked_at as timestamp(6)) as freshness_checked_at,
            cast(assets.overdue_seconds / 3600.0 as double) as overdue_hours,
            cast(coalesce(check_counts.check_count, 0) as bigint) as check_count,
            cast(coalesce(check_counts.failing_check_count, 0) as bigint) as failing_check_count,
            cast(
                coalesce(check_counts.failing_dbt_test_count, 0) as bigint
            ) as failing_dbt_test_count,
            cast(check_counts.last_check_evaluated_at as timestamp(6)) as last_check_evaluated_at,
            cast(assets.retrieved_at as timestamp(6)) as snapshot_at
        from assets
        left join check_counts on assets.asset_key = check_counts.asset_key
    )

select *
from final
