-- One row per course and section: the latest record of the section.

with sections as (
    select * from {{ ref('stg_canvas__sections') }}
),

ranked as (
    select
        sections.*,
        row_number() over (
            partition by sections.course_id, sections.section_id
            order by sections.retrieved_at desc nulls last, sections.section_created_at desc nulls last
        ) as section_rank
    from sections
),

deduplicated as (
    select
        course_id,
        section_id,
        section_name,
        section_sis_id,
        section_start_at,
        section_end_at,
        section_is_restricted_to_section_dates,
        section_created_at,
        retrieved_at
    from ranked
    where section_rank = 1
)

select * from deduplicated
