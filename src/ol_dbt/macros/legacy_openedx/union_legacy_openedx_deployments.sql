{#
    One relation over every legacy LMS database's raw table: `select <columns> from
    <deployment>_<table> union all ...` over var('legacy_openedx_deployments'), each branch read
    through lake_source_or_empty (a deployment not extracted yet adds no row). `latest=true` keeps
    each deployment's latest extraction (snapshot tables: every daily partition is a full
    snapshot); `latest=false` reads every partition (the incremental courseware_studentmodule).
    The columns are named, and quoted (`end` is a reserved word), so the union does not depend on
    the column order of any file. Rows keep their `deployment`: keys are unique per deployment.
#}
{% macro union_legacy_openedx_deployments(table_name, columns, latest=true) -%}
    {%- set deployments = var('legacy_openedx_deployments', ['mitx', 'mitxonline', 'xpro']) -%}
    {%- for deployment in deployments %}
        {%- set relation = lake_source_or_empty('legacy_openedx', deployment ~ '_' ~ table_name) %}
        select {%- for column in columns %} "{{ column }}"{{ "," if not loop.last }} {%- endfor %}
        from {{ relation }}
        {%- if latest %} where dt = (select max(dt) from {{ relation }}) {%- endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
