-- xPro's `openedx_openedxuser` (one row per app user with an account on the app's Open edX LMS;
-- the LMS username only as its salted hash (the same hash the LMS staging models give it)).
{{ stg_mitx_app__openedx_users('xpro') }}
