-- One row per edX.org enrollment (grain: courserun_source_system, courserun_readable_id,
-- user_id): the mode, active flag and date of the enrollment, the learner's certificate status
-- and the final grade (the persisted course grade, else the certificate's), as of the latest
-- archive holding the course. The learner appears as the edX user id only.
with
    enrollments as (select * from {{ ref('int_edxorg__enrollments') }}),

    final as (
        select
            cast(enrollments.courserun_readable_id as varchar) as courserun_readable_id,
            cast(enrollments.courserun_source_system as varchar) as courserun_source_system,
            cast(enrollments.user_id as bigint) as user_id,
            cast(enrollments.enrollment_mode as varchar) as enrollment_mode,
            cast(enrollments.enrollment_is_active as boolean) as enrollment_is_active,
            cast(enrollments.enrollment_created_at as timestamp(6)) as enrollment_created_at,
            cast(coalesce(enrollments.certificate_status, 'none') as varchar) as certificate_status,
            cast(enrollments.certificate_mode as varchar) as certificate_mode,
            cast(enrollments.certificate_created_at as timestamp(6)) as certificate_created_at,
            cast(
                enrollments.certificate_status = 'downloadable' as boolean
            ) as enrollment_is_certified,
            cast(
                coalesce(enrollments.course_grade_percent, enrollments.certificate_grade) as double
            ) as final_grade,
            cast(enrollments.course_grade_letter as varchar) as final_letter_grade,
            cast(enrollments.course_grade_passed_at as timestamp(6)) as course_passed_at,
            cast(enrollments.archive_date as date) as archive_date
        from enrollments
    )

select *
from final
