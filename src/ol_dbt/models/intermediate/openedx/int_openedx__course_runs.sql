-- One row per deployment and course run: the latest extract of the run with the block counts of
-- its latest course structure.
with
    course_runs as (select * from {{ ref('stg_openedx__course_runs') }}),

    course_blocks as (select * from {{ ref('stg_openedx__course_blocks') }}),

    latest_course_runs as (
        select *
        from
            {{ deduplicate(
        'course_runs',
        partition_by=['openedx_deployment', 'courserun_readable_id'],
        order_by='retrieved_at desc nulls last',
    ) }}
    ),

    -- the structure as of its latest extract, so blocks removed from a course stop counting
    latest_structure_extracts as (
        select
            openedx_deployment, courserun_readable_id, max(retrieved_at) as structure_retrieved_at
        from course_blocks
        group by openedx_deployment, courserun_readable_id
    ),

    latest_course_blocks as (
        select course_blocks.*
        from course_blocks
        inner join
            latest_structure_extracts
            on course_blocks.openedx_deployment = latest_structure_extracts.openedx_deployment
            and course_blocks.courserun_readable_id
            = latest_structure_extracts.courserun_readable_id
            and course_blocks.retrieved_at = latest_structure_extracts.structure_retrieved_at
    ),

    block_counts as (
        select
            openedx_deployment,
            courserun_readable_id,
            count(distinct block_id) as block_count,
            count(distinct case when block_category = 'chapter' then block_id end) as chapter_count,
            count(
                distinct case when block_category = 'sequential' then block_id end
            ) as sequential_count,
            count(
                distinct case when block_category = 'vertical' then block_id end
            ) as vertical_count,
            count(distinct case when block_category = 'problem' then block_id end) as problem_count,
            count(distinct case when block_category = 'video' then block_id end) as video_count,
            count(distinct case when block_is_graded then block_id end) as graded_block_count,
            count(
                distinct case
                    when block_category = 'sequential' and block_is_graded then block_id
                end
            ) as graded_sequential_count
        from latest_course_blocks
        group by openedx_deployment, courserun_readable_id
    ),

    joined as (
        select
            latest_course_runs.openedx_deployment,
            latest_course_runs.courserun_readable_id,
            latest_course_runs.courserun_title,
            latest_course_runs.courserun_org,
            latest_course_runs.course_number,
            latest_course_runs.courserun_tag,
            latest_course_runs.courserun_start_on,
            latest_course_runs.courserun_end_on,
            latest_course_runs.courserun_enrollment_start_on,
            latest_course_runs.courserun_enrollment_end_on,
            latest_course_runs.courserun_pacing,
            latest_course_runs.courserun_pacing = 'self' as courserun_is_self_paced,
            latest_course_runs.courserun_short_description,
            latest_course_runs.courserun_is_hidden,
            latest_course_runs.courserun_is_invitation_only,
            latest_course_runs.courserun_is_mobile_available,
            latest_course_runs.courserun_blocks_url,
            latest_course_runs.retrieved_at,
            coalesce(block_counts.block_count, 0) as block_count,
            coalesce(block_counts.chapter_count, 0) as chapter_count,
            coalesce(block_counts.sequential_count, 0) as sequential_count,
            coalesce(block_counts.vertical_count, 0) as vertical_count,
            coalesce(block_counts.problem_count, 0) as problem_count,
            coalesce(block_counts.video_count, 0) as video_count,
            coalesce(block_counts.graded_block_count, 0) as graded_block_count,
            coalesce(block_counts.graded_sequential_count, 0) as graded_sequential_count
        from latest_course_runs
        left join
            block_counts
            on latest_course_runs.openedx_deployment = block_counts.openedx_deployment
            and latest_course_runs.courserun_readable_id = block_counts.courserun_readable_id
    )

select *
from joined
