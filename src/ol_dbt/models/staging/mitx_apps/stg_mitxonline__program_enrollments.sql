-- MITx Online's `courses_programenrollment` (one row per enrollment of a user in a program).
{{ stg_mitx_app__program_enrollments('mitxonline') }}
