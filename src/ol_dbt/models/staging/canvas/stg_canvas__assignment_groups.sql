with
    source as (select * from {{ canvas_source('assignment_groups') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(assignment_group_id as varchar) as assignment_group_id,
            cast(assignment_group_name as varchar) as assignment_group_name,
            cast(assignment_group_position as bigint) as assignment_group_position,
            cast(group_weight as double) as assignment_group_weight,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
