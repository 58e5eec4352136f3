with
    source as (
        select * from {{ lake_source_or_empty('learning_resources', 'mit_climate_articles') }}
    ),

    renamed as (
        select
            cast(article_uuid as varchar) as article_uuid,
            cast({{ unescape_html('article_title') }} as varchar) as article_title,
            cast(article_path as varchar) as article_path,
            cast(summary as varchar) as article_summary,
            cast(footnotes as varchar) as article_footnotes,
            cast(byline as varchar) as article_byline,
            cast(nullif(trim(image_src), '') as varchar) as article_image_path,
            cast(image_alt as varchar) as article_image_alt,
            cast(topics as varchar) as article_topics,
            {{ local_timestamp_to_utc('created', 'America/New_York') }} as article_created_on,
            {{ local_timestamp_to_utc('changed', 'America/New_York') }} as article_modified_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
