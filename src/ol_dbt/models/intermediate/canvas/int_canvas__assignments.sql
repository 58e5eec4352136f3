-- One row per course and assignment: the latest record of the assignment, with its assignment
-- group's name and weight (also the latest record of the group).
with
    assignments as (select * from {{ ref('stg_canvas__assignments') }}),

    assignment_groups as (select * from {{ ref('stg_canvas__assignment_groups') }}),

    latest_assignments as (
        select *
        from
            {{ deduplicate(
        'assignments',
        partition_by=['course_id', 'assignment_id'],
        order_by=['retrieved_at desc nulls last', 'assignment_updated_at desc nulls last'],
    ) }}
    ),

    latest_assignment_groups as (
        select *
        from
            {{ deduplicate(
        'assignment_groups',
        partition_by=['course_id', 'assignment_group_id'],
        order_by='retrieved_at desc nulls last',
    ) }}
    ),

    joined as (
        select
            latest_assignments.course_id,
            latest_assignments.assignment_id,
            latest_assignments.assignment_name,
            latest_assignments.assignment_group_id,
            latest_assignment_groups.assignment_group_name,
            latest_assignment_groups.assignment_group_weight,
            latest_assignments.assignment_position,
            latest_assignments.assignment_points_possible,
            latest_assignments.assignment_grading_type,
            latest_assignments.assignment_submission_types,
            -- Canvas's "expects a submission": not for work handed in on paper or never submitted
            coalesce(
                latest_assignments.assignment_submission_types
                not in ('none', 'on_paper', 'not_graded', 'wiki_page', ''),
                false
            ) as assignment_expects_submission,
            latest_assignments.assignment_due_at,
            latest_assignments.assignment_unlock_at,
            latest_assignments.assignment_lock_at,
            latest_assignments.assignment_is_published,
            latest_assignments.assignment_is_omitted_from_final_grade,
            latest_assignments.assignment_created_at,
            latest_assignments.assignment_updated_at,
            latest_assignments.assignment_html_url,
            latest_assignments.retrieved_at
        from latest_assignments
        left join
            latest_assignment_groups
            on latest_assignments.course_id = latest_assignment_groups.course_id
            and latest_assignments.assignment_group_id
            = latest_assignment_groups.assignment_group_id
    )

select *
from joined
