{#
    Incremental strategy `replace_days`: the model's new rows replace whole days of the table.
    `unique_key` names the day's key columns (['openedx_deployment', 'tracking_log_date']): every
    row of the table whose key appears in the new rows is deleted, then the new rows are
    inserted, except marker rows (`day_marker_column`, default `event_id`, null): a model adds
    one per day it (re)loads (macros/tracking_logs/incremental_by_day.sql, `day_markers`), so a
    day left with no row is emptied too. One delete and one insert, the same on DuckDB and Trino
    (a temporary table holds the new rows, as for delete+insert).
#}
{% macro get_incremental_replace_days_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set keys = arg_dict["unique_key"] -%}
    {%- if not keys or keys is string -%}
        {{ exceptions.raise_compiler_error(
            "replace_days: unique_key must list the day's key columns, got " ~ keys) }}
    {%- endif -%}
    {%- set marker = config.get("day_marker_column", "event_id") -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    {%- set matches = [] -%}
    {%- for key in keys -%}
        {%- do matches.append(source ~ "." ~ key ~ " = " ~ target ~ "." ~ key) -%}
    {%- endfor -%}
    {{ return(
        "delete from " ~ target ~ " where exists (select 1 from " ~ source ~ " where "
        ~ matches | join(" and ") ~ ");\n"
        ~ "insert into " ~ target ~ " (" ~ columns ~ ") select " ~ columns ~ " from " ~ source
        ~ " where " ~ marker ~ " is not null"
    ) }}
{%- endmacro %}

{#
    Data tests of a model loaded by `replace_days` check the rows of its latest load (those
    with its greatest `tracking_log_loaded_at`: every row after a full refresh), so a day's
    build does not re-test the whole history; the rows of earlier loads were tested when they
    were written. A test's own `where` still applies. Every other test: dbt's default.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') if execute else none -%}
    {%- if tested and tested.config.get('incremental_strategy') == 'replace_days' -%}
        {%- set latest = "tracking_log_loaded_at = (select max(tracking_log_loaded_at) from " ~ relation ~ ")" -%}
        (
            select * from {{ relation }} where {{ latest }}{{ " and (" ~ where ~ ")" if where }}
        ) dbt_subquery
    {%- elif where -%} (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%} {{ relation }}
    {%- endif -%}
{%- endmacro %}
