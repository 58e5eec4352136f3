-- One row per course and enrollment: the latest record of the enrollment (latest extract, then
-- latest change). Rows without an enrollment id are dropped.
with
    enrollments as (
        select * from {{ ref('stg_canvas__enrollments') }} where enrollment_id is not null
    ),

    deduplicated as (
        select *
        from
            {{ deduplicate(
        'enrollments',
        partition_by=['course_id', 'enrollment_id'],
        order_by=[
            'retrieved_at desc nulls last',
            'enrollment_updated_at desc nulls last',
            'enrollment_last_activity_at desc nulls last',
        ],
    ) }}
    )

select *
from deduplicated
