-- xPro's `courses_courserun` (one row per course run, keyed by its Open edX course id too).
{{ stg_mitx_app__course_runs('xpro') }}
