{#
    A FROM item for a raw lake table: `source(source_name, table_name)`, except on DuckDB when no
    file matches the source's read_parquet() glob yet (DuckDB refuses a glob matching nothing):
    then an empty relation of the `data_type`s declared on the source's columns, logged.

    Tracking-log partitions land day by day through a sensor, after the API-based raw tables, so
    a build between the two (or of a deployment whose logs have not arrived) still succeeds with
    no events. Trino reads catalog tables: the plain source there.
#}
{% macro lake_source_or_empty(source_name, table_name) -%}
    {{ return(adapter.dispatch('lake_source_or_empty', 'ol_dbt')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__lake_source_or_empty(source_name, table_name) -%}
    {{ source(source_name, table_name) }}
{%- endmacro %}

{% macro duckdb__lake_source_or_empty(source_name, table_name) -%}
    {#- source() first, always: it records the lineage at parse time -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- set location = relation.external or '' -%}
    {%- set glob_match = modules.re.search("read_parquet\(('(?:[^']|'')*')", location) -%}
    {%- if execute and glob_match -%}
        {%- set found = run_query('select count(*) from glob(' ~ glob_match.group(1) ~ ')') -%}
        {%- if found.columns[0].values()[0] == 0 -%}
            {%- do log('lake_source_or_empty: no raw file matches ' ~ glob_match.group(1)
                ~ '; building on an empty ' ~ source_name ~ '.' ~ table_name ~ ' table', info=true) -%}
            {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
            {%- set columns = node.columns.values() | list -%}
            {%- if not columns -%}
                {{ exceptions.raise_compiler_error(
                    'lake_source_or_empty: source ' ~ source_name ~ '.' ~ table_name ~ ' declares no columns') }}
            {%- endif -%}
            (
                select
                    {%- for column in columns %}
                        cast(
                            null as {{ column.data_type or 'varchar' }}
                        ) as "{{ column.name }}"{{ "," if not loop.last }}
                    {%- endfor %}
                where false
            )
        {%- else -%} {{ relation }}
        {%- endif -%}
    {%- else -%} {{ relation }}
    {%- endif -%}
{%- endmacro %}
