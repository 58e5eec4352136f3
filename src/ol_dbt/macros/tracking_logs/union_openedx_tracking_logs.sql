{#
    `select '<deployment>' as deployment, <columns> from <deployment>_tracking_logs union all ...`
    over var('openedx_deployments'), then edX.org's logs as one more deployment (`edxorg`,
    source edxorg.edxorg_tracking_logs, written by the same asset factory) unless
    var('edxorg_tracking_logs') is false. The normalized tracking-log partitions carry no
    deployment column (the lake path names it), so each branch adds it as a literal. `dt` is the
    hive partition column (the day of the raw log files), read by DuckDB's hive partitioning and
    a partition column of the Trino table. `days` ([deployment, 'YYYY-MM-DD', ...]) restricts
    each branch to those days with a literal `dt` filter the engines prune partitions with (an
    incremental load, macros/tracking_logs/incremental_by_day.sql); none reads every day.
#}
{% macro union_openedx_tracking_logs(columns, days=none) -%}
    {%- for deployment, source_name, table_name in tracking_log_branches() %}
        {%- set dates = [] -%}
        {%- for day in days or [] if day[0] == deployment -%}
            {%- do dates.append(day[1]) -%}
        {%- endfor %}
        select
            '{{ deployment }}' as deployment,
            {%- for column in columns %} "{{ column }}"{{ "," if not loop.last }} {%- endfor %}
        from {{ lake_source_or_empty(source_name, table_name) }}
        {%- if days is not none %}
            where
                {% if dates -%}
                    dt in (
                        {%- for day in dates | sort -%}
                            date '{{ day }}'{{ ", " if not loop.last }}
                        {%- endfor -%}
                    )
                {%- else -%} 1 = 0
                {%- endif %}
        {%- endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
