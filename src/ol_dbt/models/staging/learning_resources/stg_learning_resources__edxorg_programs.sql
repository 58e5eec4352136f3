-- MIT's programs in edX.org's catalog, as the learning_resources models need them. The raw table
-- is the edxorg location's (edxorg/raw/catalog_programs, one snapshot per run); built empty until
-- it has landed (lake_source_or_empty).
with
    source as (select * from {{ lake_source_or_empty('edxorg', 'catalog_programs') }}),

    renamed as (
        select
            cast(program_uuid as varchar) as program_uuid,
            cast(program_title as varchar) as program_title,
            cast(program_subtitle as varchar) as program_subtitle,
            cast(program_type as varchar) as program_type,
            cast(program_status as varchar) as program_status,
            cast(marketing_slug as varchar) as program_marketing_slug,
            cast(authoring_organizations as varchar) as program_authoring_organizations,
            cast(course_keys as varchar) as program_course_keys,
            {{ cast_timestamp('data_modified_timestamp') }} as program_modified_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
