-- One row per course, assignment and student: the latest record of the submission (latest
-- extract, then latest attempt, grading and submission). Rows without a student or assignment
-- are dropped.
with
    submissions as (
        select *
        from {{ ref('stg_canvas__submissions') }}
        where user_id_hash is not null and assignment_id is not null
    ),

    deduplicated as (
        select *
        from
            {{ deduplicate(
        'submissions',
        partition_by=['course_id', 'assignment_id', 'user_id_hash'],
        order_by=[
            'retrieved_at desc nulls last',
            'submission_attempt desc nulls last',
            'graded_at desc nulls last',
            'submitted_at desc nulls last',
        ],
    ) }}
    )

select *
from deduplicated
