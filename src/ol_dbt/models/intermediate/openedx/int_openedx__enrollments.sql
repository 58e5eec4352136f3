-- One row per deployment, course run and learner: the latest record of the enrollment (the
-- extracts overlap, and a re-run of the same day's extract repeats rows).

with enrollments as (
    select * from {{ ref('stg_openedx__enrollments') }}
),

ranked as (
    select
        enrollments.*,
        row_number() over (
            partition by
                enrollments.openedx_deployment,
                enrollments.courserun_readable_id,
                enrollments.user_username_hash
            order by
                enrollments.retrieved_at desc nulls last,
                enrollments.enrollment_created_on desc nulls last,
                enrollments.enrollment_is_active desc nulls last,
                enrollments.enrollment_mode asc nulls last
        ) as enrollment_rank
    from enrollments
    where enrollments.user_username_hash is not null
),

deduplicated as (
    select
        openedx_deployment,
        courserun_readable_id,
        user_username_hash,
        enrollment_mode,
        enrollment_is_active,
        enrollment_created_on,
        cast(enrollment_created_on as date) as enrollment_created_date,
        retrieved_at
    from ranked
    where enrollment_rank = 1
)

select * from deduplicated
