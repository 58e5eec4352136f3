-- One row per deployment, learner (LMS user id), course run, day and activity type, with the
-- number of events: the Open edX Insights definition of learner activity (edx-analytics-pipeline
-- UserActivityTask), so the numbers compare with other Open edX analytics:
-- * an event counts only with a user id and a logged course id (`context.course_id`, non-empty
-- and a valid course key; a course found only in the URL does not count);
-- * events from `event_source = 'task'` and `edx.course.enrollment.*` events count as nothing;
-- * every other such event is ACTIVE;
-- * a server `problem_check` is also ATTEMPTED_PROBLEM;
-- * a server `edx.forum.*.created` (type starts with `edx.forum.`, ends with `.created`) is
-- also POSTED_FORUM;
-- * a browser or mobile `play_video` is also PLAYED_VIDEO.
-- The day is the UTC date of the event's time.
with
    events as (select * from {{ ref('int_openedx__tracking_log_events') }}),

    eligible as (
        select
            openedx_deployment,
            user_id,
            courserun_readable_id,
            event_date as activity_date,
            event_type,
            event_source
        from events
        where
            user_id is not null
            and nullif(trim(event_course_id), '') is not null
            and courserun_readable_id is not null
            and coalesce(event_source, '') != 'task'
            and event_type not like 'edx.course.enrollment.%'
    ),

    labelled as (
        select
            openedx_deployment,
            user_id,
            courserun_readable_id,
            activity_date,
            'ACTIVE' as activity_type
        from eligible

        union all

        select
            openedx_deployment,
            user_id,
            courserun_readable_id,
            activity_date,
            'ATTEMPTED_PROBLEM' as activity_type
        from eligible
        where event_source = 'server' and event_type = 'problem_check'

        union all

        select
            openedx_deployment,
            user_id,
            courserun_readable_id,
            activity_date,
            'POSTED_FORUM' as activity_type
        from eligible
        where
            event_source = 'server'
            and event_type like 'edx.forum.%'
            and event_type like '%.created'

        union all

        select
            openedx_deployment,
            user_id,
            courserun_readable_id,
            activity_date,
            'PLAYED_VIDEO' as activity_type
        from eligible
        where event_source in ('browser', 'mobile') and event_type = 'play_video'
    ),

    aggregated as (
        select
            openedx_deployment,
            user_id,
            courserun_readable_id,
            activity_date,
            activity_type,
            count(*) as event_count
        from labelled
        group by openedx_deployment, user_id, courserun_readable_id, activity_date, activity_type
    ),

    final as (
        select
            cast(openedx_deployment as varchar) as openedx_deployment,
            cast(user_id as bigint) as user_id,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(activity_date as date) as activity_date,
            cast(activity_type as varchar) as activity_type,
            cast(event_count as bigint) as event_count
        from aggregated
    )

select *
from final
