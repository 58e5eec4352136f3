-- MITx Online's `courses_program` (one row per program).
{{ stg_mitx_app__programs('mitxonline') }}
