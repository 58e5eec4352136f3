-- The course list of every legacy LMS's latest extraction (every partition is a full snapshot),
-- one row per deployment and course run.
with
    source as (
        {{ union_legacy_openedx_deployments('course_overviews_courseoverview', [
        'deployment', 'id', 'display_name', 'org', 'display_number_with_default', 'start', 'end',
        'enrollment_start', 'enrollment_end', 'self_paced', 'invitation_only',
        'lowest_passing_grade', 'language', 'retrieved_at',
    ]) }}
    ),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(id as varchar) as courserun_readable_id,
            cast(display_name as varchar) as courserun_title,
            cast(org as varchar) as courserun_org,
            cast(display_number_with_default as varchar) as course_number,
            {{ cast_timestamp('start') }} as courserun_start_on,
            {{ cast_timestamp('"end"') }} as courserun_end_on,
            {{ cast_timestamp('enrollment_start') }} as courserun_enrollment_start_on,
            {{ cast_timestamp('enrollment_end') }} as courserun_enrollment_end_on,
            cast(self_paced as boolean) as courserun_is_self_paced,
            cast(invitation_only as boolean) as courserun_is_invitation_only,
            cast(lowest_passing_grade as double) as courserun_passing_grade,
            cast(language as varchar) as courserun_language,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
