-- Learner state per block of every legacy LMS, every extraction: each partition holds the rows
-- modified since the previous extraction (int_residential__studentmodule keeps the latest).
with
    source as (
        {{ union_legacy_openedx_deployments('courseware_studentmodule', [
        'deployment', 'id', 'course_id', 'module_type', 'module_id', 'student_id', 'state', 'grade',
        'max_grade', 'created', 'modified', 'dt', 'retrieved_at',
    ], latest=false) }}
    ),

    renamed as (
        select
            cast(deployment as varchar) as openedx_deployment,
            cast(id as bigint) as studentmodule_id,
            cast(course_id as varchar) as courserun_readable_id,
            cast(module_type as varchar) as block_category,
            cast(module_id as varchar) as block_usage_key,
            cast(student_id as bigint) as user_id,
            cast(state as varchar) as studentmodule_state,
            cast(grade as double) as studentmodule_grade,
            cast(max_grade as double) as studentmodule_max_grade,
            {{ cast_timestamp('created') }} as studentmodule_created_on,
            {{ cast_timestamp('modified') }} as studentmodule_modified_on,
            cast(dt as date) as extracted_on,
            {{ cast_timestamp('retrieved_at') }} as retrieved_at
        from source
    )

select *
from renamed
