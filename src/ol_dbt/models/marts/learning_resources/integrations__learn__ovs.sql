-- Open Video Studio's public videos as MIT Learn learning resources: the details of the videos
-- the latest list still has (a deleted video's detail stays in the lake, but not here, so its
-- delivery sends a delete webhook), marked for MIT Learn.
with
    videos as (select * from {{ ref('stg_learning_resources__ovs_videos') }}),

    listed as (select * from {{ ref('stg_learning_resources__ovs_video_list') }}),

    resources as (
        select
            videos.video_key as readable_id,
            'video' as resource_type,
            'Video' as resource_category,
            videos.video_title as title,
            'https://video.odl.mit.edu/videos/' || videos.video_key || '/' as url,
            videos.video_description as description,
            videos.video_cover_art_url as image_url,
            videos.video_title as image_alt,
            cast(null as varchar) as topics,
            'ol' as offered_by_code,
            'ovs' as platform,
            'ovs' as etl_source,
            true as published,
            cast(null as timestamp(6)) as start_on,
            cast(null as timestamp(6)) as end_on,
            videos.video_created_on as created_on,
            videos.video_updated_on as last_modified_on
        from videos
        inner join listed on videos.video_key = listed.video_key
        where videos.video_is_included_in_learn and videos.video_title is not null
    ),

    final as ({{ learning_resource_columns('resources') }})

select *
from final
