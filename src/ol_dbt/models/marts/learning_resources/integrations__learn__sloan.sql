-- MIT Sloan Executive Education's courses as MIT Learn learning resources: one per course, dated
-- by its offerings (the first start, the last end). Sloan separates topics with commas.
with
    courses as (select * from {{ ref('stg_learning_resources__sloan_courses') }}),

    offerings as (select * from {{ ref('stg_learning_resources__sloan_course_offerings') }}),

    offering_dates as (
        select
            course_id,
            min(offering_start_on) as first_offering_start_on,
            max(offering_end_on) as last_offering_end_on
        from offerings
        group by course_id
    ),

    resources as (
        select
            courses.course_id as readable_id,
            'course' as resource_type,
            'Course' as resource_category,
            courses.course_title as title,
            courses.course_url as url,
            courses.course_description as description,
            courses.course_image_url as image_url,
            courses.course_title as image_alt,
            replace(replace(courses.course_topics, ', ', '|'), ',', '|') as topics,
            'see' as offered_by_code,
            'see' as platform,
            'sloan' as etl_source,
            true as published,
            offering_dates.first_offering_start_on as start_on,
            offering_dates.last_offering_end_on as end_on,
            courses.course_created_on as created_on,
            courses.course_modified_on as last_modified_on
        from courses
        left join offering_dates on courses.course_id = offering_dates.course_id
        where courses.course_url is not null and courses.course_title is not null
    ),

    final as ({{ learning_resource_columns('resources') }})

select *
from final
