with
    source as (select * from {{ lake_source_or_empty('edxorg', 'student_courseenrollment') }}),

    renamed as (
        select
            cast(archive_date as date) as archive_date,
            cast(source_system as varchar) as courserun_source_system,
            cast(archive_course_id as varchar) as archive_courserun_readable_id,
            cast(id as bigint) as enrollment_id,
            cast(user_id as bigint) as user_id,
            cast(course_id as varchar) as courserun_readable_id,
            {{ cast_naive_utc_timestamp('created') }} as enrollment_created_at,
            cast(is_active as boolean) as enrollment_is_active,
            cast(mode as varchar) as enrollment_mode
        from source
    )

select *
from renamed
