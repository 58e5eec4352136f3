-- MITx Online: one row per course-run enrollment with mode, status, final grade and certificate.
{{ fct_mitx_app__course_enrollment('mitxonline') }}
