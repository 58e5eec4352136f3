-- One row per Canvas course: its latest extract (a re-run replaces a course's object, but a
-- course taken off the registry keeps its last one, and Canvas paging can repeat a record).
with
    courses as (select * from {{ ref('stg_canvas__courses') }}),

    deduplicated as (
        select *
        from
            {{ deduplicate(
        'courses',
        partition_by='course_id',
        order_by=['retrieved_at desc nulls last', 'course_created_at desc nulls last'],
    ) }}
    )

select *
from deduplicated
