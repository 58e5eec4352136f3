-- One row per edX.org course run (grain: courserun_readable_id, courserun_source_system): the
-- catalog's attributes (Discovery API) with the course structure (the OLX blocks of the latest
-- archive) and the enrollment counts of the archives. A run in the catalog that no archive holds
-- has no structure; a run only the archives hold (an edge.edx.org run, a CCX) has no catalog
-- attributes. Course ids are kept as edX writes them (legacy ids stay legacy).
with
    catalog_runs as (
        select *
        from
            {{ deduplicate(
        ref('stg_edxorg__course_runs'),
        partition_by='courserun_readable_id',
        order_by=['retrieved_at desc', 'courserun_uuid'],
    ) }}
    ),

    blocks as (select * from {{ ref('int_edxorg__course_blocks') }}),

    enrollments as (select * from {{ ref('int_edxorg__enrollments') }}),

    structure as (
        select
            courserun_source_system,
            courserun_readable_id,
            max(archive_date) as archive_date,
            max(case when block_type = 'course' then block_title end) as structure_title,
            max(case when block_type = 'course' then block_start_at end) as structure_start_at,
            max(case when block_type = 'course' then block_end_at end) as structure_end_at,
            count(*) as block_count,
            count(case when block_type = 'chapter' then 1 end) as chapter_count,
            count(case when block_type = 'sequential' then 1 end) as sequential_count,
            count(case when block_type = 'vertical' then 1 end) as vertical_count,
            count(case when block_type = 'problem' then 1 end) as problem_count,
            count(case when block_type = 'video' then 1 end) as video_count,
            count(
                case when block_type = 'sequential' and block_is_graded then 1 end
            ) as graded_sequential_count
        from blocks
        group by courserun_source_system, courserun_readable_id
    ),

    enrollment_counts as (
        select
            courserun_source_system,
            courserun_readable_id,
            max(archive_date) as archive_date,
            count(*) as enrollment_count,
            count(case when enrollment_is_active then 1 end) as active_enrollment_count,
            count(case when enrollment_mode = 'verified' then 1 end) as verified_enrollment_count,
            count(case when certificate_status = 'downloadable' then 1 end) as certificate_count
        from enrollments
        group by courserun_source_system, courserun_readable_id
    ),

    archived_runs as (
        select courserun_source_system, courserun_readable_id
        from structure
        union
        select courserun_source_system, courserun_readable_id
        from enrollment_counts
    ),

    runs as (
        select
            archived_runs.courserun_source_system,
            coalesce(
                archived_runs.courserun_readable_id, catalog_runs.courserun_readable_id
            ) as courserun_readable_id
        from archived_runs
        full outer join
            catalog_runs on archived_runs.courserun_readable_id = catalog_runs.courserun_readable_id
    ),

    final as (
        select
            cast(runs.courserun_readable_id as varchar) as courserun_readable_id,
            cast(runs.courserun_source_system as varchar) as courserun_source_system,
            cast(catalog_runs.course_readable_id as varchar) as course_readable_id,
            cast(
                coalesce(catalog_runs.courserun_title, structure.structure_title) as varchar
            ) as courserun_title,
            cast(
                runs.courserun_readable_id not like 'course-v1:%'
                and runs.courserun_readable_id not like 'ccx-v1:%' as boolean
            ) as courserun_has_legacy_id,
            cast(runs.courserun_readable_id like 'ccx-v1:%' as boolean) as courserun_is_ccx,
            cast(
                catalog_runs.courserun_readable_id is not null as boolean
            ) as courserun_is_in_catalog,
            cast(
                coalesce(
                    catalog_runs.courserun_start_at, structure.structure_start_at
                ) as timestamp(6)
            ) as courserun_start_at,
            cast(
                coalesce(catalog_runs.courserun_end_at, structure.structure_end_at) as timestamp(6)
            ) as courserun_end_at,
            cast(
                catalog_runs.courserun_enrollment_start_at as timestamp(6)
            ) as courserun_enrollment_start_at,
            cast(
                catalog_runs.courserun_enrollment_end_at as timestamp(6)
            ) as courserun_enrollment_end_at,
            cast(catalog_runs.courserun_pacing_type as varchar) as courserun_pacing_type,
            cast(catalog_runs.courserun_status as varchar) as courserun_status,
            cast(catalog_runs.courserun_availability as varchar) as courserun_availability,
            cast(catalog_runs.courserun_is_enrollable as boolean) as courserun_is_enrollable,
            cast(coalesce(structure.block_count, 0) as bigint) as block_count,
            cast(coalesce(structure.chapter_count, 0) as bigint) as chapter_count,
            cast(coalesce(structure.sequential_count, 0) as bigint) as sequential_count,
            cast(
                coalesce(structure.graded_sequential_count, 0) as bigint
            ) as graded_sequential_count,
            cast(coalesce(structure.vertical_count, 0) as bigint) as vertical_count,
            cast(coalesce(structure.problem_count, 0) as bigint) as problem_count,
            cast(coalesce(structure.video_count, 0) as bigint) as video_count,
            cast(coalesce(enrollment_counts.enrollment_count, 0) as bigint) as enrollment_count,
            cast(
                coalesce(enrollment_counts.active_enrollment_count, 0) as bigint
            ) as active_enrollment_count,
            cast(
                coalesce(enrollment_counts.verified_enrollment_count, 0) as bigint
            ) as verified_enrollment_count,
            cast(coalesce(enrollment_counts.certificate_count, 0) as bigint) as certificate_count,
            cast(
                case
                    when structure.archive_date is null
                    then enrollment_counts.archive_date
                    when enrollment_counts.archive_date is null
                    then structure.archive_date
                    when structure.archive_date > enrollment_counts.archive_date
                    then structure.archive_date
                    else enrollment_counts.archive_date
                end as date
            ) as latest_archive_date
        from runs
        left join catalog_runs on runs.courserun_readable_id = catalog_runs.courserun_readable_id
        left join
            structure
            on runs.courserun_source_system = structure.courserun_source_system
            and runs.courserun_readable_id = structure.courserun_readable_id
        left join
            enrollment_counts
            on runs.courserun_source_system = enrollment_counts.courserun_source_system
            and runs.courserun_readable_id = enrollment_counts.courserun_readable_id
    )

select *
from final
