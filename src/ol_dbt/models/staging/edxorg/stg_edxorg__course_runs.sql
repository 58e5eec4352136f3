with
    source as (select * from {{ lake_source_or_empty('edxorg', 'catalog_course_runs') }}),

    renamed as (
        select
            -- the course id as edX writes it: a legacy `MITx/6.002x/2012_Fall` stays legacy
            cast(course_run_key as varchar) as courserun_readable_id,
            cast(course_run_uuid as varchar) as courserun_uuid,
            cast(course_key as varchar) as course_readable_id,
            cast(course_run_title as varchar) as courserun_title,
            cast(short_description as varchar) as courserun_short_description,
            {{ cast_timestamp('start') }} as courserun_start_at,
            {{ cast_timestamp('"end"') }} as courserun_end_at,
            {{ cast_timestamp('enrollment_start') }} as courserun_enrollment_start_at,
            {{ cast_timestamp('enrollment_end') }} as courserun_enrollment_end_at,
            cast(pacing_type as varchar) as courserun_pacing_type,
            cast(run_type as varchar) as courserun_type,
            cast(run_status as varchar) as courserun_status,
            cast(availability as varchar) as courserun_availability,
            cast(is_enrollable as boolean) as courserun_is_enrollable,
            cast(content_language as varchar) as courserun_language,
            cast(weeks_to_complete as bigint) as courserun_weeks_to_complete,
            cast(marketing_url as varchar) as courserun_marketing_url,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
