-- One row per deployment, course run, video and learner (LMS user id) who interacted with it:
-- plays, pauses, seeks, the days the learner played it, how far into it they got and whether
-- they watched it to the end (reached 90% of its duration).
with
    video_activity as (select * from {{ ref('int_openedx__video_activity') }}),

    per_learner as (
        select
            openedx_deployment,
            courserun_readable_id,
            video_block_id,
            user_id,
            count(*) as video_event_count,
            count(case when video_action = 'play' then 1 end) as video_play_count,
            count(case when video_action = 'pause' then 1 end) as video_pause_count,
            count(case when video_action = 'seek' then 1 end) as video_seek_count,
            count(
                distinct case when video_action = 'play' then event_date end
            ) as video_days_played,
            max(video_duration_seconds) as video_duration_seconds,
            max(video_position_seconds) as video_max_position_seconds,
            min(event_at) as first_video_event_at,
            max(event_at) as last_video_event_at
        from video_activity
        where
            user_id is not null and courserun_readable_id is not null and video_block_id is not null
        group by openedx_deployment, courserun_readable_id, video_block_id, user_id
    ),

    final as (
        select
            cast(openedx_deployment as varchar) as openedx_deployment,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(video_block_id as varchar) as video_block_id,
            cast(user_id as bigint) as user_id,
            cast(video_event_count as bigint) as video_event_count,
            cast(video_play_count as bigint) as video_play_count,
            cast(video_pause_count as bigint) as video_pause_count,
            cast(video_seek_count as bigint) as video_seek_count,
            cast(video_days_played as bigint) as video_days_played,
            cast(video_duration_seconds as double) as video_duration_seconds,
            cast(video_max_position_seconds as double) as video_max_position_seconds,
            cast(
                coalesce(
                    video_duration_seconds > 0
                    and video_max_position_seconds >= 0.9 * video_duration_seconds,
                    false
                ) as boolean
            ) as video_is_completed,
            cast(first_video_event_at as timestamp(6)) as first_video_event_at,
            cast(last_video_event_at as timestamp(6)) as last_video_event_at
        from per_learner
    )

select *
from final
