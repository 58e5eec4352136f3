-- One row per enrollment event (`edx.course.enrollment.*`): activations, deactivations and mode
-- changes, with the mode the event reports.
-- Incremental by day (macros/tracking_logs/incremental_by_day.sql): a run reloads the days the
-- events table wrote since this model's latest load.
{{
    config(
        materialized="incremental",
        incremental_strategy="replace_days",
        unique_key=["openedx_deployment", "tracking_log_date"],
        on_schema_change="fail",
    )
}}

{%- set days = activity_days_to_load(ref('int_openedx__tracking_log_events')) if incremental_by_day() else none %}

with
    events as (
        select *
        from {{ ref('int_openedx__tracking_log_events') }}
        {% if days is not none -%} where {{ days_filter(days) }} {%- endif %}
    ),

    enrollment_events as (
        select
            openedx_deployment,
            event_id,
            tracking_log_date,
            tracking_log_loaded_at,
            event_type,
            event_at,
            event_date,
            user_id,
            user_username_hash,
            courserun_readable_id,
            substr(event_type, length('edx.course.enrollment.') + 1) as enrollment_action,
            {{ json_extract_scalar('event_payload', "'$.mode'") }} as enrollment_mode
        from events
        where event_type like 'edx.course.enrollment.%'
    )

select *
from enrollment_events {{ day_markers(days) }}
