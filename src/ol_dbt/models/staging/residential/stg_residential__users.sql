-- Users of every legacy LMS's latest extraction; username and email leave only as salted
-- hashes, names not at all.
with
    source as (
        {{ union_legacy_openedx_deployments('auth_user', [
        'deployment', 'id', 'username', 'email', 'is_staff', 'is_active', 'last_login',
        'date_joined', 'retrieved_at',
    ]) }}
    ),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(id as bigint) as user_id,
            -- personal data: only the salted hashes leave staging
            {{ hash_pii('username') }} as user_username_hash,
            {{ hash_email('email') }} as user_email_hash,
            cast(is_staff as boolean) as user_is_staff,
            cast(is_active as boolean) as user_is_active,
            {{ cast_timestamp('last_login') }} as user_last_login_on,
            {{ cast_timestamp('date_joined') }} as user_joined_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
