with
    source as (select * from {{ canvas_source('files') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(file_id as varchar) as file_id,
            cast(folder_id as varchar) as folder_id,
            cast(display_name as varchar) as file_display_name,
            cast(filename as varchar) as file_name,
            cast(content_type as varchar) as file_content_type,
            cast(size_bytes as bigint) as file_size_bytes,
            {{ cast_timestamp('created_at') }} as file_created_at,
            {{ cast_timestamp('updated_at') }} as file_updated_at,
            {{ cast_timestamp('modified_at') }} as file_modified_at,
            cast(locked as boolean) as file_is_locked,
            cast(hidden as boolean) as file_is_hidden,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
