-- One row per legacy LMS deployment and enrollment: the learner only as user_hash, with the
-- profile's demographic fields (a learner without a profile has nulls).
with
    enrollments as (select * from {{ ref('stg_residential__enrollments') }}),

    users as (select * from {{ ref('stg_residential__users') }}),

    profiles as (select * from {{ ref('stg_residential__user_profiles') }}),

    final as (
        select
            cast(enrollments.openedx_deployment as varchar) as openedx_deployment,
            cast(enrollments.enrollment_id as bigint) as enrollment_id,
            cast(enrollments.courserun_readable_id as varchar) as courserun_readable_id,
            cast(users.user_username_hash as varchar) as user_hash,
            cast(enrollments.enrollment_mode as varchar) as enrollment_mode,
            cast(enrollments.enrollment_is_active as boolean) as enrollment_is_active,
            cast(enrollments.enrollment_created_on as timestamp(6)) as enrollment_created_on,
            cast(users.user_joined_on as timestamp(6)) as user_joined_on,
            cast(profiles.user_country_code as varchar) as user_country_code,
            cast(profiles.user_year_of_birth as bigint) as user_year_of_birth,
            cast(profiles.user_gender as varchar) as user_gender,
            cast(profiles.user_highest_education as varchar) as user_highest_education,
            cast(enrollments.retrieved_at as timestamp(6)) as enrollment_retrieved_at
        from enrollments
        left join
            users
            on enrollments.openedx_deployment = users.openedx_deployment
            and enrollments.user_id = users.user_id
        left join
            profiles
            on enrollments.openedx_deployment = profiles.openedx_deployment
            and enrollments.user_id = profiles.user_id
    )

select *
from final
