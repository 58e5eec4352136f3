with
    source as (
        select * from {{ lake_source_or_empty('learning_resources', 'sloan_course_offerings') }}
    ),

    renamed as (
        select
            cast(offering_id as varchar) as offering_id,
            cast(course_id as varchar) as course_id,
            cast(offering_title as varchar) as offering_title,
            {{ cast_timestamp('start_date') }} as offering_start_on,
            {{ cast_timestamp('end_date') }} as offering_end_on,
            cast(delivery as varchar) as offering_delivery,
            cast(duration as varchar) as offering_duration,
            cast(price as double) as offering_price,
            cast(location as varchar) as offering_location,
            cast(faculty as varchar) as offering_faculty,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
