-- MITx Online's course-run enrollments with run, course, program, final grade and certificate.
{{ int_mitx_app__course_run_enrollments('mitxonline') }}
