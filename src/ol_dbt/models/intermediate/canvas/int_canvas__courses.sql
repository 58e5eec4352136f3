-- One row per Canvas course: its latest extract (a re-run replaces a course's object, but a
-- course taken off the registry keeps its last one, and Canvas paging can repeat a record).

with courses as (
    select * from {{ ref('stg_canvas__courses') }}
),

ranked as (
    select
        courses.*,
        row_number() over (
            partition by courses.course_id
            order by courses.retrieved_at desc nulls last, courses.course_created_at desc nulls last
        ) as course_rank
    from courses
),

deduplicated as (
    select
        course_id,
        course_name,
        course_code,
        course_sis_id,
        course_uuid,
        course_workflow_state,
        account_id,
        account_name,
        root_account_id,
        term_id,
        term_name,
        term_start_at,
        term_end_at,
        course_start_at,
        course_end_at,
        course_created_at,
        course_time_zone,
        course_default_view,
        course_is_public,
        retrieved_at
    from ranked
    where course_rank = 1
)

select * from deduplicated
