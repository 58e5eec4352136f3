-- Incremental by day (macros/tracking_logs/incremental_by_day.sql): a run stages the days whose
-- raw files changed since they were staged (new, late or re-normalized days) and replaces them
-- whole; `tracking_log_landed_at` is when the day's raw files last changed, the only join here.
{{
    config(
        materialized="incremental",
        incremental_strategy="replace_days",
        unique_key=["openedx_deployment", "tracking_log_date"],
        on_schema_change="fail",
    )
}}

{%- set raw_columns = [
    'event_id', 'event_type', 'event_name', 'event_source', 'event_time', 'username', 'user_id',
    'course_id', 'course_key', 'org_id', 'block_key', 'session', 'page', 'referer', 'agent', 'ip',
    'host', 'path', 'event_payload', 'context_payload', 'source_file', 'line_number', 'dt',
] -%}
{%- set days = raw_days_to_stage() if incremental_by_day() else none %}

with
    source as ({{ union_openedx_tracking_logs(raw_columns, days=days) }}),

    landed as ({{ tracking_log_landed_days(days=days) }}),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(event_id as varchar) as event_id,
            cast(event_type as varchar) as event_type,
            cast(event_name as varchar) as event_name,
            cast(event_source as varchar) as event_source,
            {{ to_utc_timestamp('event_time') }} as event_at,
            -- personal data: only salted hashes leave staging (a blank username is no user)
            {{ hash_pii("nullif(username, '')") }} as user_username_hash,
            cast(user_id as bigint) as user_id,
            cast(course_id as varchar) as event_course_id,
            cast(course_key as varchar) as courserun_readable_id,
            cast(org_id as varchar) as courserun_org,
            cast(block_key as varchar) as block_id,
            cast(session as varchar) as event_session_id,
            cast(page as varchar) as event_page_url,
            cast(referer as varchar) as event_referer_url,
            cast(agent as varchar) as event_user_agent,
            {{ hash_pii("nullif(ip, '')") }} as user_ip_hash,
            cast(host as varchar) as event_host,
            cast(path as varchar) as event_path,
            cast(event_payload as varchar) as event_payload,
            cast(context_payload as varchar) as event_context_payload,
            cast(source_file as varchar) as tracking_log_file,
            cast(line_number as bigint) as tracking_log_line_number,
            cast(dt as date) as tracking_log_date,
            landed.tracking_log_landed_at,
            {{ tracking_log_loaded_at() }} as tracking_log_loaded_at
        from source
        inner join
            landed
            on source.deployment = landed.openedx_deployment
            and cast(source.dt as date) = landed.tracking_log_date
    )

select *
from renamed {{ day_markers(days) }}
