with
    source as (select * from {{ canvas_source('submissions') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(submission_id as varchar) as submission_id,
            cast(assignment_id as varchar) as assignment_id,
            -- pseudonymous user key: the Canvas user id does not leave staging
            {{ hash_pii('user_id') }} as user_id_hash,
            cast(attempt as bigint) as submission_attempt,
            cast(score as double) as submission_score,
            cast(grade as varchar) as submission_grade,
            {{ cast_timestamp('submitted_at') }} as submitted_at,
            {{ cast_timestamp('graded_at') }} as graded_at,
            cast(late as boolean) as submission_is_marked_late,
            cast(missing as boolean) as submission_is_marked_missing,
            cast(excused as boolean) as submission_is_excused,
            cast(workflow_state as varchar) as submission_workflow_state,
            cast(submission_type as varchar) as submission_type,
            cast(seconds_late as bigint) as submission_seconds_late,
            cast(late_policy_status as varchar) as submission_late_policy_status,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
