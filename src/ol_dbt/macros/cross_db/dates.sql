{# `date_expr` plus `days_expr` whole days, as a date. #}
{% macro add_days(date_expr, days_expr) -%}
    {{ return(adapter.dispatch('add_days', 'ol_dbt')(date_expr, days_expr)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days_expr) -%}
    date_add('day', {{ days_expr }}, {{ date_expr }})
{%- endmacro %}

{% macro duckdb__add_days(date_expr, days_expr) -%}
    cast({{ date_expr }} + cast({{ days_expr }} as integer) as date)
{%- endmacro %}


{#
    A FROM-clause relation `<relation_alias>(<column_name>)` holding the integers 0..upper_bound.
    Trino's sequence() holds at most 10,000 elements, so upper_bound must stay below that.
#}
{% macro integer_sequence(upper_bound, relation_alias, column_name) -%}
    {{ return(adapter.dispatch('integer_sequence', 'ol_dbt')(upper_bound, relation_alias, column_name)) }}
{%- endmacro %}

{% macro default__integer_sequence(upper_bound, relation_alias, column_name) -%}
    unnest(sequence(0, {{ upper_bound }})) as {{ relation_alias }} ({{ column_name }})
{%- endmacro %}

{% macro duckdb__integer_sequence(upper_bound, relation_alias, column_name) -%}
    range(0, {{ upper_bound }} + 1) as {{ relation_alias }} ({{ column_name }})
{%- endmacro %}
