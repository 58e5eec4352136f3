-- One row per legacy LMS deployment and course run: catalog attributes from the LMS course list,
-- enrollment and problem totals, the size of its OLX export and of its forum. Every column is
-- cast to its contract type so DuckDB and Trino agree.
with
    course_runs as (select * from {{ ref('stg_residential__course_overviews') }}),

    enrollments as (select * from {{ ref('stg_residential__enrollments') }}),

    studentmodule as (select * from {{ ref('int_residential__studentmodule') }}),

    course_exports as (select * from {{ ref('stg_residential__course_exports') }}),

    forum_posts as (select * from {{ ref('stg_residential__forum_posts') }}),

    enrollment_counts as (
        select
            openedx_deployment,
            courserun_readable_id,
            count(*) as enrollment_count,
            count(case when enrollment_is_active then 1 end) as active_enrollment_count,
            count(case when enrollment_mode = 'verified' then 1 end) as verified_enrollment_count,
            min(enrollment_created_on) as first_enrollment_on
        from enrollments
        group by openedx_deployment, courserun_readable_id
    ),

    problem_counts as (
        select
            openedx_deployment,
            courserun_readable_id,
            count(distinct block_usage_key) as attempted_problem_count,
            count(*) as problem_submission_count
        from studentmodule
        where block_category = 'problem'
        group by openedx_deployment, courserun_readable_id
    ),

    forum_counts as (
        select
            openedx_deployment,
            courserun_readable_id,
            count(case when post_type = 'CommentThread' then 1 end) as forum_thread_count,
            count(*) as forum_post_count
        from forum_posts
        group by openedx_deployment, courserun_readable_id
    ),

    final as (
        select
            cast(course_runs.openedx_deployment as varchar) as openedx_deployment,
            cast(course_runs.courserun_readable_id as varchar) as courserun_readable_id,
            cast(course_runs.courserun_title as varchar) as courserun_title,
            cast(course_runs.courserun_org as varchar) as courserun_org,
            cast(course_runs.course_number as varchar) as course_number,
            cast(course_runs.courserun_start_on as timestamp(6)) as courserun_start_on,
            cast(course_runs.courserun_end_on as timestamp(6)) as courserun_end_on,
            cast(
                course_runs.courserun_enrollment_start_on as timestamp(6)
            ) as courserun_enrollment_start_on,
            cast(
                course_runs.courserun_enrollment_end_on as timestamp(6)
            ) as courserun_enrollment_end_on,
            cast(course_runs.courserun_is_self_paced as boolean) as courserun_is_self_paced,
            cast(
                course_runs.courserun_is_invitation_only as boolean
            ) as courserun_is_invitation_only,
            cast(course_runs.courserun_passing_grade as double) as courserun_passing_grade,
            cast(coalesce(enrollment_counts.enrollment_count, 0) as bigint) as enrollment_count,
            cast(
                coalesce(enrollment_counts.active_enrollment_count, 0) as bigint
            ) as active_enrollment_count,
            cast(
                coalesce(enrollment_counts.verified_enrollment_count, 0) as bigint
            ) as verified_enrollment_count,
            cast(enrollment_counts.first_enrollment_on as timestamp(6)) as first_enrollment_on,
            cast(
                coalesce(problem_counts.attempted_problem_count, 0) as bigint
            ) as attempted_problem_count,
            cast(
                coalesce(problem_counts.problem_submission_count, 0) as bigint
            ) as problem_submission_count,
            cast(course_exports.olx_block_count as bigint) as olx_block_count,
            cast(course_exports.olx_problem_count as bigint) as olx_problem_count,
            cast(course_exports.olx_video_count as bigint) as olx_video_count,
            cast(coalesce(forum_counts.forum_thread_count, 0) as bigint) as forum_thread_count,
            cast(coalesce(forum_counts.forum_post_count, 0) as bigint) as forum_post_count,
            cast(course_runs.retrieved_at as timestamp(6)) as courserun_retrieved_at
        from course_runs
        left join
            enrollment_counts
            on course_runs.openedx_deployment = enrollment_counts.openedx_deployment
            and course_runs.courserun_readable_id = enrollment_counts.courserun_readable_id
        left join
            problem_counts
            on course_runs.openedx_deployment = problem_counts.openedx_deployment
            and course_runs.courserun_readable_id = problem_counts.courserun_readable_id
        left join
            course_exports
            on course_runs.openedx_deployment = course_exports.openedx_deployment
            and course_runs.courserun_readable_id = course_exports.courserun_readable_id
        left join
            forum_counts
            on course_runs.openedx_deployment = forum_counts.openedx_deployment
            and course_runs.courserun_readable_id = forum_counts.courserun_readable_id
    )

select *
from final
