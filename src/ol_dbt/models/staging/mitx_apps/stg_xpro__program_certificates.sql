-- xPro's `courses_programcertificate` (one row per program certificate (revoked ones included)).
{{ stg_mitx_app__program_certificates('xpro') }}
