-- One row per edX.org enrollment (grain: source system, course run, user): the enrollment of the
-- latest archive holding the course, with the learner's certificate and persisted course grade
-- from the same archive.
with
    enrollments as (select * from {{ ref('stg_edxorg__enrollments') }}),

    certificates as (select * from {{ ref('stg_edxorg__certificates') }}),

    course_grades as (select * from {{ ref('stg_edxorg__course_grades') }}),

    latest_enrollments as (select * from {{ edxorg_latest_archive('enrollments') }}),

    latest_certificates as (select * from {{ edxorg_latest_archive('certificates') }}),

    latest_course_grades as (select * from {{ edxorg_latest_archive('course_grades') }}),

    -- a learner has one row per course in each table; keep the newest should a dump repeat one
    unique_enrollments as (
        select *
        from
            {{ deduplicate(
        'latest_enrollments',
        partition_by=['courserun_source_system', 'archive_courserun_readable_id', 'user_id'],
        order_by=['enrollment_created_at desc nulls last', 'enrollment_id desc'],
    ) }}
    ),

    unique_certificates as (
        select *
        from
            {{ deduplicate(
        'latest_certificates',
        partition_by=['courserun_source_system', 'archive_courserun_readable_id', 'user_id'],
        order_by=['certificate_modified_at desc nulls last', 'certificate_id desc'],
    ) }}
    ),

    unique_course_grades as (
        select *
        from
            {{ deduplicate(
        'latest_course_grades',
        partition_by=['courserun_source_system', 'archive_courserun_readable_id', 'user_id'],
        order_by=['course_grade_modified_at desc nulls last', 'course_grade_id desc'],
    ) }}
    )

select
    unique_enrollments.archive_date,
    unique_enrollments.courserun_source_system,
    unique_enrollments.archive_courserun_readable_id as courserun_readable_id,
    unique_enrollments.user_id,
    unique_enrollments.enrollment_id,
    unique_enrollments.enrollment_mode,
    unique_enrollments.enrollment_is_active,
    unique_enrollments.enrollment_created_at,
    unique_certificates.certificate_status,
    unique_certificates.certificate_mode,
    unique_certificates.certificate_grade,
    unique_certificates.certificate_created_at,
    unique_course_grades.course_grade_percent,
    unique_course_grades.course_grade_letter,
    unique_course_grades.course_grade_passed_at
from unique_enrollments
left join
    unique_certificates
    on unique_enrollments.courserun_source_system = unique_certificates.courserun_source_system
    and unique_enrollments.archive_courserun_readable_id
    = unique_certificates.archive_courserun_readable_id
    and unique_enrollments.user_id = unique_certificates.user_id
left join
    unique_course_grades
    on unique_enrollments.courserun_source_system = unique_course_grades.courserun_source_system
    and unique_enrollments.archive_courserun_readable_id
    = unique_course_grades.archive_courserun_readable_id
    and unique_enrollments.user_id = unique_course_grades.user_id
