-- xPro: one row per program enrollment with the learner's progress through its courses.
{{ fct_mitx_app__program_progress('xpro') }}
