-- MIT Climate Portal articles as MIT Learn learning resources. The portal sends paths; the
-- catalog gets the public site's URLs.
with
    articles as (select * from {{ ref('stg_learning_resources__mit_climate_articles') }}),

    resources as (
        select
            article_uuid as readable_id,
            'article' as resource_type,
            'Article' as resource_category,
            article_title as title,
            'https://climate.mit.edu' || article_path as url,
            article_summary as description,
            case
                when article_image_path is not null
                then 'https://climate.mit.edu' || article_image_path
            end as image_url,
            article_image_alt as image_alt,
            article_topics as topics,
            'climate' as offered_by_code,
            'climate' as platform,
            'mit_climate' as etl_source,
            true as published,
            cast(null as timestamp(6)) as start_on,
            cast(null as timestamp(6)) as end_on,
            article_created_on as created_on,
            article_modified_on as last_modified_on
        from articles
        where article_path is not null
    ),

    final as ({{ learning_resource_columns('resources') }})

select *
from final
