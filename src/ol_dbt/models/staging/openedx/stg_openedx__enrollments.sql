{%- set raw_columns = ['deployment', 'retrieved_at', 'course_id', 'username', 'mode', 'is_active', 'created'] -%}

with
    source as ({{ union_openedx_deployments('enrollments', raw_columns) }}),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(course_id as varchar) as courserun_readable_id,
            -- personal data: only the salted hash leaves staging
            {{ hash_pii('username') }} as user_username_hash,
            cast(mode as varchar) as enrollment_mode,
            cast(is_active as boolean) as enrollment_is_active,
            {{ cast_timestamp('created') }} as enrollment_created_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
