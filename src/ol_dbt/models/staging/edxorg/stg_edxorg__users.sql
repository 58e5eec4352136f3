with
    source as (select * from {{ lake_source_or_empty('edxorg', 'auth_user') }}),

    renamed as (
        select
            cast(archive_date as date) as archive_date,
            cast(source_system as varchar) as courserun_source_system,
            cast(archive_course_id as varchar) as archive_courserun_readable_id,
            cast(id as bigint) as user_id,
            -- personal data: only salted hashes leave staging
            {{ hash_pii("nullif(username, '')") }} as user_username_hash,
            {{ hash_email('email') }} as user_email_hash,
            cast(is_staff as boolean) as user_is_staff,
            cast(is_active as boolean) as user_is_active,
            {{ cast_naive_utc_timestamp('date_joined') }} as user_joined_at,
            {{ cast_naive_utc_timestamp('last_login') }} as user_last_login_at
        from source
    )

select *
from renamed
