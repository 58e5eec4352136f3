with
    source as (select * from {{ canvas_source('sections') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(section_id as varchar) as section_id,
            cast(section_name as varchar) as section_name,
            cast(sis_section_id as varchar) as section_sis_id,
            {{ cast_timestamp('start_at') }} as section_start_at,
            {{ cast_timestamp('end_at') }} as section_end_at,
            cast(
                restrict_enrollments_to_section_dates as boolean
            ) as section_is_restricted_to_section_dates,
            {{ cast_timestamp('created_at') }} as section_created_at,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
