with
    source as (select * from {{ lake_source_or_empty('learning_resources', 'ovs_video_list') }}),

    renamed as (
        select
            cast(video_key as varchar) as video_key,
            cast(title as varchar) as video_title,
            {{ cast_timestamp('updated_at') }} as video_updated_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
