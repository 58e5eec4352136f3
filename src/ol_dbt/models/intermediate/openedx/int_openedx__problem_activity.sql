-- One row per server-side problem event: checks (answer submissions, with the attempt number and
-- the result), answers shown, resets, saves and rescores. The browser's own `problem_check` and
-- `problem_graded` events repeat the submission without the result, so only the server's count.
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

    problem_events as (
        select
            events.*,
            case
                events.event_type
                when 'problem_check'
                then 'check'
                when 'showanswer'
                then 'show_answer'
                when 'reset_problem'
                then 'reset'
                when 'problem_save'
                then 'save'
                when 'problem_rescore'
                then 'rescore'
            end as problem_action
        from events
        where events.event_source = 'server'
    ),

    parsed as (
        select
            openedx_deployment,
            event_id,
            tracking_log_date,
            tracking_log_loaded_at,
            event_at,
            event_date,
            user_id,
            user_username_hash,
            courserun_readable_id,
            problem_action,
            coalesce(
                block_id, {{ json_extract_scalar('event_payload', "'$.problem_id'") }}
            ) as problem_block_id,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.attempts'") }} as bigint
            ) as problem_attempt_number,
            {{ json_extract_scalar('event_payload', "'$.success'") }} as problem_success,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.grade'") }} as double
            ) as problem_grade,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.max_grade'") }} as double
            ) as problem_max_grade
        from problem_events
        where problem_action is not null
    ),

    final as (
        select
            parsed.*,
            case
                when parsed.problem_action = 'check'
                then coalesce(parsed.problem_success = 'correct', false)
            end as problem_is_correct
        from parsed
    )

select *
from final {{ day_markers(days) }}
