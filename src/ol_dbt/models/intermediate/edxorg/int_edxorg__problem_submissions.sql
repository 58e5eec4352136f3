-- One row per learner and problem of an edX.org course run (grain: source system, course run,
-- user, block): the problem's courseware_studentmodule record in the latest archive holding the
-- course (its grade, maximum grade and attempts, from the parsed state), with the problem's title.
with
    studentmodule as (
        select * from {{ ref('stg_edxorg__studentmodule') }} where block_type = 'problem'
    ),

    blocks as (select * from {{ ref('int_edxorg__course_blocks') }}),

    latest as (select * from {{ edxorg_latest_archive('studentmodule') }}),

    unique_submissions as (
        select *
        from
            {{ deduplicate(
        'latest',
        partition_by=['courserun_source_system', 'archive_courserun_readable_id', 'user_id', 'block_id'],
        order_by=['studentmodule_modified_at desc nulls last', 'studentmodule_id desc'],
    ) }}
    )

select
    unique_submissions.archive_date,
    unique_submissions.courserun_source_system,
    unique_submissions.archive_courserun_readable_id as courserun_readable_id,
    unique_submissions.user_id,
    unique_submissions.block_id as problem_block_id,
    blocks.block_title as problem_title,
    unique_submissions.problem_attempts,
    unique_submissions.problem_grade,
    unique_submissions.problem_max_grade,
    unique_submissions.studentmodule_created_at as problem_first_seen_at,
    unique_submissions.studentmodule_modified_at as problem_last_modified_at
from unique_submissions
left join
    blocks
    on unique_submissions.courserun_source_system = blocks.courserun_source_system
    and unique_submissions.archive_courserun_readable_id = blocks.courserun_readable_id
    and unique_submissions.block_id = blocks.block_id
