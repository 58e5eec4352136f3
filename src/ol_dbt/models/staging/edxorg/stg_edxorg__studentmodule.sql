-- courseware_studentmodule: a learner's state in one block. `state` is JSON text, some rows
-- JSON-encoded twice; edxorg_json_object() gives the object's text either way (null for null,
-- blank, `NULL` or text that is not JSON), from which the attempts are read.
with
    source as (select * from {{ lake_source_or_empty('edxorg', 'courseware_studentmodule') }}),

    parsed as (select *, {{ edxorg_json_object('state') }} as state_json from source),

    renamed as (
        select
            cast(archive_date as date) as archive_date,
            cast(source_system as varchar) as courserun_source_system,
            cast(archive_course_id as varchar) as archive_courserun_readable_id,
            cast(id as bigint) as studentmodule_id,
            cast(module_type as varchar) as block_type,
            cast(module_id as varchar) as block_id,
            cast(student_id as bigint) as user_id,
            cast(course_id as varchar) as courserun_readable_id,
            cast(state_json as varchar) as studentmodule_state,
            cast(
                {{ json_extract_scalar('state_json', "'$.attempts'") }} as bigint
            ) as problem_attempts,
            cast(grade as double) as problem_grade,
            cast(max_grade as double) as problem_max_grade,
            {{ cast_naive_utc_timestamp('created') }} as studentmodule_created_at,
            {{ cast_naive_utc_timestamp('modified') }} as studentmodule_modified_at
        from parsed
    )

select *
from renamed
