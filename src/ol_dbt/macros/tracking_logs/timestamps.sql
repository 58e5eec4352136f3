{#
    A `timestamp with time zone` column (the normalized tracking logs' `event_time`) as a UTC
    timestamp(6) without time zone, whatever the session time zone.
#}
{% macro to_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'ol_dbt')(expr)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expr) -%}
    cast({{ expr }} at time zone 'UTC' as timestamp(6))
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expr) -%}
    timezone('UTC', cast({{ expr }} as timestamptz))
{%- endmacro %}


{#
    The Monday starting the ISO week of `date_expr`, as a date. Trino's and DuckDB's
    date_trunc('week', ...) are both ISO (Monday-based), but DuckDB returns a timestamp for a
    date, and other engines (Spark, Snowflake with WEEK_START) differ: weeks go through here.
#}
{% macro week_start(date_expr) -%}
    {{ return(adapter.dispatch('week_start', 'ol_dbt')(date_expr)) }}
{%- endmacro %}

{% macro default__week_start(date_expr) -%}
    date_trunc('week', cast({{ date_expr }} as date))
{%- endmacro %}

{% macro duckdb__week_start(date_expr) -%}
    cast(date_trunc('week', cast({{ date_expr }} as date)) as date)
{%- endmacro %}
