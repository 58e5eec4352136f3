{#
    `select '<deployment>' as deployment, <columns> from <deployment>_tracking_logs union all ...`
    over var('openedx_deployments'). The normalized tracking-log partitions carry no deployment
    column (the lake path names it), so each branch adds it as a literal. `dt` is the hive
    partition column (the day of the raw log files), read by DuckDB's hive partitioning and a
    partition column of the Trino table.
#}
{% macro union_openedx_tracking_logs(columns) -%}
    {%- set deployments = var('openedx_deployments', ['mitxonline', 'xpro']) -%}
    {%- for deployment in deployments %}
    select
        '{{ deployment }}' as deployment,
        {%- for column in columns %}
        "{{ column }}"{{ "," if not loop.last }}
        {%- endfor %}
    from {{ lake_source_or_empty('openedx', deployment ~ '_tracking_logs') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
