-- One row per deployment, course run and problem that learners submitted answers to: attempts,
-- learners, correctness (of attempts, of learners eventually and at their first attempt) and
-- answers shown. From the server's `problem_check` events (the ones that carry the result).
with
    problem_activity as (
        select *
        from {{ ref('int_openedx__problem_activity') }}
        where courserun_readable_id is not null and problem_block_id is not null
    ),

    per_problem as (
        select
            openedx_deployment,
            courserun_readable_id,
            problem_block_id,
            count(case when problem_action = 'check' then 1 end) as attempt_count,
            count(
                case when problem_action = 'check' and problem_is_correct then 1 end
            ) as correct_attempt_count,
            count(distinct case when problem_action = 'check' then user_id end) as learner_count,
            count(
                distinct case when problem_action = 'check' and problem_is_correct then user_id end
            ) as correct_learner_count,
            count(
                distinct case
                    when
                        problem_action = 'check'
                        and problem_is_correct
                        and problem_attempt_number = 1
                    then user_id
                end
            ) as first_attempt_correct_learner_count,
            count(case when problem_action = 'show_answer' then 1 end) as show_answer_count,
            max(case when problem_action = 'check' then problem_max_grade end) as problem_max_grade,
            min(case when problem_action = 'check' then event_at end) as first_attempt_at,
            max(case when problem_action = 'check' then event_at end) as last_attempt_at
        from problem_activity
        group by openedx_deployment, courserun_readable_id, problem_block_id
    ),

    final as (
        select
            cast(openedx_deployment as varchar) as openedx_deployment,
            cast(courserun_readable_id as varchar) as courserun_readable_id,
            cast(problem_block_id as varchar) as problem_block_id,
            cast(attempt_count as bigint) as attempt_count,
            cast(correct_attempt_count as bigint) as correct_attempt_count,
            cast(learner_count as bigint) as learner_count,
            cast(correct_learner_count as bigint) as correct_learner_count,
            cast(
                first_attempt_correct_learner_count as bigint
            ) as first_attempt_correct_learner_count,
            cast(show_answer_count as bigint) as show_answer_count,
            cast(problem_max_grade as double) as problem_max_grade,
            cast(
                case
                    when learner_count > 0 then cast(attempt_count as double) / learner_count
                end as double
            ) as average_attempts_per_learner,
            cast(first_attempt_at as timestamp(6)) as first_attempt_at,
            cast(last_attempt_at as timestamp(6)) as last_attempt_at
        from per_problem
        where attempt_count > 0
    )

select *
from final
