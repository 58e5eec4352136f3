with
    source as (select * from {{ canvas_source('pages') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(page_id as varchar) as page_id,
            cast(page_url as varchar) as page_url,
            cast(page_title as varchar) as page_title,
            {{ cast_timestamp('created_at') }} as page_created_at,
            {{ cast_timestamp('updated_at') }} as page_updated_at,
            cast(published as boolean) as page_is_published,
            cast(front_page as boolean) as page_is_front_page,
            cast(editing_roles as varchar) as page_editing_roles,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
