-- One row per deployment and tracking-log event: the staged events with re-delivered lines (the
-- same raw line in two files or days, hence the same event id) collapsed to their first copy,
-- plus the event's UTC date.
-- Incremental by day (macros/tracking_logs/incremental_by_day.sql): a run reloads the days whose
-- staged files changed and the days holding copies of their events, deduplicated among
-- themselves and against the copies kept for every other day, so the table is the same as a
-- full refresh would build.
{{
    config(
        materialized="incremental",
        incremental_strategy="replace_days",
        unique_key=["openedx_deployment", "tracking_log_date"],
        on_schema_change="fail",
    )
}}

{%- set days = event_days_to_load(ref('stg_openedx__tracking_logs')) if incremental_by_day() else none %}

with
    events as (
        select *
        from {{ ref('stg_openedx__tracking_logs') }}
        {% if days is not none -%} where {{ days_filter(days) }} {%- endif %}
    ),

    {% if days is not none -%}
        -- the events kept for the days this run leaves alone: their copies here come later
        kept_elsewhere as (
            select openedx_deployment, event_id from {{ this }} where not {{ days_filter(days) }}
        ),
    {%- endif %}

    deduplicated as (
        select
            openedx_deployment,
            event_id,
            event_type,
            event_name,
            event_source,
            event_at,
            cast(event_at as date) as event_date,
            user_id,
            user_username_hash,
            event_course_id,
            courserun_readable_id,
            courserun_org,
            block_id,
            event_session_id,
            event_page_url,
            event_path,
            event_payload,
            tracking_log_date,
            tracking_log_landed_at,
            {{ tracking_log_loaded_at() }} as tracking_log_loaded_at
        from
            {{ deduplicate(
        'events',
        partition_by=['openedx_deployment', 'event_id'],
        order_by=['tracking_log_date', 'tracking_log_file', 'tracking_log_line_number'],
    ) }}
    )

select deduplicated.*
from deduplicated
{% if days is not none -%}
    where
        not exists (
            select 1
            from kept_elsewhere
            where
                kept_elsewhere.openedx_deployment = deduplicated.openedx_deployment
                and kept_elsewhere.event_id = deduplicated.event_id
        )
    {%- endif %} {{ day_markers(days) }}
