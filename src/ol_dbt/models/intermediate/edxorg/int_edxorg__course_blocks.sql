-- One row per published block of each edX.org course run (grain: source system, course run,
-- block): the OLX blocks of the latest archive that holds the course.
with
    blocks as (select * from {{ ref('stg_edxorg__course_blocks') }}),

    latest as (select * from {{ edxorg_latest_archive('blocks') }})

select
    archive_date,
    courserun_source_system,
    archive_courserun_readable_id as courserun_readable_id,
    block_id,
    block_type,
    block_title,
    parent_block_id,
    block_url_name,
    block_index,
    block_depth,
    block_position,
    block_is_graded,
    block_format,
    block_due_at,
    block_start_at,
    block_end_at
from latest
