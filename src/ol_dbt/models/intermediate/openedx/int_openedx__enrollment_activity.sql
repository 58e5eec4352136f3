-- One row per enrollment event (`edx.course.enrollment.*`): activations, deactivations and mode
-- changes, with the mode the event reports.

with events as (
    select * from {{ ref('int_openedx__tracking_log_events') }}
),

enrollment_events as (
    select
        openedx_deployment,
        event_id,
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

select * from enrollment_events
