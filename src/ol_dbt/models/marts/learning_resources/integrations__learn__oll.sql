-- Open Learning Library's courses as MIT Learn learning resources (offered by MITx; a course the
-- list marks unpublished is delivered unpublished, not deleted).
with
    courses as (select * from {{ ref('stg_learning_resources__oll_courses') }}),

    resources as (
        select
            course_readable_id as readable_id,
            'course' as resource_type,
            'Course' as resource_category,
            course_title as title,
            course_url as url,
            course_description as description,
            course_image_url as image_url,
            course_title as image_alt,
            course_topics as topics,
            'mitx' as offered_by_code,
            'oll' as platform,
            'oll' as etl_source,
            course_is_published as published,
            cast(null as timestamp(6)) as start_on,
            cast(null as timestamp(6)) as end_on,
            cast(null as timestamp(6)) as created_on,
            cast(null as timestamp(6)) as last_modified_on
        from courses
        where course_url is not null and course_title is not null
    ),

    final as ({{ learning_resource_columns('resources') }})

select *
from final
