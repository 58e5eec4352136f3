-- One row per Canvas course: course, term and account attributes from the latest extract, and
-- counts of its sections, enrollments, students, assignments, modules, pages and files. Every
-- column is cast to its contract type so DuckDB and Trino agree.
with
    courses as (select * from {{ ref('int_canvas__courses') }}),

    sections as (select * from {{ ref('int_canvas__sections') }}),

    enrollments as (select * from {{ ref('int_canvas__enrollments') }}),

    assignments as (select * from {{ ref('int_canvas__assignments') }}),

    modules as (select * from {{ ref('stg_canvas__modules') }}),

    pages as (select * from {{ ref('stg_canvas__pages') }}),

    files as (select * from {{ ref('stg_canvas__files') }}),

    content_exports as (select * from {{ ref('stg_canvas__content_exports') }}),

    section_counts as (
        select course_id, count(*) as section_count from sections group by course_id
    ),

    enrollment_counts as (
        select
            course_id,
            count(*) as enrollment_count,
            count(case when enrollment_state = 'active' then 1 end) as active_enrollment_count,
            count(
                case when enrollment_type = 'StudentEnrollment' then 1 end
            ) as student_enrollment_count,
            -- a student enrolled in two sections is one student
            count(
                distinct case when enrollment_type = 'StudentEnrollment' then user_id_hash end
            ) as student_count,
            count(
                distinct case
                    when enrollment_type = 'StudentEnrollment' and enrollment_state = 'active'
                    then user_id_hash
                end
            ) as active_student_count,
            count(
                distinct case when enrollment_type = 'TeacherEnrollment' then user_id_hash end
            ) as teacher_count
        from enrollments
        group by course_id
    ),

    assignment_counts as (
        select
            course_id,
            count(*) as assignment_count,
            count(case when assignment_is_published then 1 end) as published_assignment_count
        from assignments
        group by course_id
    ),

    module_counts as (
        select course_id, count(distinct module_id) as module_count from modules group by course_id
    ),

    page_counts as (
        select course_id, count(distinct page_id) as page_count from pages group by course_id
    ),

    file_counts as (
        select course_id, count(distinct file_id) as file_count from files group by course_id
    ),

    latest_content_exports as (
        select *
        from
            {{ deduplicate(
        'content_exports',
        partition_by='course_id',
        order_by=['retrieved_at desc nulls last', 'content_exported_at desc nulls last'],
    ) }}
    ),

    final as (
        select
            cast(courses.course_id as varchar) as course_id,
            cast(courses.course_name as varchar) as course_name,
            cast(courses.course_code as varchar) as course_code,
            cast(courses.course_sis_id as varchar) as course_sis_id,
            cast(courses.course_uuid as varchar) as course_uuid,
            cast(courses.course_workflow_state as varchar) as course_workflow_state,
            cast(courses.account_id as varchar) as account_id,
            cast(courses.account_name as varchar) as account_name,
            cast(courses.root_account_id as varchar) as root_account_id,
            cast(courses.term_id as varchar) as term_id,
            cast(courses.term_name as varchar) as term_name,
            cast(courses.term_start_at as timestamp(6)) as term_start_at,
            cast(courses.term_end_at as timestamp(6)) as term_end_at,
            cast(courses.course_start_at as timestamp(6)) as course_start_at,
            cast(courses.course_end_at as timestamp(6)) as course_end_at,
            cast(courses.course_created_at as timestamp(6)) as course_created_at,
            cast(courses.course_time_zone as varchar) as course_time_zone,
            cast(courses.course_default_view as varchar) as course_default_view,
            cast(courses.course_is_public as boolean) as course_is_public,
            cast(coalesce(section_counts.section_count, 0) as bigint) as section_count,
            cast(coalesce(enrollment_counts.enrollment_count, 0) as bigint) as enrollment_count,
            cast(
                coalesce(enrollment_counts.active_enrollment_count, 0) as bigint
            ) as active_enrollment_count,
            cast(
                coalesce(enrollment_counts.student_enrollment_count, 0) as bigint
            ) as student_enrollment_count,
            cast(coalesce(enrollment_counts.student_count, 0) as bigint) as student_count,
            cast(
                coalesce(enrollment_counts.active_student_count, 0) as bigint
            ) as active_student_count,
            cast(coalesce(enrollment_counts.teacher_count, 0) as bigint) as teacher_count,
            cast(coalesce(assignment_counts.assignment_count, 0) as bigint) as assignment_count,
            cast(
                coalesce(assignment_counts.published_assignment_count, 0) as bigint
            ) as published_assignment_count,
            cast(coalesce(module_counts.module_count, 0) as bigint) as module_count,
            cast(coalesce(page_counts.page_count, 0) as bigint) as page_count,
            cast(coalesce(file_counts.file_count, 0) as bigint) as file_count,
            cast(latest_content_exports.content_export_hash as varchar) as course_content_hash,
            cast(
                latest_content_exports.content_exported_at as timestamp(6)
            ) as course_content_exported_at,
            cast(courses.retrieved_at as timestamp(6)) as course_retrieved_at
        from courses
        left join section_counts on courses.course_id = section_counts.course_id
        left join enrollment_counts on courses.course_id = enrollment_counts.course_id
        left join assignment_counts on courses.course_id = assignment_counts.course_id
        left join module_counts on courses.course_id = module_counts.course_id
        left join page_counts on courses.course_id = page_counts.course_id
        left join file_counts on courses.course_id = file_counts.course_id
        left join latest_content_exports on courses.course_id = latest_content_exports.course_id
    )

select *
from final
