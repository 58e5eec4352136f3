-- MIT Professional Education's courses and programs as MIT Learn learning resources.
with
    mitpe as (select * from {{ ref('stg_learning_resources__mitpe_resources') }}),

    resources as (
        select
            mitpe_resource_uuid as readable_id,
            case when mitpe_feed = 'programs' then 'program' else 'course' end as resource_type,
            case when mitpe_feed = 'programs' then 'Program' else 'Course' end as resource_category,
            mitpe_resource_title as title,
            mitpe_resource_url as url,
            mitpe_resource_description as description,
            mitpe_image_url as image_url,
            mitpe_image_alt as image_alt,
            mitpe_topics as topics,
            'mitpe' as offered_by_code,
            'mitpe' as platform,
            'mitpe' as etl_source,
            true as published,
            mitpe_course_start_on as start_on,
            mitpe_course_end_on as end_on,
            cast(null as timestamp(6)) as created_on,
            cast(null as timestamp(6)) as last_modified_on
        from mitpe
        where mitpe_resource_url is not null and mitpe_resource_title is not null
    ),

    final as ({{ learning_resource_columns('resources') }})

select *
from final
