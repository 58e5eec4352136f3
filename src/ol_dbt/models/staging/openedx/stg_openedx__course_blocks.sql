{%- set raw_columns = [
    'deployment', 'retrieved_at', 'course_id', 'block_id', 'block_type', 'block_title',
    'parent_block_id', 'block_index', 'graded', 'block_format', 'due', 'lms_web_url',
] -%}

with
    source as ({{ union_openedx_deployments('course_blocks', raw_columns) }}),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(course_id as varchar) as courserun_readable_id,
            cast(block_id as varchar) as block_id,
            cast(block_type as varchar) as block_category,
            cast(block_title as varchar) as block_title,
            cast(parent_block_id as varchar) as block_parent_id,
            cast(block_index as integer) as block_index,
            cast(graded as boolean) as block_is_graded,
            cast(block_format as varchar) as block_format,
            {{ cast_timestamp('due') }} as block_due_on,
            cast(lms_web_url as varchar) as block_lms_web_url,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
