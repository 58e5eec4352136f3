with
    source as (select * from {{ lake_source_or_empty('learning_resources', 'oll_courses') }}),

    renamed as (
        select
            cast(readable_id as varchar) as course_readable_id,
            cast(title as varchar) as course_title,
            cast(url as varchar) as course_url,
            cast(nullif(trim(image_url), '') as varchar) as course_image_url,
            cast(description as varchar) as course_description,
            cast(topics as varchar) as course_topics,
            cast(year as varchar) as course_year,
            cast(semester as varchar) as course_semester,
            cast(coalesce(published, true) as boolean) as course_is_published,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
