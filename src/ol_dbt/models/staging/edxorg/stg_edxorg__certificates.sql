with
    source as (
        select * from {{ lake_source_or_empty('edxorg', 'certificates_generatedcertificate') }}
    ),

    renamed as (
        select
            cast(archive_date as date) as archive_date,
            cast(source_system as varchar) as courserun_source_system,
            cast(archive_course_id as varchar) as archive_courserun_readable_id,
            cast(id as bigint) as certificate_id,
            cast(user_id as bigint) as user_id,
            cast(course_id as varchar) as courserun_readable_id,
            -- the grade is text in the source (`0.87`, blank, or `NULL` in older dumps)
            {{ text_to_double('grade') }} as certificate_grade,
            cast(nullif(status, '') as varchar) as certificate_status,
            cast(nullif(mode, '') as varchar) as certificate_mode,
            cast(distinction as boolean) as certificate_has_distinction,
            -- personal data: only a salted hash leaves staging
            {{ hash_pii("nullif(name, '')") }} as certificate_name_hash,
            {{ cast_naive_utc_timestamp('created_date') }} as certificate_created_at,
            {{ cast_naive_utc_timestamp('modified_date') }} as certificate_modified_at
        from source
    )

select *
from renamed
