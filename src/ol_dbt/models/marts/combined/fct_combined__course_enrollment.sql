-- One row per learner and course run on every platform (grain: platform, account_id,
-- courserun_readable_id): the enrollment's mode and status, the final grade (0 to 1) and whether
-- a certificate was earned, as each platform's own mart has it:
-- mitxonline, xpro  fct_<app>__course_enrollment (the application database)
-- edxorg            fct_edxorg__enrollment (edX.org's archives; prod and edge)
-- residential       fct_residential__enrollment of residential MITx (the `mitx` LMS database;
-- MITx Online's and xPro's LMS enrollments are the apps' own)
-- canvas            fct_canvas__enrollment's student enrollments, one per learner and course
-- (the latest of their sections), the final score as the grade
-- A platform that has not landed adds no row; learner_id is from dim_combined__learner.
with
    matches as (select * from {{ ref('int_combined__learner_matches') }}),

    mitxonline as (select * from {{ ref('fct_mitxonline__course_enrollment') }}),

    xpro as (select * from {{ ref('fct_xpro__course_enrollment') }}),

    edxorg as (select * from {{ ref('fct_edxorg__enrollment') }}),

    residential as (
        select * from {{ ref('fct_residential__enrollment') }} where openedx_deployment = 'mitx'
    ),

    residential_users as (
        select * from {{ ref('stg_residential__users') }} where openedx_deployment = 'mitx'
    ),

    canvas_students as (
        select * from {{ ref('fct_canvas__enrollment') }} where enrollment_is_student
    ),

    canvas as (
        select *
        from
            {{ deduplicate(
        'canvas_students',
        partition_by=['course_id', 'user_id_hash'],
        order_by=['enrollment_updated_at desc nulls last', 'enrollment_id desc'],
    ) }}
    ),

    enrollments as (
        select
            'mitxonline' as platform,
            'app' as account_source,
            cast(user_id as varchar) as account_id,
            courserun_readable_id,
            enrollment_mode,
            enrollment_is_active,
            enrollment_created_on as enrolled_on,
            final_grade,
            final_letter_grade,
            grade_is_passing,
            has_certificate
        from mitxonline

        union all

        select
            'xpro' as platform,
            'app' as account_source,
            cast(user_id as varchar) as account_id,
            courserun_readable_id,
            enrollment_mode,
            enrollment_is_active,
            enrollment_created_on as enrolled_on,
            final_grade,
            final_letter_grade,
            grade_is_passing,
            has_certificate
        from xpro

        union all

        select
            'edxorg' as platform,
            'edxorg' as account_source,
            cast(user_id as varchar) as account_id,
            courserun_readable_id,
            enrollment_mode,
            enrollment_is_active,
            enrollment_created_at as enrolled_on,
            final_grade,
            final_letter_grade,
            course_passed_at is not null as grade_is_passing,
            enrollment_is_certified as has_certificate
        from edxorg

        union all

        select
            'residential' as platform,
            'openedx' as account_source,
            cast(residential_users.user_id as varchar) as account_id,
            residential.courserun_readable_id,
            residential.enrollment_mode,
            residential.enrollment_is_active,
            residential.enrollment_created_on as enrolled_on,
            cast(null as double) as final_grade,
            cast(null as varchar) as final_letter_grade,
            cast(null as boolean) as grade_is_passing,
            cast(null as boolean) as has_certificate
        from residential
        left join residential_users on residential.user_hash = residential_users.user_username_hash

        union all

        select
            'canvas' as platform,
            'canvas' as account_source,
            user_id_hash as account_id,
            course_id as courserun_readable_id,
            cast(null as varchar) as enrollment_mode,
            enrollment_is_active,
            enrollment_created_at as enrolled_on,
            enrollment_final_score / 100.0 as final_grade,
            enrollment_final_grade as final_letter_grade,
            cast(null as boolean) as grade_is_passing,
            cast(null as boolean) as has_certificate
        from canvas
    ),

    final as (
        select
            cast(matches.learner_id as varchar) as learner_id,
            cast(enrollments.platform as varchar) as platform,
            cast(enrollments.account_id as varchar) as account_id,
            cast(enrollments.courserun_readable_id as varchar) as courserun_readable_id,
            cast(enrollments.enrollment_mode as varchar) as enrollment_mode,
            cast(enrollments.enrollment_is_active as boolean) as enrollment_is_active,
            cast(enrollments.enrolled_on as timestamp(6)) as enrolled_on,
            cast(enrollments.final_grade as double) as final_grade,
            cast(enrollments.final_letter_grade as varchar) as final_letter_grade,
            cast(enrollments.grade_is_passing as boolean) as grade_is_passing,
            cast(enrollments.has_certificate as boolean) as has_certificate
        from enrollments
        left join
            matches
            on enrollments.platform
            || ':'
            || enrollments.account_source
            || ':'
            || enrollments.account_id
            = matches.account_key
    )

select *
from final
