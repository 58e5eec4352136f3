-- One row per navigation event: server page views (the event type is the URL path), the course
-- outline and links, and moves inside a subsection (`edx.ui.lms.sequence.*` and the legacy
-- `seq_goto` / `seq_next` / `seq_prev`), with the subsection and the tabs moved between.
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

    navigation_events as (
        select
            events.*,
            case
                when events.event_type in ('edx.ui.lms.sequence.next_selected', 'seq_next')
                then 'next'
                when events.event_type in ('edx.ui.lms.sequence.previous_selected', 'seq_prev')
                then 'previous'
                when events.event_type in ('edx.ui.lms.sequence.tab_selected', 'seq_goto')
                then 'tab'
                when events.event_type = 'edx.ui.lms.outline.selected'
                then 'outline'
                when events.event_type = 'edx.ui.lms.link_clicked'
                then 'link'
                when events.event_source = 'server' and events.event_type like '/%'
                then 'page_view'
            end as navigation_action
        from events
    ),

    parsed as (
        select
            openedx_deployment,
            event_id,
            tracking_log_date,
            tracking_log_loaded_at,
            event_type,
            event_source,
            event_at,
            event_date,
            user_id,
            user_username_hash,
            courserun_readable_id,
            navigation_action,
            case
                when navigation_action in ('next', 'previous', 'tab')
                then coalesce({{ json_extract_scalar('event_payload', "'$.id'") }}, block_id)
            end as sequential_block_id,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.current_tab'") }} as bigint
            ) as navigation_from_tab,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.target_tab'") }} as bigint
            ) as navigation_to_tab,
            case
                when navigation_action = 'page_view'
                then event_type
                else coalesce(event_page_url, event_path)
            end as navigation_url
        from navigation_events
        where navigation_action is not null
    )

select *
from parsed {{ day_markers(days) }}
