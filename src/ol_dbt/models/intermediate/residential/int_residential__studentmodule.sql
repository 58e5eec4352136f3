-- One row per deployment and studentmodule record: its latest version across the incremental
-- extractions (latest modification, then latest extraction; a row re-read by an overlapping
-- extraction appears in two partitions).
with
    studentmodule as (select * from {{ ref('stg_residential__studentmodule') }}),

    deduplicated as (
        select *
        from
            {{ deduplicate(
        'studentmodule',
        partition_by=['openedx_deployment', 'studentmodule_id'],
        order_by=[
            'studentmodule_modified_on desc nulls last',
            'extracted_on desc',
            'retrieved_at desc',
        ],
    ) }}
    )

select *
from deduplicated
