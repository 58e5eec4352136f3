{#
    Marts of the MITx Online and xPro application databases, one macro per mart, called with the
    app (the apps share their tables): fct_<app>__course_enrollment, fct_<app>__program_progress
    and fct_<app>__order_line. Every column is cast to its contract type in the final CTE.
    Learners appear as the app's user id only (no username, email or name).
#}
{% macro fct_mitx_app__course_enrollment(app) -%}
    with
        enrollments as (select * from {{ ref('int_' ~ app ~ '__course_run_enrollments') }}),

        final as (
            select
                cast(courserunenrollment_id as bigint) as courserunenrollment_id,
                cast(user_id as bigint) as user_id,
                cast(courserun_id as bigint) as courserun_id,
                cast(courserun_readable_id as varchar) as courserun_readable_id,
                cast(courserun_title as varchar) as courserun_title,
                cast(course_readable_id as varchar) as course_readable_id,
                cast(program_readable_id as varchar) as program_readable_id,
                cast(courserun_start_on as timestamp(6)) as courserun_start_on,
                cast(courserunenrollment_mode as varchar) as enrollment_mode,
                cast(courserunenrollment_is_active as boolean) as enrollment_is_active,
                cast(courserunenrollment_change_status as varchar) as enrollment_change_status,
                cast(courserunenrollment_created_on as timestamp(6)) as enrollment_created_on,
                cast(courserungrade_grade as double) as final_grade,
                cast(courserungrade_letter_grade as varchar) as final_letter_grade,
                cast(courserungrade_is_passing as boolean) as grade_is_passing,
                cast(courserunenrollment_has_certificate as boolean) as has_certificate,
                cast(courseruncertificate_created_on as timestamp(6)) as certificate_created_on
            from enrollments
        )

    select *
    from final
{%- endmacro %}

{% macro fct_mitx_app__program_progress(app) -%}
    with
        progress as (select * from {{ ref('int_' ~ app ~ '__program_progress') }}),

        final as (
            select
                cast(programenrollment_id as bigint) as programenrollment_id,
                cast(user_id as bigint) as user_id,
                cast(program_id as bigint) as program_id,
                cast(program_readable_id as varchar) as program_readable_id,
                cast(program_title as varchar) as program_title,
                cast(program_type as varchar) as program_type,
                cast(programenrollment_mode as varchar) as programenrollment_mode,
                cast(programenrollment_is_active as boolean) as programenrollment_is_active,
                cast(programenrollment_created_on as timestamp(6)) as programenrollment_created_on,
                cast(program_course_count as bigint) as program_course_count,
                cast(enrolled_course_count as bigint) as enrolled_course_count,
                cast(passed_course_count as bigint) as passed_course_count,
                cast(certified_course_count as bigint) as certified_course_count,
                cast(
                    case
                        when program_course_count > 0
                        then cast(certified_course_count as double) / program_course_count
                    end as double
                ) as program_completion_ratio,
                cast(programenrollment_has_certificate as boolean) as has_program_certificate,
                cast(
                    programcertificate_created_on as timestamp(6)
                ) as program_certificate_created_on
            from progress
        )

    select *
    from final
{%- endmacro %}

{% macro fct_mitx_app__order_line(app) -%}
    with
        lines as (select * from {{ ref('int_' ~ app ~ '__order_lines') }}),

        priced as (
            select
                *,
                line_unit_price * line_quantity as line_list_price,
                order_state = 'fulfilled' as order_is_fulfilled
            from lines
        ),

        final as (
            select
                cast(line_id as bigint) as line_id,
                cast(order_id as bigint) as order_id,
                cast(order_reference_number as varchar) as order_reference_number,
                cast(user_id as bigint) as user_id,
                cast(order_state as varchar) as order_state,
                cast(order_created_on as timestamp(6)) as order_created_on,
                cast(order_created_on as date) as order_created_date,
                cast(product_id as bigint) as product_id,
                cast(product_type as varchar) as product_type,
                cast(courserun_readable_id as varchar) as courserun_readable_id,
                cast(program_readable_id as varchar) as program_readable_id,
                cast(line_quantity as bigint) as line_quantity,
                cast(line_list_price as decimal(12, 2)) as line_list_price,
                cast(line_total_price as decimal(12, 2)) as line_paid_price,
                cast(discount_code as varchar) as discount_code,
                cast(line_list_price - line_total_price as decimal(12, 2)) as discount_amount,
                cast(
                    case when order_is_fulfilled then line_total_price else 0 end as decimal(12, 2)
                ) as revenue_amount,
                cast(order_is_fulfilled as boolean) as order_is_fulfilled,
                cast(order_state = 'refunded' as boolean) as order_is_refunded
            from priced
        )

    select *
    from final
{%- endmacro %}
