-- One row per course, assignment and student: the latest record of the submission (latest
-- extract, then latest attempt, grading and submission). Rows without a student or assignment
-- are dropped.

with submissions as (
    select * from {{ ref('stg_canvas__submissions') }}
),

ranked as (
    select
        submissions.*,
        row_number() over (
            partition by submissions.course_id, submissions.assignment_id, submissions.user_id_hash
            order by
                submissions.retrieved_at desc nulls last,
                submissions.submission_attempt desc nulls last,
                submissions.graded_at desc nulls last,
                submissions.submitted_at desc nulls last
        ) as submission_rank
    from submissions
    where
        submissions.user_id_hash is not null
        and submissions.assignment_id is not null
),

deduplicated as (
    select
        course_id,
        assignment_id,
        user_id_hash,
        submission_id,
        submission_attempt,
        submission_score,
        submission_grade,
        submitted_at,
        graded_at,
        submission_is_marked_late,
        submission_is_marked_missing,
        submission_is_excused,
        submission_workflow_state,
        submission_type,
        submission_seconds_late,
        submission_late_policy_status,
        retrieved_at
    from ranked
    where submission_rank = 1
)

select * from deduplicated
