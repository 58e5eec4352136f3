-- One row per deployment, course run and day with any learner activity: how many learners were
-- active, played a video, attempted a problem or posted in the forum (Insights definitions, from
-- fct_openedx__user_activity).
with
    user_activity as (select * from {{ ref('fct_openedx__user_activity') }}),

    daily as (
        select
            openedx_deployment,
            courserun_readable_id,
            activity_date,
            count(
                distinct case when activity_type = 'ACTIVE' then user_id end
            ) as active_learner_count,
            count(
                distinct case when activity_type = 'PLAYED_VIDEO' then user_id end
            ) as video_learner_count,
            count(
                distinct case when activity_type = 'ATTEMPTED_PROBLEM' then user_id end
            ) as problem_learner_count,
            count(
                distinct case when activity_type = 'POSTED_FORUM' then user_id end
            ) as forum_learner_count,
            sum(
                case when activity_type = 'ACTIVE' then event_count else 0 end
            ) as active_event_count
        from user_activity
        group by openedx_deployment, courserun_readable_id, activity_date
    ),

    final as (
        select
            cast(openedx_deployment as varchar) as openedx_deployment,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(activity_date as date) as activity_date,
            cast(active_learner_count as bigint) as active_learner_count,
            cast(video_learner_count as bigint) as video_learner_count,
            cast(problem_learner_count as bigint) as problem_learner_count,
            cast(forum_learner_count as bigint) as forum_learner_count,
            cast(active_event_count as bigint) as active_event_count
        from daily
    )

select *
from final
