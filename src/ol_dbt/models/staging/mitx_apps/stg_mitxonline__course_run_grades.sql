-- MITx Online's `courses_courserungrade` (one row per final grade of a user in a course run).
{{ stg_mitx_app__course_run_grades('mitxonline') }}
