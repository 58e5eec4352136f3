with
    source as (select * from {{ canvas_source('users') }}),

    renamed as (
        select
            cast(course_id as varchar) as course_id,
            -- personal data: only salted hashes leave staging (emails trimmed and
            -- case-folded first by hash_email, alike on every platform)
            {{ hash_pii('user_id') }} as user_id_hash,
            {{ hash_pii('user_name') }} as user_name_hash,
            {{ hash_pii('sortable_name') }} as user_sortable_name_hash,
            {{ hash_email('user_email') }} as user_email_hash,
            {{ hash_pii('login_id') }} as user_login_id_hash,
            {{ hash_pii('sis_user_id') }} as user_sis_id_hash,
            {{ cast_timestamp('created_at') }} as user_created_at,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
