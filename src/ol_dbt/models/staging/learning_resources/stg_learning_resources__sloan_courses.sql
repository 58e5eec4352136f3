with
    source as (select * from {{ lake_source_or_empty('learning_resources', 'sloan_courses') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(title as varchar) as course_title,
            cast(description as varchar) as course_description,
            cast(course_url as varchar) as course_url,
            cast(certification_type as varchar) as course_certification_type,
            cast(topics as varchar) as course_topics,
            cast(nullif(trim(image_url), '') as varchar) as course_image_url,
            {{ cast_timestamp('created') }} as course_created_on,
            {{ cast_timestamp('modified') }} as course_modified_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
