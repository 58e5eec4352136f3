{#
    Staging of the MITx Online and xPro application databases (Airbyte's tables, source
    `ol_warehouse_raw_data`). The two apps share their Django apps' tables, so each staging model
    is one of these macros called with its app: `source` is the raw table's latest record per id
    (mitx_app_source), `renamed` renames and casts; timestamps become UTC `timestamp(6)`s
    (airbyte_timestamp), money `decimal(12, 2)`, and personal data leaves only as salted hashes.
#}
{# users_user: one row per user; username and email leave only as salted hashes (the email normalized first), the name not at all. #}
{% macro stg_mitx_app__users(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'users_user') }}),

        renamed as (
            select
                cast(id as bigint) as user_id,
                {{ ol_dbt.hash_pii("nullif(username, '')") }} as user_username_hash,
                {{ ol_dbt.hash_email('email') }} as user_email_hash,
                cast(is_active as boolean) as user_is_active,
                cast(is_staff or is_superuser as boolean) as user_is_staff,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as user_joined_on,
                {{ ol_dbt.airbyte_timestamp('updated_on') }} as user_updated_on,
                {{ ol_dbt.airbyte_timestamp('last_login') }} as user_last_login_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# openedx_openedxuser: one row per app user with an account on the app's Open edX LMS; the LMS username only as its salted hash (the same hash the LMS staging models give it). #}
{% macro stg_mitx_app__openedx_users(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'openedx_openedxuser') }}),

        renamed as (
            select
                cast(id as bigint) as openedxuser_id,
                cast(user_id as bigint) as user_id,
                {{ ol_dbt.hash_pii("nullif(edx_username, '')") }} as openedx_username_hash,
                cast(platform as varchar) as openedx_platform,
                cast(has_been_synced as boolean) as openedxuser_has_been_synced,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as openedxuser_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_program: one row per program. #}
{% macro stg_mitx_app__programs(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_program') }}),

        renamed as (
            select
                cast(id as bigint) as program_id,
                cast(title as varchar) as program_title,
                cast(readable_id as varchar) as program_readable_id,
                cast(program_type as varchar) as program_type,
                cast(live as boolean) as program_is_live,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as program_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_course: one row per course. #}
{% macro stg_mitx_app__courses(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_course') }}),

        renamed as (
            select
                cast(id as bigint) as course_id,
                cast(title as varchar) as course_title,
                cast(readable_id as varchar) as course_readable_id,
                cast(live as boolean) as course_is_live,
                cast(program_id as bigint) as program_id,
                cast(position_in_program as bigint) as course_position_in_program,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as course_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_courserun: one row per course run, keyed by its Open edX course id too. #}
{% macro stg_mitx_app__course_runs(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_courserun') }}),

        renamed as (
            select
                cast(id as bigint) as courserun_id,
                cast(course_id as bigint) as course_id,
                cast(title as varchar) as courserun_title,
                cast(courseware_id as varchar) as courserun_readable_id,
                cast(run_tag as varchar) as courserun_tag,
                {{ ol_dbt.airbyte_timestamp('start_date') }} as courserun_start_on,
                {{ ol_dbt.airbyte_timestamp('end_date') }} as courserun_end_on,
                {{ ol_dbt.airbyte_timestamp('enrollment_start') }} as courserun_enrollment_start_on,
                {{ ol_dbt.airbyte_timestamp('enrollment_end') }} as courserun_enrollment_end_on,
                {{ ol_dbt.airbyte_timestamp('upgrade_deadline') }} as courserun_upgrade_deadline_on,
                cast(is_self_paced as boolean) as courserun_is_self_paced,
                cast(live as boolean) as courserun_is_live,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_courserunenrollment: one row per enrollment of a user in a course run. #}
{% macro stg_mitx_app__course_run_enrollments(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_courserunenrollment') }}),

        renamed as (
            select
                cast(id as bigint) as courserunenrollment_id,
                cast(user_id as bigint) as user_id,
                cast(run_id as bigint) as courserun_id,
                cast(enrollment_mode as varchar) as courserunenrollment_mode,
                cast(active as boolean) as courserunenrollment_is_active,
                cast(change_status as varchar) as courserunenrollment_change_status,
                cast(edx_enrolled as boolean) as courserunenrollment_is_edx_enrolled,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as courserunenrollment_created_on,
                {{ ol_dbt.airbyte_timestamp('updated_on') }} as courserunenrollment_updated_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_courserungrade: one row per final grade of a user in a course run. #}
{% macro stg_mitx_app__course_run_grades(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_courserungrade') }}),

        renamed as (
            select
                cast(id as bigint) as courserungrade_id,
                cast(user_id as bigint) as user_id,
                cast(course_run_id as bigint) as courserun_id,
                cast(grade as double) as courserungrade_grade,
                cast(letter_grade as varchar) as courserungrade_letter_grade,
                cast(passed as boolean) as courserungrade_is_passing,
                cast(set_by_admin as boolean) as courserungrade_is_set_by_admin,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as courserungrade_created_on,
                {{ ol_dbt.airbyte_timestamp('updated_on') }} as courserungrade_updated_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_courseruncertificate: one row per course run certificate (revoked ones included). #}
{% macro stg_mitx_app__course_run_certificates(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_courseruncertificate') }}),

        renamed as (
            select
                cast(id as bigint) as courseruncertificate_id,
                cast(user_id as bigint) as user_id,
                cast(course_run_id as bigint) as courserun_id,
                cast(uuid as varchar) as courseruncertificate_uuid,
                cast(is_revoked as boolean) as courseruncertificate_is_revoked,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as courseruncertificate_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_programenrollment: one row per enrollment of a user in a program. #}
{% macro stg_mitx_app__program_enrollments(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_programenrollment') }}),

        renamed as (
            select
                cast(id as bigint) as programenrollment_id,
                cast(user_id as bigint) as user_id,
                cast(program_id as bigint) as program_id,
                cast(enrollment_mode as varchar) as programenrollment_mode,
                cast(active as boolean) as programenrollment_is_active,
                cast(change_status as varchar) as programenrollment_change_status,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as programenrollment_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# courses_programcertificate: one row per program certificate (revoked ones included). #}
{% macro stg_mitx_app__program_certificates(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'courses_programcertificate') }}),

        renamed as (
            select
                cast(id as bigint) as programcertificate_id,
                cast(user_id as bigint) as user_id,
                cast(program_id as bigint) as program_id,
                cast(uuid as varchar) as programcertificate_uuid,
                cast(is_revoked as boolean) as programcertificate_is_revoked,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as programcertificate_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# django_content_type: one row per Django content type (`courses.courserun`, ...). #}
{% macro stg_mitx_app__content_types(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'django_content_type') }}),

        renamed as (
            select
                cast(id as bigint) as contenttype_id,
                cast(app_label as varchar) as contenttype_app_label,
                cast(model as varchar) as contenttype_model,
                cast(app_label || '.' || model as varchar) as contenttype_full_name,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# ecommerce_product: one row per product (a course run or a program at a price). #}
{% macro stg_mitx_app__products(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'ecommerce_product') }}),

        renamed as (
            select
                cast(id as bigint) as product_id,
                cast(content_type_id as bigint) as contenttype_id,
                cast(object_id as bigint) as product_object_id,
                cast(price as decimal(12, 2)) as product_price,
                cast(description as varchar) as product_description,
                cast(is_active as boolean) as product_is_active,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as product_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# ecommerce_discount: one row per discount code. #}
{% macro stg_mitx_app__discounts(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'ecommerce_discount') }}),

        renamed as (
            select
                cast(id as bigint) as discount_id,
                cast(discount_code as varchar) as discount_code,
                cast(discount_type as varchar) as discount_type,
                cast(redemption_type as varchar) as discount_redemption_type,
                cast(amount as decimal(12, 2)) as discount_amount,
                {{ ol_dbt.airbyte_timestamp('activation_date') }} as discount_activated_on,
                {{ ol_dbt.airbyte_timestamp('expiration_date') }} as discount_expires_on,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as discount_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# ecommerce_order: one row per order. #}
{% macro stg_mitx_app__orders(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'ecommerce_order') }}),

        renamed as (
            select
                cast(id as bigint) as order_id,
                cast(purchaser_id as bigint) as user_id,
                cast(state as varchar) as order_state,
                cast(total_price_paid as decimal(12, 2)) as order_total_price_paid,
                cast(reference_number as varchar) as order_reference_number,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as order_created_on,
                {{ ol_dbt.airbyte_timestamp('updated_on') }} as order_updated_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# ecommerce_line: one row per order line. #}
{% macro stg_mitx_app__order_lines(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'ecommerce_line') }}),

        renamed as (
            select
                cast(id as bigint) as line_id,
                cast(order_id as bigint) as order_id,
                cast(product_id as bigint) as product_id,
                cast(quantity as bigint) as line_quantity,
                cast(unit_price as decimal(12, 2)) as line_unit_price,
                cast(total_price as decimal(12, 2)) as line_total_price,
                {{ ol_dbt.airbyte_timestamp('created_on') }} as line_created_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}

{# ecommerce_discountredemption: one row per discount redeemed by an order. #}
{% macro stg_mitx_app__discount_redemptions(app) -%}
    with
        source as (select * from {{ ol_dbt.mitx_app_source(app, 'ecommerce_discountredemption') }}),

        renamed as (
            select
                cast(id as bigint) as discountredemption_id,
                cast(redeemed_discount_id as bigint) as discount_id,
                cast(redeemed_order_id as bigint) as order_id,
                cast(redeemed_by_id as bigint) as user_id,
                {{ ol_dbt.airbyte_timestamp('redemption_date') }} as discountredemption_redeemed_on,
                {{ ol_dbt.airbyte_timestamp('_airbyte_extracted_at') }} as airbyte_extracted_at
            from source
        )

    select *
    from renamed
{%- endmacro %}
