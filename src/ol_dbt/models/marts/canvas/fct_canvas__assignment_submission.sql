-- One row per assignment and student (Canvas's submission records, which include an
-- `unsubmitted` placeholder for every assigned student): when and how the student submitted,
-- the score as a fraction of the points possible, and one status.
--
-- Canvas's own late/missing flags win when present: they account for per-student due-date
-- overrides and teachers' late-policy overrides, which the assignment's `due_at` does not. When
-- Canvas sent no flag, late means submitted after `due_at`, and missing means nothing submitted
-- (nor graded) for an assignment that expects a submission and was due before the extract ran.
-- An excused submission is never late or missing. Status precedence: excused, missing, late,
-- on_time (submitted), not_submitted.
with
    submissions as (select * from {{ ref('int_canvas__submissions') }}),

    assignments as (select * from {{ ref('int_canvas__assignments') }}),

    joined as (
        select
            submissions.course_id,
            submissions.assignment_id,
            submissions.user_id_hash,
            submissions.submission_id,
            assignments.assignment_name,
            assignments.assignment_group_id,
            assignments.assignment_group_name,
            assignments.assignment_grading_type,
            assignments.assignment_is_published,
            assignments.assignment_is_omitted_from_final_grade,
            assignments.assignment_due_at,
            assignments.assignment_points_possible,
            submissions.submitted_at,
            submissions.graded_at,
            submissions.submission_attempt,
            submissions.submission_workflow_state,
            submissions.submission_type,
            submissions.submission_seconds_late,
            submissions.submission_late_policy_status,
            submissions.submission_score,
            submissions.submission_grade,
            submissions.retrieved_at,
            coalesce(submissions.submission_is_excused, false) as submission_is_excused,
            coalesce(
                submissions.submitted_at > assignments.assignment_due_at, false
            ) as submission_is_after_due_at,
            case
                when coalesce(submissions.submission_is_excused, false)
                then false
                when submissions.submission_is_marked_late is not null
                then submissions.submission_is_marked_late
                else coalesce(submissions.submitted_at > assignments.assignment_due_at, false)
            end as is_late,
            case
                when coalesce(submissions.submission_is_excused, false)
                then false
                when submissions.submission_is_marked_missing is not null
                then submissions.submission_is_marked_missing
                else
                    submissions.submitted_at is null
                    and coalesce(submissions.submission_workflow_state, '') != 'graded'
                    and coalesce(assignments.assignment_expects_submission, false)
                    and coalesce(assignments.assignment_due_at < submissions.retrieved_at, false)
            end as is_missing
        from submissions
        left join
            assignments
            on submissions.course_id = assignments.course_id
            and submissions.assignment_id = assignments.assignment_id
    ),

    classified as (
        select
            joined.*,
            case
                when joined.submission_is_excused
                then 'excused'
                when joined.is_missing
                then 'missing'
                when joined.is_late
                then 'late'
                when joined.submitted_at is not null
                then 'on_time'
                else 'not_submitted'
            end as submission_status,
            case
                when joined.assignment_points_possible > 0
                then joined.submission_score / joined.assignment_points_possible
            end as submission_score_fraction
        from joined
    ),

    final as (
        select
            cast(course_id as varchar) as course_id,
            cast(assignment_id as varchar) as assignment_id,
            cast(user_id_hash as varchar) as user_id_hash,
            cast(submission_id as varchar) as submission_id,
            cast(assignment_name as varchar) as assignment_name,
            cast(assignment_group_id as varchar) as assignment_group_id,
            cast(assignment_group_name as varchar) as assignment_group_name,
            cast(assignment_grading_type as varchar) as assignment_grading_type,
            cast(assignment_is_published as boolean) as assignment_is_published,
            cast(
                assignment_is_omitted_from_final_grade as boolean
            ) as assignment_is_omitted_from_final_grade,
            cast(assignment_due_at as timestamp(6)) as assignment_due_at,
            cast(assignment_points_possible as double) as assignment_points_possible,
            cast(submitted_at as timestamp(6)) as submitted_at,
            cast(graded_at as timestamp(6)) as graded_at,
            cast(submission_attempt as bigint) as submission_attempt,
            cast(submission_workflow_state as varchar) as submission_workflow_state,
            cast(submission_type as varchar) as submission_type,
            cast(submission_status as varchar) as submission_status,
            cast(submission_status = 'on_time' as boolean) as submission_is_on_time,
            cast(submission_status = 'late' as boolean) as submission_is_late,
            cast(submission_status = 'missing' as boolean) as submission_is_missing,
            cast(submission_is_excused as boolean) as submission_is_excused,
            cast(submission_is_after_due_at as boolean) as submission_is_after_due_at,
            cast(submission_seconds_late as bigint) as submission_seconds_late,
            cast(submission_late_policy_status as varchar) as submission_late_policy_status,
            cast(submission_score as double) as submission_score,
            cast(submission_score_fraction as double) as submission_score_fraction,
            cast(submission_grade as varchar) as submission_grade,
            cast(retrieved_at as timestamp(6)) as submission_retrieved_at
        from classified
    )

select *
from final
