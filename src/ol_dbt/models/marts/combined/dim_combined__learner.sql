-- One row per learner across MITx Online, xPro, edX.org, residential MITx and Canvas (grain:
-- learner_id): the platforms the learner was seen on, how many accounts were matched and by
-- which rule (int_combined__learner_matches: the normalized email's hash and the apps'
-- user-id maps). No email, username or name: only the learner id.
with
    matches as (select * from {{ ref('int_combined__learner_matches') }}),

    learners as (
        select
            learner_id,
            max(match_rule) as match_rule,
            count(*) as account_count,
            count(distinct platform) as platform_count,
            max(case when platform = 'mitxonline' then 1 else 0 end) = 1 as is_on_mitxonline,
            max(case when platform = 'xpro' then 1 else 0 end) = 1 as is_on_xpro,
            max(case when platform = 'edxorg' then 1 else 0 end) = 1 as is_on_edxorg,
            max(case when platform = 'residential' then 1 else 0 end) = 1 as is_on_residential,
            max(case when platform = 'canvas' then 1 else 0 end) = 1 as is_on_canvas
        from matches
        group by learner_id
    ),

    final as (
        select
            cast(learner_id as varchar) as learner_id,
            cast(
                concat_ws(
                    ',',
                    case when is_on_canvas then 'canvas' end,
                    case when is_on_edxorg then 'edxorg' end,
                    case when is_on_mitxonline then 'mitxonline' end,
                    case when is_on_residential then 'residential' end,
                    case when is_on_xpro then 'xpro' end
                ) as varchar
            ) as platforms,
            cast(platform_count as bigint) as platform_count,
            cast(account_count as bigint) as account_count,
            cast(match_rule as varchar) as match_rule,
            cast(is_on_mitxonline as boolean) as is_on_mitxonline,
            cast(is_on_xpro as boolean) as is_on_xpro,
            cast(is_on_edxorg as boolean) as is_on_edxorg,
            cast(is_on_residential as boolean) as is_on_residential,
            cast(is_on_canvas as boolean) as is_on_canvas
        from learners
    )

select *
from final
