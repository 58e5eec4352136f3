with
    source as (select * from {{ canvas_source('content_exports') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            cast(export_id as varchar) as content_export_id,
            cast(export_type as varchar) as content_export_type,
            cast(workflow_state as varchar) as content_export_workflow_state,
            cast(content_hash as varchar) as content_export_hash,
            cast(lake_path as varchar) as content_export_lake_path,
            cast(size_bytes as bigint) as content_export_size_bytes,
            {{ cast_timestamp('exported_at') }} as content_exported_at,
            cast(skipped_unchanged as boolean) as content_export_is_skipped_unchanged,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
