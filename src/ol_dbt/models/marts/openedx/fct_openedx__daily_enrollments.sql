-- One row per deployment, course run and calendar day, from the run's first enrollment to the
-- deployment's latest extract (days without enrollments included, so cumulative series have no
-- gaps). The enrollment API only reports an enrollment's CURRENT status, so
-- `active_enrollment_count` counts enrollments made by that day that are active now.
with
    enrollments as (select * from {{ ref('int_openedx__enrollments') }}),

    day_offsets as (
        select day_offset
        from
            {{ integer_sequence(var('openedx_daily_spine_max_days'), 'day_offsets', 'day_offset') }}
    ),

    -- the spine runs to the latest extract (or enrollment, if later) of the whole deployment, so
    -- every course run of a deployment ends on the same day
    deployment_spine_ends as (
        select
            openedx_deployment,
            greatest(
                coalesce(max(cast(retrieved_at as date)), max(enrollment_created_date)),
                max(enrollment_created_date)
            ) as last_spine_date
        from enrollments
        group by openedx_deployment
    ),

    course_run_date_ranges as (
        select
            enrollments.openedx_deployment,
            enrollments.courserun_readable_id,
            deployment_spine_ends.last_spine_date,
            min(enrollments.enrollment_created_date) as first_enrollment_date
        from enrollments
        inner join
            deployment_spine_ends
            on enrollments.openedx_deployment = deployment_spine_ends.openedx_deployment
        group by
            enrollments.openedx_deployment,
            enrollments.courserun_readable_id,
            deployment_spine_ends.last_spine_date
    ),

    course_run_days as (
        select
            course_run_date_ranges.openedx_deployment,
            course_run_date_ranges.courserun_readable_id,
            {{ add_days('course_run_date_ranges.first_enrollment_date', 'day_offsets.day_offset') }}
            as enrollment_date
        from course_run_date_ranges
        inner join
            day_offsets
            on day_offsets.day_offset <= date_diff(
                'day',
                course_run_date_ranges.first_enrollment_date,
                course_run_date_ranges.last_spine_date
            )
    ),

    new_enrollments as (
        select
            openedx_deployment,
            courserun_readable_id,
            enrollment_created_date as enrollment_date,
            count(*) as new_enrollment_count,
            count(case when enrollment_mode = 'audit' then 1 end) as new_audit_enrollment_count,
            count(
                case when enrollment_mode = 'verified' then 1 end
            ) as new_verified_enrollment_count,
            count(case when enrollment_mode = 'honor' then 1 end) as new_honor_enrollment_count,
            count(
                case when enrollment_mode in ('professional', 'no-id-professional') then 1 end
            ) as new_professional_enrollment_count,
            count(
                case
                    when
                        enrollment_mode is null
                        or enrollment_mode
                        not in ('audit', 'verified', 'honor', 'professional', 'no-id-professional')
                    then 1
                end
            ) as new_other_enrollment_count,
            count(case when enrollment_is_active then 1 end) as new_active_enrollment_count
        from enrollments
        group by openedx_deployment, courserun_readable_id, enrollment_created_date
    ),

    daily as (
        select
            course_run_days.openedx_deployment,
            course_run_days.courserun_readable_id,
            course_run_days.enrollment_date,
            coalesce(new_enrollments.new_enrollment_count, 0) as new_enrollment_count,
            coalesce(new_enrollments.new_audit_enrollment_count, 0) as new_audit_enrollment_count,
            coalesce(
                new_enrollments.new_verified_enrollment_count, 0
            ) as new_verified_enrollment_count,
            coalesce(new_enrollments.new_honor_enrollment_count, 0) as new_honor_enrollment_count,
            coalesce(
                new_enrollments.new_professional_enrollment_count, 0
            ) as new_professional_enrollment_count,
            coalesce(new_enrollments.new_other_enrollment_count, 0) as new_other_enrollment_count,
            coalesce(new_enrollments.new_active_enrollment_count, 0) as new_active_enrollment_count
        from course_run_days
        left join
            new_enrollments
            on course_run_days.openedx_deployment = new_enrollments.openedx_deployment
            and course_run_days.courserun_readable_id = new_enrollments.courserun_readable_id
            and course_run_days.enrollment_date = new_enrollments.enrollment_date
    ),

    cumulative as (
        select
            daily.*,
            sum(daily.new_enrollment_count) over (
                partition by daily.openedx_deployment, daily.courserun_readable_id
                order by daily.enrollment_date
                rows between unbounded preceding and current row
            ) as cumulative_enrollment_count,
            sum(daily.new_verified_enrollment_count) over (
                partition by daily.openedx_deployment, daily.courserun_readable_id
                order by daily.enrollment_date
                rows between unbounded preceding and current row
            ) as cumulative_verified_enrollment_count,
            sum(daily.new_active_enrollment_count) over (
                partition by daily.openedx_deployment, daily.courserun_readable_id
                order by daily.enrollment_date
                rows between unbounded preceding and current row
            ) as active_enrollment_count
        from daily
    ),

    final as (
        select
            cast(openedx_deployment as varchar) as openedx_deployment,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(enrollment_date as date) as enrollment_date,
            cast(new_enrollment_count as bigint) as new_enrollment_count,
            cast(new_audit_enrollment_count as bigint) as new_audit_enrollment_count,
            cast(new_verified_enrollment_count as bigint) as new_verified_enrollment_count,
            cast(new_honor_enrollment_count as bigint) as new_honor_enrollment_count,
            cast(new_professional_enrollment_count as bigint) as new_professional_enrollment_count,
            cast(new_other_enrollment_count as bigint) as new_other_enrollment_count,
            cast(cumulative_enrollment_count as bigint) as cumulative_enrollment_count,
            cast(
                cumulative_verified_enrollment_count as bigint
            ) as cumulative_verified_enrollment_count,
            cast(active_enrollment_count as bigint) as active_enrollment_count
        from cumulative
    )

select *
from final
