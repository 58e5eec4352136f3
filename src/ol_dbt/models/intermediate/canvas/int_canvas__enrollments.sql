-- One row per course and enrollment: the latest record of the enrollment (latest extract, then
-- latest change). Rows without an enrollment id are dropped.

with enrollments as (
    select * from {{ ref('stg_canvas__enrollments') }}
),

ranked as (
    select
        enrollments.*,
        row_number() over (
            partition by enrollments.course_id, enrollments.enrollment_id
            order by
                enrollments.retrieved_at desc nulls last,
                enrollments.enrollment_updated_at desc nulls last,
                enrollments.enrollment_last_activity_at desc nulls last
        ) as enrollment_rank
    from enrollments
    where enrollments.enrollment_id is not null
),

deduplicated as (
    select
        course_id,
        enrollment_id,
        user_id_hash,
        section_id,
        enrollment_type,
        enrollment_role,
        enrollment_role_id,
        enrollment_state,
        enrollment_created_at,
        enrollment_updated_at,
        enrollment_last_activity_at,
        enrollment_total_activity_seconds,
        enrollment_current_score,
        enrollment_final_score,
        enrollment_current_grade,
        enrollment_final_grade,
        retrieved_at
    from ranked
    where enrollment_rank = 1
)

select * from deduplicated
