-- Every learning resource delivered to MIT Learn, across sources: the union of the
-- integrations__learn__<source> models (one row per resource).
with
    climate as (select * from {{ ref('integrations__learn__mit_climate') }}),

    mitpe as (select * from {{ ref('integrations__learn__mitpe') }}),

    oll as (select * from {{ ref('integrations__learn__oll') }}),

    sloan as (select * from {{ ref('integrations__learn__sloan') }}),

    ovs as (select * from {{ ref('integrations__learn__ovs') }}),

    edx as (select * from {{ ref('integrations__learn__mit_edx') }}),

    resources as (
        select *
        from climate
        union all
        select *
        from mitpe
        union all
        select *
        from oll
        union all
        select *
        from sloan
        union all
        select *
        from ovs
        union all
        select *
        from edx
    ),

    final as ({{ learning_resource_columns('resources') }})

select *
from final
