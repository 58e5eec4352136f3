-- MITx Online's `courses_course` (one row per course).
{{ stg_mitx_app__courses('mitxonline') }}
