-- One row per deployment, course run and week (Monday to Sunday, UTC) with any learner activity:
-- distinct learners active, playing a video, attempting a problem or posting in the forum that
-- week (a learner active on several days of a week counts once).
with
    user_activity as (select * from {{ ref('fct_openedx__user_activity') }}),

    weekly as (
        select
            openedx_deployment,
            courserun_readable_id,
            {{ week_start('activity_date') }} as activity_week_start_date,
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
        group by openedx_deployment, courserun_readable_id, {{ week_start('activity_date') }}
    ),

    final as (
        select
            cast(openedx_deployment as varchar) as openedx_deployment,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(activity_week_start_date as date) as activity_week_start_date,
            cast(active_learner_count as bigint) as active_learner_count,
            cast(video_learner_count as bigint) as video_learner_count,
            cast(problem_learner_count as bigint) as problem_learner_count,
            cast(forum_learner_count as bigint) as forum_learner_count,
            cast(active_event_count as bigint) as active_event_count
        from weekly
    )

select *
from final
