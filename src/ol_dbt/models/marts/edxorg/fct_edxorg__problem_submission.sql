-- One row per learner and problem of an edX.org course run (grain: courserun_source_system,
-- courserun_readable_id, user_id, problem_block_id), from courseware_studentmodule: the grade,
-- maximum grade and attempts (read from the record's state JSON, also when edX encoded it twice)
-- as of the latest archive holding the course, with the problem's title from the course's OLX.
with
    submissions as (select * from {{ ref('int_edxorg__problem_submissions') }}),

    final as (
        select
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(courserun_source_system as varchar) as courserun_source_system,
            cast(user_id as bigint) as user_id,
            cast(problem_block_id as varchar) as problem_block_id,
            cast(problem_title as varchar) as problem_title,
            cast(coalesce(problem_attempts, 0) as bigint) as problem_attempts,
            cast(problem_grade as double) as problem_grade,
            cast(problem_max_grade as double) as problem_max_grade,
            cast(
                problem_max_grade > 0 and problem_grade = problem_max_grade as boolean
            ) as problem_is_correct,
            cast(problem_first_seen_at as timestamp(6)) as problem_first_seen_at,
            cast(problem_last_modified_at as timestamp(6)) as problem_last_modified_at,
            cast(archive_date as date) as archive_date
        from submissions
    )

select *
from final
