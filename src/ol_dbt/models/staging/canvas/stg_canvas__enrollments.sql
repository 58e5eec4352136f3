with
    source as (select * from {{ canvas_source('enrollments') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(enrollment_id as varchar) as enrollment_id,
            -- pseudonymous user key: the Canvas user id does not leave staging
            {{ hash_pii('user_id') }} as user_id_hash,
            cast(section_id as varchar) as section_id,
            cast(enrollment_type as varchar) as enrollment_type,
            cast(role as varchar) as enrollment_role,
            cast(role_id as varchar) as enrollment_role_id,
            cast(enrollment_state as varchar) as enrollment_state,
            {{ cast_timestamp('created_at') }} as enrollment_created_at,
            {{ cast_timestamp('updated_at') }} as enrollment_updated_at,
            {{ cast_timestamp('last_activity_at') }} as enrollment_last_activity_at,
            cast(total_activity_time_seconds as bigint) as enrollment_total_activity_seconds,
            cast(current_score as double) as enrollment_current_score,
            cast(final_score as double) as enrollment_final_score,
            cast(current_grade as varchar) as enrollment_current_grade,
            cast(final_grade as varchar) as enrollment_final_grade,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
