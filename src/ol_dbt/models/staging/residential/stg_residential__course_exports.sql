-- The OLX export of every course of every legacy LMS's latest extraction day: its size and the
-- published blocks of its OLX.
with
    source as (
        {{ union_legacy_openedx_deployments('course_exports', [
        'deployment', 'course_id', 'course_title', 'size_bytes', 'block_count', 'problem_count',
        'video_count', 'retrieved_at',
    ]) }}
    ),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(course_id as varchar) as courserun_readable_id,
            cast(course_title as varchar) as olx_course_title,
            cast(size_bytes as bigint) as olx_export_size_bytes,
            cast(block_count as bigint) as olx_block_count,
            cast(problem_count as bigint) as olx_problem_count,
            cast(video_count as bigint) as olx_video_count,
            {{ cast_timestamp('retrieved_at') }} as olx_exported_at
        from source
    )

select *
from renamed
