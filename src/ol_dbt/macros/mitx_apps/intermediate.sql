{#
    Intermediate models of the MITx Online and xPro application databases, one macro per model,
    called with the app (the apps share their tables): int_<app>__course_run_enrollments,
    int_<app>__program_progress and int_<app>__order_lines.
#}
{#
    One row per course-run enrollment with its run, course, program, final grade and
    certificate (a revoked certificate counts as none). The app keeps one grade and one
    certificate per user and run; should it hold more, the latest counts.
#}
{% macro int_mitx_app__course_run_enrollments(app) -%}
    with
        enrollments as (select * from {{ ref('stg_' ~ app ~ '__course_run_enrollments') }}),

        runs as (select * from {{ ref('stg_' ~ app ~ '__course_runs') }}),

        courses as (select * from {{ ref('stg_' ~ app ~ '__courses') }}),

        programs as (select * from {{ ref('stg_' ~ app ~ '__programs') }}),

        all_grades as (select * from {{ ref('stg_' ~ app ~ '__course_run_grades') }}),

        grades as (
            select *
            from
                {{ ol_dbt.deduplicate(
        'all_grades',
        partition_by=['user_id', 'courserun_id'],
        order_by=['courserungrade_updated_on desc nulls last', 'courserungrade_id desc'],
    ) }}
        ),

        valid_certificates as (
            select *
            from {{ ref('stg_' ~ app ~ '__course_run_certificates') }}
            where not coalesce(courseruncertificate_is_revoked, false)
        ),

        certificates as (
            select *
            from
                {{ ol_dbt.deduplicate(
        'valid_certificates',
        partition_by=['user_id', 'courserun_id'],
        order_by=['courseruncertificate_created_on desc nulls last', 'courseruncertificate_id desc'],
    ) }}
        ),

        joined as (
            select
                enrollments.courserunenrollment_id,
                enrollments.user_id,
                enrollments.courserun_id,
                runs.courserun_readable_id,
                runs.courserun_title,
                runs.courserun_start_on,
                runs.courserun_end_on,
                courses.course_id,
                courses.course_readable_id,
                courses.course_title,
                courses.program_id,
                programs.program_readable_id,
                enrollments.courserunenrollment_mode,
                enrollments.courserunenrollment_is_active,
                enrollments.courserunenrollment_change_status,
                enrollments.courserunenrollment_created_on,
                grades.courserungrade_grade,
                grades.courserungrade_letter_grade,
                grades.courserungrade_is_passing,
                certificates.courseruncertificate_uuid
                is not null as courserunenrollment_has_certificate,
                certificates.courseruncertificate_created_on
            from enrollments
            left join runs on enrollments.courserun_id = runs.courserun_id
            left join courses on runs.course_id = courses.course_id
            left join programs on courses.program_id = programs.program_id
            left join
                grades
                on enrollments.user_id = grades.user_id
                and enrollments.courserun_id = grades.courserun_id
            left join
                certificates
                on enrollments.user_id = certificates.user_id
                and enrollments.courserun_id = certificates.courserun_id
        )

    select *
    from joined
{%- endmacro %}

{#
    One row per program enrollment: how far the learner is through the program's courses (a
    course counts once whichever of its runs the learner took): enrolled, passed (a passing
    final grade) and certified (a valid certificate), and the program certificate.
#}
{% macro int_mitx_app__program_progress(app) -%}
    with
        program_enrollments as (select * from {{ ref('stg_' ~ app ~ '__program_enrollments') }}),

        programs as (select * from {{ ref('stg_' ~ app ~ '__programs') }}),

        courses as (select * from {{ ref('stg_' ~ app ~ '__courses') }}),

        course_enrollments as (select * from {{ ref('int_' ~ app ~ '__course_run_enrollments') }}),

        valid_program_certificates as (
            select *
            from {{ ref('stg_' ~ app ~ '__program_certificates') }}
            where not coalesce(programcertificate_is_revoked, false)
        ),

        program_courses as (
            select program_id, count(*) as program_course_count
            from courses
            where program_id is not null
            group by program_id
        ),

        learner_courses as (
            select
                user_id,
                program_id,
                count(distinct course_id) as enrolled_course_count,
                count(
                    distinct case when courserungrade_is_passing then course_id end
                ) as passed_course_count,
                count(
                    distinct case when courserunenrollment_has_certificate then course_id end
                ) as certified_course_count
            from course_enrollments
            where program_id is not null
            group by user_id, program_id
        ),

        program_certificates as (
            select
                user_id,
                program_id,
                min(programcertificate_created_on) as programcertificate_created_on
            from valid_program_certificates
            group by user_id, program_id
        ),

        joined as (
            select
                program_enrollments.programenrollment_id,
                program_enrollments.user_id,
                program_enrollments.program_id,
                programs.program_readable_id,
                programs.program_title,
                programs.program_type,
                program_enrollments.programenrollment_mode,
                program_enrollments.programenrollment_is_active,
                program_enrollments.programenrollment_created_on,
                coalesce(program_courses.program_course_count, 0) as program_course_count,
                coalesce(learner_courses.enrolled_course_count, 0) as enrolled_course_count,
                coalesce(learner_courses.passed_course_count, 0) as passed_course_count,
                coalesce(learner_courses.certified_course_count, 0) as certified_course_count,
                program_certificates.programcertificate_created_on
                is not null as programenrollment_has_certificate,
                program_certificates.programcertificate_created_on
            from program_enrollments
            left join programs on program_enrollments.program_id = programs.program_id
            left join program_courses on program_enrollments.program_id = program_courses.program_id
            left join
                learner_courses
                on program_enrollments.user_id = learner_courses.user_id
                and program_enrollments.program_id = learner_courses.program_id
            left join
                program_certificates
                on program_enrollments.user_id = program_certificates.user_id
                and program_enrollments.program_id = program_certificates.program_id
        )

    select *
    from joined
{%- endmacro %}

{#
    One row per order line: the order, the product and what it sells (a course run or a program,
    through Django's content types), and the discount the order redeemed (at most one per order
    counts: the earliest redemption).
#}
{% macro int_mitx_app__order_lines(app) -%}
    with
        lines as (select * from {{ ref('stg_' ~ app ~ '__order_lines') }}),

        orders as (select * from {{ ref('stg_' ~ app ~ '__orders') }}),

        products as (select * from {{ ref('stg_' ~ app ~ '__products') }}),

        content_types as (select * from {{ ref('stg_' ~ app ~ '__content_types') }}),

        runs as (select * from {{ ref('stg_' ~ app ~ '__course_runs') }}),

        programs as (select * from {{ ref('stg_' ~ app ~ '__programs') }}),

        discounts as (select * from {{ ref('stg_' ~ app ~ '__discounts') }}),

        redemptions as (select * from {{ ref('stg_' ~ app ~ '__discount_redemptions') }}),

        order_discounts as (
            select *
            from
                {{ ol_dbt.deduplicate(
        'redemptions',
        partition_by='order_id',
        order_by=['discountredemption_redeemed_on asc nulls last', 'discountredemption_id asc'],
    ) }}
        ),

        joined as (
            select
                lines.line_id,
                lines.order_id,
                orders.user_id,
                orders.order_state,
                orders.order_reference_number,
                orders.order_total_price_paid,
                orders.order_created_on,
                lines.product_id,
                content_types.contenttype_full_name as product_type,
                case
                    when content_types.contenttype_full_name = 'courses.courserun'
                    then runs.courserun_readable_id
                end as courserun_readable_id,
                case
                    when content_types.contenttype_full_name = 'courses.program'
                    then programs.program_readable_id
                end as program_readable_id,
                lines.line_quantity,
                lines.line_unit_price,
                lines.line_total_price,
                discounts.discount_code,
                discounts.discount_type,
                lines.line_created_on
            from lines
            left join orders on lines.order_id = orders.order_id
            left join products on lines.product_id = products.product_id
            left join content_types on products.contenttype_id = content_types.contenttype_id
            left join
                runs
                on content_types.contenttype_full_name = 'courses.courserun'
                and products.product_object_id = runs.courserun_id
            left join
                programs
                on content_types.contenttype_full_name = 'courses.program'
                and products.product_object_id = programs.program_id
            left join order_discounts on lines.order_id = order_discounts.order_id
            left join discounts on order_discounts.discount_id = discounts.discount_id
        )

    select *
    from joined
{%- endmacro %}
