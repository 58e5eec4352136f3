with
    source as (select * from {{ canvas_source('courses') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(course_name as varchar) as course_name,
            cast(course_code as varchar) as course_code,
            cast(sis_course_id as varchar) as course_sis_id,
            cast(course_uuid as varchar) as course_uuid,
            cast(workflow_state as varchar) as course_workflow_state,
            cast(account_id as varchar) as account_id,
            cast(account_name as varchar) as account_name,
            cast(root_account_id as varchar) as root_account_id,
            cast(enrollment_term_id as varchar) as term_id,
            cast(term_name as varchar) as term_name,
            {{ cast_timestamp('term_start_at') }} as term_start_at,
            {{ cast_timestamp('term_end_at') }} as term_end_at,
            {{ cast_timestamp('start_at') }} as course_start_at,
            {{ cast_timestamp('end_at') }} as course_end_at,
            {{ cast_timestamp('created_at') }} as course_created_at,
            cast(time_zone as varchar) as course_time_zone,
            cast(default_view as varchar) as course_default_view,
            cast(is_public as boolean) as course_is_public,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
