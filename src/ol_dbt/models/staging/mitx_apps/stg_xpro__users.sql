-- xPro's `users_user` (one row per user; username and email leave only as salted hashes (the
-- email normalized first), the name not at all).
{{ stg_mitx_app__users('xpro') }}
