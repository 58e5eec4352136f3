-- Activity per learner and course run on every platform (grain: platform, account_id,
-- courserun_readable_id):
-- tracking logs  MITx Online's, xPro's and edX.org's (fct_openedx__user_activity, the Open edX
-- Insights definition): days active, active events, and days the learner
-- played a video, attempted a problem or posted in the forum;
-- canvas         Canvas's own activity time and last activity of the student's enrollments
-- (fct_canvas__enrollment) and their assignment submissions.
-- An LMS account is the learner's through its username (the tracking logs carry it), an edX.org
-- user id directly; learner_id is from dim_combined__learner. A source not landed adds no row.
with
    matches as (select * from {{ ref('int_combined__learner_matches') }}),

    activity as (select * from {{ ref('fct_openedx__user_activity') }}),

    canvas_enrollments as (
        select * from {{ ref('fct_canvas__enrollment') }} where enrollment_is_student
    ),

    canvas_submissions as (select * from {{ ref('fct_canvas__assignment_submission') }}),

    tracking as (
        select
            openedx_deployment as platform,
            case
                when openedx_deployment = 'edxorg' then 'edxorg' else 'openedx'
            end as account_source,
            cast(user_id as varchar) as account_id,
            courserun_readable_id,
            'tracking_logs' as activity_source,
            count(
                distinct case when activity_type = 'ACTIVE' then activity_date end
            ) as active_day_count,
            sum(case when activity_type = 'ACTIVE' then event_count else 0 end) as event_count,
            count(
                distinct case when activity_type = 'PLAYED_VIDEO' then activity_date end
            ) as video_day_count,
            count(
                distinct case when activity_type = 'ATTEMPTED_PROBLEM' then activity_date end
            ) as problem_day_count,
            count(
                distinct case when activity_type = 'POSTED_FORUM' then activity_date end
            ) as forum_day_count,
            cast(null as bigint) as submission_count,
            cast(null as bigint) as activity_seconds,
            min(activity_date) as first_active_on,
            max(activity_date) as last_active_on
        from activity
        group by openedx_deployment, user_id, courserun_readable_id
    ),

    canvas_time as (
        select
            course_id,
            user_id_hash,
            sum(enrollment_total_activity_seconds) as activity_seconds,
            max(enrollment_last_activity_at) as last_activity_at
        from canvas_enrollments
        group by course_id, user_id_hash
    ),

    canvas_work as (
        select
            course_id,
            user_id_hash,
            count(submitted_at) as submission_count,
            min(submitted_at) as first_submitted_at,
            max(submitted_at) as last_submitted_at
        from canvas_submissions
        group by course_id, user_id_hash
    ),

    canvas as (
        select
            'canvas' as platform,
            'canvas' as account_source,
            canvas_time.user_id_hash as account_id,
            canvas_time.course_id as courserun_readable_id,
            'canvas' as activity_source,
            cast(null as bigint) as active_day_count,
            cast(null as bigint) as event_count,
            cast(null as bigint) as video_day_count,
            cast(null as bigint) as problem_day_count,
            cast(null as bigint) as forum_day_count,
            coalesce(canvas_work.submission_count, 0) as submission_count,
            canvas_time.activity_seconds,
            cast(canvas_work.first_submitted_at as date) as first_active_on,
            cast(
                case
                    when canvas_work.last_submitted_at is null
                    then canvas_time.last_activity_at
                    when canvas_time.last_activity_at is null
                    then canvas_work.last_submitted_at
                    else greatest(canvas_time.last_activity_at, canvas_work.last_submitted_at)
                end as date
            ) as last_active_on
        from canvas_time
        left join
            canvas_work
            on canvas_time.course_id = canvas_work.course_id
            and canvas_time.user_id_hash = canvas_work.user_id_hash
    ),

    engagement as (
        select *
        from tracking
        union all
        select *
        from canvas
    ),

    final as (
        select
            cast(matches.learner_id as varchar) as learner_id,
            cast(engagement.platform as varchar) as platform,
            cast(engagement.account_id as varchar) as account_id,
            cast(engagement.courserun_readable_id as varchar) as courserun_readable_id,
            cast(engagement.activity_source as varchar) as activity_source,
            cast(engagement.active_day_count as bigint) as active_day_count,
            cast(engagement.event_count as bigint) as event_count,
            cast(engagement.video_day_count as bigint) as video_day_count,
            cast(engagement.problem_day_count as bigint) as problem_day_count,
            cast(engagement.forum_day_count as bigint) as forum_day_count,
            cast(engagement.submission_count as bigint) as submission_count,
            cast(engagement.activity_seconds as bigint) as activity_seconds,
            cast(engagement.first_active_on as date) as first_active_on,
            cast(engagement.last_active_on as date) as last_active_on
        from engagement
        left join
            matches
            on engagement.platform
            || ':'
            || engagement.account_source
            || ':'
            || engagement.account_id
            = matches.account_key
    )

select *
from final
