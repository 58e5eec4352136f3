{#
    A FROM item for the raw Canvas table `table_name`: `source('canvas', table_name)`.

    On DuckDB (dev, ci) the source is a read_parquet() over raw/canvas/<table>/**/*.parquet, and
    DuckDB refuses a glob that matches no file. Canvas tables land one object per registered
    course, so before the first course is ingested (an empty course registry, or only the Open
    edX location run so far) there is none, and every Canvas model, and the lakehouse build with
    it, would fail. Then this renders an empty relation with the source's declared `data_type`s
    instead (and says so in the log), so the Canvas models build empty. Trino reads catalog
    tables, which exist or not independently of this project: the plain source there.
#}
{% macro canvas_source(table_name) -%}
    {{ return(adapter.dispatch('canvas_source', 'ol_dbt')(table_name)) }}
{%- endmacro %}

{% macro default__canvas_source(table_name) -%} {{ source('canvas', table_name) }} {%- endmacro %}

{% macro duckdb__canvas_source(table_name) -%}
    {#- source() first, always: it records the lineage at parse time -#}
    {%- set relation = source('canvas', table_name) -%}
    {%- set location = relation.external or '' -%}
    {%- set glob_match = modules.re.search("read_parquet\(('(?:[^']|'')*')", location) -%}
    {%- if execute and glob_match -%}
        {%- set found = run_query('select count(*) from glob(' ~ glob_match.group(1) ~ ')') -%}
        {%- if found.columns[0].values()[0] == 0 -%}
            {%- do log('canvas_source: no raw file matches ' ~ glob_match.group(1)
                ~ '; building on an empty canvas.' ~ table_name ~ ' table', info=true) -%}
            {{ ol_dbt.canvas_empty_relation(table_name) }}
        {%- else -%} {{ relation }}
        {%- endif -%}
    {%- else -%} {{ relation }}
    {%- endif -%}
{%- endmacro %}

{# `(select cast(null as <type>) as <column>, ... where false)`, from the source's YAML columns. #}
{% macro canvas_empty_relation(table_name) -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.canvas.' ~ table_name] -%}
    {%- set columns = node.columns.values() | list -%}
    {%- if not columns -%}
        {{ exceptions.raise_compiler_error('canvas_source: source canvas.' ~ table_name ~ ' declares no columns') }}
    {%- endif -%}
    (
        select
            {%- for column in columns %}
                cast(
                    null as {{ column.data_type or 'varchar' }}
                ) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where false
    )
{%- endmacro %}
