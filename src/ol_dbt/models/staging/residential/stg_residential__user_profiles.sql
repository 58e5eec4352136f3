-- Profiles of every legacy LMS's latest extraction: the demographic fields only (name,
-- location, address, city and goals are personal data and stay in the raw layer).
with
    source as (
        {{ union_legacy_openedx_deployments('auth_userprofile', [
        'deployment', 'user_id', 'country', 'year_of_birth', 'gender', 'level_of_education',
        'language',
    ]) }}
    ),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(user_id as bigint) as user_id,
            cast(nullif(country, '') as varchar) as user_country_code,
            cast(year_of_birth as bigint) as user_year_of_birth,
            cast(nullif(gender, '') as varchar) as user_gender,
            cast(nullif(level_of_education, '') as varchar) as user_highest_education,
            cast(nullif(language, '') as varchar) as user_language
        from source
    )

select *
from renamed
