-- One row per course and assignment: the latest record of the assignment, with its assignment
-- group's name and weight (also the latest record of the group).

with assignments as (
    select * from {{ ref('stg_canvas__assignments') }}
),

assignment_groups as (
    select * from {{ ref('stg_canvas__assignment_groups') }}
),

ranked_assignments as (
    select
        assignments.*,
        row_number() over (
            partition by assignments.course_id, assignments.assignment_id
            order by assignments.retrieved_at desc nulls last, assignments.assignment_updated_at desc nulls last
        ) as assignment_rank
    from assignments
),

ranked_assignment_groups as (
    select
        assignment_groups.*,
        row_number() over (
            partition by assignment_groups.course_id, assignment_groups.assignment_group_id
            order by assignment_groups.retrieved_at desc nulls last
        ) as assignment_group_rank
    from assignment_groups
),

latest_assignment_groups as (
    select *
    from ranked_assignment_groups
    where assignment_group_rank = 1
),

joined as (
    select
        ranked_assignments.course_id,
        ranked_assignments.assignment_id,
        ranked_assignments.assignment_name,
        ranked_assignments.assignment_group_id,
        latest_assignment_groups.assignment_group_name,
        latest_assignment_groups.assignment_group_weight,
        ranked_assignments.assignment_position,
        ranked_assignments.assignment_points_possible,
        ranked_assignments.assignment_grading_type,
        ranked_assignments.assignment_submission_types,
        -- Canvas's "expects a submission": not for work handed in on paper or never submitted
        coalesce(
            ranked_assignments.assignment_submission_types
            not in ('none', 'on_paper', 'not_graded', 'wiki_page', ''),
            false
        ) as assignment_expects_submission,
        ranked_assignments.assignment_due_at,
        ranked_assignments.assignment_unlock_at,
        ranked_assignments.assignment_lock_at,
        ranked_assignments.assignment_is_published,
        ranked_assignments.assignment_is_omitted_from_final_grade,
        ranked_assignments.assignment_created_at,
        ranked_assignments.assignment_updated_at,
        ranked_assignments.assignment_html_url,
        ranked_assignments.retrieved_at
    from ranked_assignments
    left join latest_assignment_groups
        on
            ranked_assignments.course_id = latest_assignment_groups.course_id
            and ranked_assignments.assignment_group_id = latest_assignment_groups.assignment_group_id
    where ranked_assignments.assignment_rank = 1
)

select * from joined
