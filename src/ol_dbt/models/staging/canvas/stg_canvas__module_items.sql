with
    source as (select * from {{ canvas_source('module_items') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(module_id as varchar) as module_id,
            cast(module_item_id as varchar) as module_item_id,
            cast(module_item_position as bigint) as module_item_position,
            cast(item_title as varchar) as module_item_title,
            cast(item_type as varchar) as module_item_type,
            cast(content_id as varchar) as module_item_content_id,
            cast(page_url as varchar) as module_item_page_url,
            cast(external_url as varchar) as module_item_external_url,
            cast(indent as bigint) as module_item_indent,
            cast(published as boolean) as module_item_is_published,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
