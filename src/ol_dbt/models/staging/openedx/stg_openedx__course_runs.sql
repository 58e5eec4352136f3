{%- set raw_columns = [
    'deployment', 'retrieved_at', 'course_id', 'course_name', 'org', 'number', 'run',
    'start', 'end', 'enrollment_start', 'enrollment_end', 'pacing', 'short_description',
    'hidden', 'invitation_only', 'mobile_available', 'blocks_url',
] -%}

with
    source as ({{ union_openedx_deployments('course_runs', raw_columns) }}),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(course_id as varchar) as courserun_readable_id,
            cast(course_name as varchar) as courserun_title,
            cast(org as varchar) as courserun_org,
            cast(number as varchar) as course_number,
            cast(run as varchar) as courserun_tag,
            {{ cast_timestamp('start') }} as courserun_start_on,
            {{ cast_timestamp('"end"') }} as courserun_end_on,
            {{ cast_timestamp('enrollment_start') }} as courserun_enrollment_start_on,
            {{ cast_timestamp('enrollment_end') }} as courserun_enrollment_end_on,
            cast(pacing as varchar) as courserun_pacing,
            cast(short_description as varchar) as courserun_short_description,
            cast(hidden as boolean) as courserun_is_hidden,
            cast(invitation_only as boolean) as courserun_is_invitation_only,
            cast(mobile_available as boolean) as courserun_is_mobile_available,
            cast(blocks_url as varchar) as courserun_blocks_url,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
