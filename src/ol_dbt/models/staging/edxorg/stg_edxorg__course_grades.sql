with
    source as (select * from {{ lake_source_or_empty('edxorg', 'grades_persistentcoursegrade') }}),

    renamed as (
        select
            cast(archive_date as date) as archive_date,
            cast(source_system as varchar) as courserun_source_system,
            cast(archive_course_id as varchar) as archive_courserun_readable_id,
            cast(id as bigint) as course_grade_id,
            cast(user_id as bigint) as user_id,
            cast(course_id as varchar) as courserun_readable_id,
            cast(percent_grade as double) as course_grade_percent,
            cast(nullif(nullif(letter_grade, ''), 'NULL') as varchar) as course_grade_letter,
            {{ cast_naive_utc_timestamp('passed_timestamp') }} as course_grade_passed_at,
            {{ cast_naive_utc_timestamp('modified') }} as course_grade_modified_at
        from source
    )

select *
from renamed
