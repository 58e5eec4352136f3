with
    source as (select * from {{ canvas_source('folders') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(folder_id as varchar) as folder_id,
            cast(parent_folder_id as varchar) as folder_parent_id,
            cast(folder_name as varchar) as folder_name,
            cast(full_name as varchar) as folder_full_name,
            cast(folder_position as bigint) as folder_position,
            cast(files_count as bigint) as folder_files_count,
            cast(folders_count as bigint) as folder_folders_count,
            {{ cast_timestamp('created_at') }} as folder_created_at,
            {{ cast_timestamp('updated_at') }} as folder_updated_at,
            cast(locked as boolean) as folder_is_locked,
            cast(hidden as boolean) as folder_is_hidden,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
