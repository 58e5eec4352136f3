-- One row per deployment and tracking-log event: the staged events with re-delivered lines (the
-- same raw line in two files or days, hence the same event id) collapsed to their first copy,
-- plus the event's UTC date.

with events as (
    select * from {{ ref('stg_openedx__tracking_logs') }}
),

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
        tracking_log_date
    from {{ deduplicate(
        'events',
        partition_by=['openedx_deployment', 'event_id'],
        order_by=['tracking_log_date', 'tracking_log_file', 'tracking_log_line_number'],
    ) }}
)

select * from deduplicated
