with
    source as (select * from {{ lake_source_or_empty('edxorg', 'course_blocks') }}),

    renamed as (
        select
            cast(archive_date as date) as archive_date,
            cast(source_system as varchar) as courserun_source_system,
            cast(archive_course_id as varchar) as archive_courserun_readable_id,
            cast(block_id as varchar) as block_id,
            cast(block_type as varchar) as block_type,
            cast(display_name as varchar) as block_title,
            cast(parent_block_id as varchar) as parent_block_id,
            cast(url_name as varchar) as block_url_name,
            cast(block_index as bigint) as block_index,
            cast(block_depth as bigint) as block_depth,
            cast(block_position as bigint) as block_position,
            cast(graded as boolean) as block_is_graded,
            cast(block_format as varchar) as block_format,
            {{ cast_timestamp('due') }} as block_due_at,
            {{ cast_timestamp('start') }} as block_start_at,
            {{ cast_timestamp(json_extract_scalar('attributes', "'$.end'")) }} as block_end_at,
            cast(attributes as varchar) as block_attributes
        from source
    )

select *
from renamed
