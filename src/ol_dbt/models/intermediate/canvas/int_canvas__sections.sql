-- One row per course and section: the latest record of the section.
with
    sections as (select * from {{ ref('stg_canvas__sections') }}),

    deduplicated as (
        select *
        from
            {{ deduplicate(
        'sections',
        partition_by=['course_id', 'section_id'],
        order_by=['retrieved_at desc nulls last', 'section_created_at desc nulls last'],
    ) }}
    )

select *
from deduplicated
