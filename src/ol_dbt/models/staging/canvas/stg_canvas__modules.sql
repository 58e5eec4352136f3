with
    source as (select * from {{ canvas_source('modules') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(module_id as varchar) as module_id,
            cast(module_name as varchar) as module_name,
            cast(module_position as bigint) as module_position,
            {{ cast_timestamp('unlock_at') }} as module_unlock_at,
            cast(require_sequential_progress as boolean) as module_requires_sequential_progress,
            cast(published as boolean) as module_is_published,
            cast(items_count as bigint) as module_items_count,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
