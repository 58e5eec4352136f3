with
    source as (select * from {{ lake_source_or_empty('learning_resources', 'mitpe_resources') }}),

    renamed as (
        select
            cast(feed as varchar) as mitpe_feed,
            cast(resource_uuid as varchar) as mitpe_resource_uuid,
            cast({{ unescape_html('title') }} as varchar) as mitpe_resource_title,
            cast(url as varchar) as mitpe_resource_url,
            cast(description as varchar) as mitpe_resource_description,
            cast(nullif(trim(image_src), '') as varchar) as mitpe_image_url,
            cast(image_alt as varchar) as mitpe_image_alt,
            cast(topics as varchar) as mitpe_topics,
            cast(course_dates as varchar) as mitpe_course_dates,
            {{ cast_timestamp('start_date') }} as mitpe_course_start_on,
            {{ cast_timestamp('end_date') }} as mitpe_course_end_on,
            cast(learning_format as varchar) as mitpe_learning_format,
            cast(price as varchar) as mitpe_price,
            cast(location as varchar) as mitpe_location,
            cast(lead_instructors as varchar) as mitpe_lead_instructors,
            cast(program_course_uuids as varchar) as mitpe_program_course_uuids,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
