-- MITx Online's `courses_courseruncertificate` (one row per course run certificate (revoked ones
-- included)).
{{ stg_mitx_app__course_run_certificates('mitxonline') }}
