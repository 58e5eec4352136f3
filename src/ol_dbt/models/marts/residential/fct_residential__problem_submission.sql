-- One row per legacy LMS deployment, learner and problem block (courseware_studentmodule,
-- latest version): the grade, the share of the maximum and the attempts from the block's state
-- JSON.
with
    studentmodule as (
        select * from {{ ref('int_residential__studentmodule') }} where block_category = 'problem'
    ),

    users as (select * from {{ ref('stg_residential__users') }}),

    final as (
        select
            cast(studentmodule.openedx_deployment as varchar) as openedx_deployment,
            cast(studentmodule.studentmodule_id as bigint) as studentmodule_id,
            cast(studentmodule.courserun_readable_id as varchar) as courserun_readable_id,
            cast(studentmodule.block_usage_key as varchar) as problem_block_usage_key,
            cast(users.user_username_hash as varchar) as user_hash,
            cast(studentmodule.studentmodule_grade as double) as problem_grade,
            cast(studentmodule.studentmodule_max_grade as double) as problem_max_grade,
            cast(
                case
                    when studentmodule.studentmodule_max_grade > 0
                    then studentmodule.studentmodule_grade / studentmodule.studentmodule_max_grade
                end as double
            ) as problem_grade_share,
            cast(studentmodule.studentmodule_grade is not null as boolean) as problem_is_graded,
            cast(
                {{ json_extract_scalar('studentmodule.studentmodule_state', "'$.attempts'") }}
                as bigint
            ) as problem_attempts,
            cast(studentmodule.studentmodule_created_on as timestamp(6)) as problem_first_viewed_on,
            cast(
                studentmodule.studentmodule_modified_on as timestamp(6)
            ) as problem_last_modified_on
        from studentmodule
        left join
            users
            on studentmodule.openedx_deployment = users.openedx_deployment
            and studentmodule.user_id = users.user_id
    )

select *
from final
