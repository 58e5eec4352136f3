-- Enrollments of every legacy LMS's latest extraction, one row per deployment and enrollment.
with
    source as (
        {{ union_legacy_openedx_deployments('student_courseenrollment', [
        'deployment', 'id', 'user_id', 'course_id', 'mode', 'is_active', 'created', 'retrieved_at',
    ]) }}
    ),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(id as bigint) as enrollment_id,
            cast(user_id as bigint) as user_id,
            cast(course_id as varchar) as courserun_readable_id,
            cast(mode as varchar) as enrollment_mode,
            cast(is_active as boolean) as enrollment_is_active,
            {{ cast_timestamp('created') }} as enrollment_created_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
