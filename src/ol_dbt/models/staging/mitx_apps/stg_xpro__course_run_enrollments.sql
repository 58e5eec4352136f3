-- xPro's `courses_courserunenrollment` (one row per enrollment of a user in a course run).
{{ stg_mitx_app__course_run_enrollments('xpro') }}
