{#
    `select <columns> from <deployment>_<table> union all ...` over var('openedx_deployments'):
    every deployment's raw table has the same columns (one asset factory writes them all), and
    naming the columns keeps the union independent of the column order in each Parquet file.
    Columns are quoted because the raw names include reserved words (`end`).
#}
{% macro union_openedx_deployments(table_name, columns) -%}
    {%- set deployments = var('openedx_deployments', ['mitxonline', 'xpro']) -%}
    {%- for deployment in deployments %}
        select {%- for column in columns %} "{{ column }}"{{ "," if not loop.last }} {%- endfor %}
        from {{ source('openedx', deployment ~ '_' ~ table_name) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
