-- One row per account a learner holds on one of the platforms (grain: account_key), with what can
-- match it to the same learner's other accounts: the hash of the normalized email (hash_email,
-- the same on every platform) and, for MITx Online and xPro, the hash of the LMS username that
-- links an app user to their account on the app's Open edX LMS (the app's own user-id map).
--
-- mitxonline / xpro  app     the application's users (staff excluded), with their LMS username
-- mitxonline / xpro  openedx the app's Open edX LMS accounts: from its database (legacy_openedx)
-- and the tracking logs (user id and username only)
-- residential        openedx residential MITx's LMS accounts (staff excluded)
-- edxorg             edxorg  edX.org's learners (the latest archive), and any enrolled or
-- logged one
-- canvas             canvas  Canvas users, and any enrolled one
--
-- An account seen by several sources is one row: its email and username hashes are the ones any
-- source gives (max() over the sources). A source that has not landed adds no account.
with
    mitxonline_users as (select * from {{ ref('stg_mitxonline__users') }}),

    mitxonline_openedx_users as (select * from {{ ref('stg_mitxonline__openedx_users') }}),

    xpro_users as (select * from {{ ref('stg_xpro__users') }}),

    xpro_openedx_users as (select * from {{ ref('stg_xpro__openedx_users') }}),

    lms_users as (select * from {{ ref('stg_residential__users') }}),

    tracking_log_events as (select * from {{ ref('int_openedx__tracking_log_events') }}),

    edxorg_all_users as (select * from {{ ref('stg_edxorg__users') }}),

    edxorg_users as (
        select *
        from
            {{ deduplicate(
        'edxorg_all_users',
        partition_by='user_id',
        order_by=['archive_date desc', 'user_email_hash desc nulls last'],
    ) }}
    ),

    edxorg_enrollments as (select * from {{ ref('stg_edxorg__enrollments') }}),

    residential_enrollments as (select * from {{ ref('stg_residential__enrollments') }}),

    canvas_users as (select * from {{ ref('stg_canvas__users') }}),

    canvas_enrollments as (select * from {{ ref('stg_canvas__enrollments') }}),

    sourced as (
        select
            'mitxonline' as platform,
            'app' as account_source,
            cast(users.user_id as varchar) as account_id,
            users.user_email_hash as email_hash,
            openedx_users.openedx_username_hash
        from mitxonline_users as users
        left join mitxonline_openedx_users as openedx_users on users.user_id = openedx_users.user_id
        where not coalesce(users.user_is_staff, false)

        union all

        select
            'xpro' as platform,
            'app' as account_source,
            cast(users.user_id as varchar) as account_id,
            users.user_email_hash as email_hash,
            openedx_users.openedx_username_hash
        from xpro_users as users
        left join xpro_openedx_users as openedx_users on users.user_id = openedx_users.user_id
        where not coalesce(users.user_is_staff, false)

        union all

        select
            case
                when openedx_deployment = 'mitx' then 'residential' else openedx_deployment
            end as platform,
            'openedx' as account_source,
            cast(user_id as varchar) as account_id,
            user_email_hash as email_hash,
            user_username_hash as openedx_username_hash
        from lms_users
        where not coalesce(user_is_staff, false)

        union all

        select distinct
            openedx_deployment as platform,
            case
                when openedx_deployment = 'edxorg' then 'edxorg' else 'openedx'
            end as account_source,
            cast(user_id as varchar) as account_id,
            cast(null as varchar) as email_hash,
            -- edX.org's usernames are another LMS's: they link to no app user
            case
                when openedx_deployment != 'edxorg' then user_username_hash
            end as openedx_username_hash
        from tracking_log_events
        where openedx_deployment in ('mitxonline', 'xpro', 'edxorg') and user_id is not null

        union all

        select
            'edxorg' as platform,
            'edxorg' as account_source,
            cast(user_id as varchar) as account_id,
            user_email_hash as email_hash,
            cast(null as varchar) as openedx_username_hash
        from edxorg_users

        union all

        select distinct
            'edxorg' as platform,
            'edxorg' as account_source,
            cast(user_id as varchar) as account_id,
            cast(null as varchar) as email_hash,
            cast(null as varchar) as openedx_username_hash
        from edxorg_enrollments
        where user_id is not null

        union all

        select distinct
            'residential' as platform,
            'openedx' as account_source,
            cast(user_id as varchar) as account_id,
            cast(null as varchar) as email_hash,
            cast(null as varchar) as openedx_username_hash
        from residential_enrollments
        where openedx_deployment = 'mitx' and user_id is not null

        union all

        select
            'canvas' as platform,
            'canvas' as account_source,
            user_id_hash as account_id,
            user_email_hash as email_hash,
            cast(null as varchar) as openedx_username_hash
        from canvas_users
        where user_id_hash is not null

        union all

        select distinct
            'canvas' as platform,
            'canvas' as account_source,
            user_id_hash as account_id,
            cast(null as varchar) as email_hash,
            cast(null as varchar) as openedx_username_hash
        from canvas_enrollments
        where user_id_hash is not null
    ),

    accounts as (
        select
            platform || ':' || account_source || ':' || account_id as account_key,
            platform,
            account_source,
            account_id,
            max(email_hash) as email_hash,
            max(openedx_username_hash) as openedx_username_hash
        from sourced
        group by platform, account_source, account_id
    )

select *
from accounts
