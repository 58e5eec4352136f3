-- Every account's learner (grain: account_key): accounts are one learner when they are linked,
-- directly or through other accounts, by
-- * the same email: the same hash of the trimmed, lower-cased address (` Ana@X.org ` and
-- `ana@x.org` match; accounts without an email never match by email);
-- * a platform's user-id map: an MITx Online or xPro app user and the account on the app's
-- Open edX LMS its `openedx_openedxuser` row names (same platform, same LMS username), which
-- also joins a learner whose app email changed to the accounts of their old address.
-- The learner id is a hash of the smallest label (an email hash, else the account) among the
-- linked accounts, so it is stable while the accounts stay linked. Links are followed
-- `max_rounds` steps away (longer chains than any the sources form).
--
-- match_rule says why a learner's accounts are together: `single_account` (one account, with an
-- email), `no_email` (one account without an email), `email`, `user_id_map` or
-- `email+user_id_map`.
{%- set max_rounds = 6 %}

with
    accounts as (select * from {{ ref('int_combined__learner_accounts') }}),

    labelled as (
        select
            account_key,
            platform,
            account_source,
            account_id,
            email_hash,
            coalesce('email:' || email_hash, 'account:' || account_key) as label
        from accounts
    ),

    -- an app user and its LMS account (the app's user-id map)
    id_links as (
        select
            app.account_key as app_account_key,
            lms.account_key as lms_account_key,
            app.label as app_label,
            lms.label as lms_label
        from accounts as app_accounts
        inner join labelled as app on app_accounts.account_key = app.account_key
        inner join
            accounts as lms_accounts
            on app_accounts.platform = lms_accounts.platform
            and app_accounts.openedx_username_hash = lms_accounts.openedx_username_hash
        inner join labelled as lms on lms_accounts.account_key = lms.account_key
        where app_accounts.account_source = 'app' and lms_accounts.account_source = 'openedx'
    ),

    label_edges as (
        select app_label as from_label, lms_label as to_label
        from id_links
        where app_label != lms_label

        union

        select lms_label as from_label, app_label as to_label
        from id_links
        where app_label != lms_label
    ),

    round_0 as (select distinct label, label as root from labelled),

    {%- for round in range(1, max_rounds + 1) %}

        round_{{ round }} as (
            select
                labels.label,
                least(labels.root, coalesce(min(neighbours.root), labels.root)) as root
            from round_{{ round - 1 }} as labels
            left join label_edges on labels.label = label_edges.from_label
            left join round_{{ round - 1 }} as neighbours on label_edges.to_label = neighbours.label
            group by labels.label, labels.root
        ),
    {%- endfor %}

    clustered as (
        select
            labelled.account_key,
            labelled.platform,
            labelled.account_source,
            labelled.account_id,
            labelled.email_hash,
            roots.root
        from labelled
        inner join round_{{ max_rounds }} as roots on labelled.label = roots.label
    ),

    email_counts as (
        select root, email_hash, count(*) as account_count
        from clustered
        where email_hash is not null
        group by root, email_hash
    ),

    learners as (
        select
            clustered.root,
            count(*) as account_count,
            max(clustered.email_hash) as any_email_hash,
            max(case when email_counts.account_count > 1 then 1 else 0 end) = 1 as has_email_match,
            max(case when id_links.app_account_key is not null then 1 else 0 end)
            = 1 as has_user_id_match
        from clustered
        left join
            email_counts
            on clustered.root = email_counts.root
            and clustered.email_hash = email_counts.email_hash
        left join id_links on clustered.account_key = id_links.app_account_key
        group by clustered.root
    ),

    matched as (
        select
            clustered.account_key,
            clustered.platform,
            clustered.account_source,
            clustered.account_id,
            {{ hash_pii('clustered.root') }} as learner_id,
            learners.account_count as learner_account_count,
            case
                when learners.account_count = 1 and learners.any_email_hash is null
                then 'no_email'
                when learners.account_count = 1
                then 'single_account'
                when learners.has_email_match and learners.has_user_id_match
                then 'email+user_id_map'
                when learners.has_user_id_match
                then 'user_id_map'
                else 'email'
            end as match_rule
        from clustered
        inner join learners on clustered.root = learners.root
    )

select *
from matched
