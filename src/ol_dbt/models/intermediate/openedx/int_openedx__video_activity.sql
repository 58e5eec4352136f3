-- One row per video event (browser, mobile): the action, the video and the position in it. The
-- mobile apps log newer names (`edx.video.played`, ...) in `name`; both spellings map to one
-- action. Browser payloads say `currentTime`, some newer ones `current_time`.
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

    video_events as (
        select
            events.*,
            case
                when events.event_type in ('play_video', 'edx.video.played')
                then 'play'
                when events.event_name = 'edx.video.played'
                then 'play'
                when events.event_type in ('pause_video', 'edx.video.paused')
                then 'pause'
                when events.event_name = 'edx.video.paused'
                then 'pause'
                when events.event_type in ('seek_video', 'edx.video.position.changed')
                then 'seek'
                when events.event_name = 'edx.video.position.changed'
                then 'seek'
                when events.event_type in ('load_video', 'edx.video.loaded')
                then 'load'
                when events.event_name = 'edx.video.loaded'
                then 'load'
                when events.event_type in ('stop_video', 'edx.video.stopped')
                then 'stop'
                when events.event_name = 'edx.video.stopped'
                then 'stop'
                when events.event_type in ('speed_change_video', 'edx.video.speed.changed')
                then 'speed_change'
            end as video_action
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
            video_action,
            coalesce(
                block_id, {{ json_extract_scalar('event_payload', "'$.id'") }}
            ) as video_block_id,
            try_cast(
                coalesce(
                    {{ json_extract_scalar('event_payload', "'$.currentTime'") }},
                    {{ json_extract_scalar('event_payload', "'$.current_time'") }}
                ) as double
            ) as video_position_seconds,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.duration'") }} as double
            ) as video_duration_seconds,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.old_time'") }} as double
            ) as video_seek_from_seconds,
            try_cast(
                {{ json_extract_scalar('event_payload', "'$.new_time'") }} as double
            ) as video_seek_to_seconds
        from video_events
        where video_action is not null
    )

select *
from parsed {{ day_markers(days) }}
