-- One row per deployment and course run: catalog attributes, course-structure counts and
-- enrollment totals. Every column is cast to its contract type so DuckDB and Trino agree.
with
    course_runs as (select * from {{ ref('int_openedx__course_runs') }}),

    enrollments as (select * from {{ ref('int_openedx__enrollments') }}),

    enrollment_counts as (
        select
            openedx_deployment,
            courserun_readable_id,
            count(*) as enrollment_count,
            count(case when enrollment_is_active then 1 end) as active_enrollment_count,
            count(case when enrollment_mode = 'verified' then 1 end) as verified_enrollment_count,
            min(enrollment_created_on) as first_enrollment_on,
            max(enrollment_created_on) as latest_enrollment_on
        from enrollments
        group by openedx_deployment, courserun_readable_id
    ),

    final as (
        select
            cast(course_runs.openedx_deployment as varchar) as openedx_deployment,
            cast(course_runs.courserun_readable_id as varchar) as courserun_readable_id,
            cast(course_runs.courserun_title as varchar) as courserun_title,
            cast(course_runs.courserun_org as varchar) as courserun_org,
            cast(course_runs.course_number as varchar) as course_number,
            cast(course_runs.courserun_tag as varchar) as courserun_tag,
            cast(course_runs.courserun_pacing as varchar) as courserun_pacing,
            cast(course_runs.courserun_is_self_paced as boolean) as courserun_is_self_paced,
            cast(course_runs.courserun_start_on as timestamp(6)) as courserun_start_on,
            cast(course_runs.courserun_end_on as timestamp(6)) as courserun_end_on,
            cast(
                course_runs.courserun_enrollment_start_on as timestamp(6)
            ) as courserun_enrollment_start_on,
            cast(
                course_runs.courserun_enrollment_end_on as timestamp(6)
            ) as courserun_enrollment_end_on,
            cast(course_runs.courserun_is_hidden as boolean) as courserun_is_hidden,
            cast(
                course_runs.courserun_is_invitation_only as boolean
            ) as courserun_is_invitation_only,
            cast(
                course_runs.courserun_is_mobile_available as boolean
            ) as courserun_is_mobile_available,
            cast(course_runs.block_count as bigint) as block_count,
            cast(course_runs.chapter_count as bigint) as chapter_count,
            cast(course_runs.sequential_count as bigint) as sequential_count,
            cast(course_runs.vertical_count as bigint) as vertical_count,
            cast(course_runs.problem_count as bigint) as problem_count,
            cast(course_runs.video_count as bigint) as video_count,
            cast(course_runs.graded_block_count as bigint) as graded_block_count,
            cast(course_runs.graded_sequential_count as bigint) as graded_sequential_count,
            cast(coalesce(enrollment_counts.enrollment_count, 0) as bigint) as enrollment_count,
            cast(
                coalesce(enrollment_counts.active_enrollment_count, 0) as bigint
            ) as active_enrollment_count,
            cast(
                coalesce(enrollment_counts.verified_enrollment_count, 0) as bigint
            ) as verified_enrollment_count,
            cast(enrollment_counts.first_enrollment_on as timestamp(6)) as first_enrollment_on,
            cast(enrollment_counts.latest_enrollment_on as timestamp(6)) as latest_enrollment_on,
            cast(course_runs.retrieved_at as timestamp(6)) as courserun_retrieved_at
        from course_runs
        left join
            enrollment_counts
            on course_runs.openedx_deployment = enrollment_counts.openedx_deployment
            and course_runs.courserun_readable_id = enrollment_counts.courserun_readable_id
    )

select *
from final
