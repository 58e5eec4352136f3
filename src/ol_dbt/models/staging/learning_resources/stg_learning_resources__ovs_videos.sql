with
    source as (select * from {{ lake_source_or_empty('learning_resources', 'ovs_videos') }}),

    renamed as (
        select
            cast(video_key as varchar) as video_key,
            cast(title as varchar) as video_title,
            cast(description as varchar) as video_description,
            cast(collection_title as varchar) as video_collection_title,
            {{ cast_timestamp('created_at') }} as video_created_on,
            {{ cast_timestamp('updated_at') }} as video_updated_on,
            cast(duration_seconds as bigint) as video_duration_seconds,
            cast(nullif(trim(cover_art_url), '') as varchar) as video_cover_art_url,
            cast(youtube_id as varchar) as video_youtube_id,
            cast(coalesce(include_in_learn, false) as boolean) as video_is_included_in_learn,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
