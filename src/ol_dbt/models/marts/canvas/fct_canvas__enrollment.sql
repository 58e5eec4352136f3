-- One row per Canvas enrollment (a user in a section of a course, with a role): its latest
-- record, the section's name, and the user only as user_id_hash. Every column is cast to its
-- contract type so DuckDB and Trino agree.
with
    enrollments as (select * from {{ ref('int_canvas__enrollments') }}),

    sections as (select * from {{ ref('int_canvas__sections') }}),

    final as (
        select
            cast(enrollments.course_id as varchar) as course_id,
            cast(enrollments.enrollment_id as varchar) as enrollment_id,
            cast(enrollments.section_id as varchar) as section_id,
            cast(sections.section_name as varchar) as section_name,
            cast(enrollments.user_id_hash as varchar) as user_id_hash,
            cast(enrollments.enrollment_type as varchar) as enrollment_type,
            cast(enrollments.enrollment_role as varchar) as enrollment_role,
            cast(enrollments.enrollment_role_id as varchar) as enrollment_role_id,
            cast(enrollments.enrollment_state as varchar) as enrollment_state,
            cast(
                enrollments.enrollment_type = 'StudentEnrollment' as boolean
            ) as enrollment_is_student,
            cast(enrollments.enrollment_state = 'active' as boolean) as enrollment_is_active,
            cast(enrollments.enrollment_created_at as timestamp(6)) as enrollment_created_at,
            cast(enrollments.enrollment_updated_at as timestamp(6)) as enrollment_updated_at,
            cast(
                enrollments.enrollment_last_activity_at as timestamp(6)
            ) as enrollment_last_activity_at,
            cast(
                enrollments.enrollment_total_activity_seconds as bigint
            ) as enrollment_total_activity_seconds,
            cast(enrollments.enrollment_current_score as double) as enrollment_current_score,
            cast(enrollments.enrollment_final_score as double) as enrollment_final_score,
            cast(enrollments.enrollment_current_grade as varchar) as enrollment_current_grade,
            cast(enrollments.enrollment_final_grade as varchar) as enrollment_final_grade,
            cast(enrollments.retrieved_at as timestamp(6)) as enrollment_retrieved_at
        from enrollments
        left join
            sections
            on enrollments.course_id = sections.course_id
            and enrollments.section_id = sections.section_id
    )

select *
from final
