-- One row per deployment, course run and learner: the latest record of the enrollment (the
-- extracts overlap, and a re-run of the same day's extract repeats rows).
with
    enrollments as (
        select * from {{ ref('stg_openedx__enrollments') }} where user_username_hash is not null
    ),

    deduplicated as (
        select
            openedx_deployment,
            courserun_readable_id,
            user_username_hash,
            enrollment_mode,
            enrollment_is_active,
            enrollment_created_on,
            cast(enrollment_created_on as date) as enrollment_created_date,
            retrieved_at
        from
            {{ deduplicate(
        'enrollments',
        partition_by=['openedx_deployment', 'courserun_readable_id', 'user_username_hash'],
        order_by=[
            'retrieved_at desc nulls last',
            'enrollment_created_on desc nulls last',
            'enrollment_is_active desc nulls last',
            'enrollment_mode asc nulls last',
        ],
    ) }}
    )

select *
from deduplicated
