with
    source as (select * from {{ canvas_source('assignments') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(assignment_id as varchar) as assignment_id,
            cast(assignment_group_id as varchar) as assignment_group_id,
            cast(assignment_name as varchar) as assignment_name,
            cast(assignment_position as bigint) as assignment_position,
            cast(points_possible as double) as assignment_points_possible,
            cast(grading_type as varchar) as assignment_grading_type,
            cast(submission_types as varchar) as assignment_submission_types,
            {{ cast_timestamp('due_at') }} as assignment_due_at,
            {{ cast_timestamp('unlock_at') }} as assignment_unlock_at,
            {{ cast_timestamp('lock_at') }} as assignment_lock_at,
            cast(published as boolean) as assignment_is_published,
            cast(omit_from_final_grade as boolean) as assignment_is_omitted_from_final_grade,
            {{ cast_timestamp('created_at') }} as assignment_created_at,
            {{ cast_timestamp('updated_at') }} as assignment_updated_at,
            cast(html_url as varchar) as assignment_html_url,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
