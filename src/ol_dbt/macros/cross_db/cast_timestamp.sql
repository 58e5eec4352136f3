{#
    Parse an ISO-8601 string (as the Open edX APIs send it: `...Z`, `...+00:00`, fractional
    seconds or none) into a UTC timestamp without time zone; null and blank stay null.

    The engines differ: DuckDB's `cast(... as timestamp)` silently DROPS an offset
    (`10:00+02:00` -> 10:00), so DuckDB goes through timestamptz and converts to UTC (the ICU
    extension is statically linked in the duckdb wheel); Trino has `from_iso8601_timestamp`.
    Strings without an offset are read as UTC on both (the session zone of dev/ci DuckDB and of
    the warehouse is UTC). Microsecond precision on both (Iceberg stores timestamp(6)).
#}
{% macro cast_timestamp(expr) -%}
    {{ return(adapter.dispatch('cast_timestamp', 'ol_dbt')(expr)) }}
{%- endmacro %}

{% macro default__cast_timestamp(expr) -%}
    {{ exceptions.raise_compiler_error("cast_timestamp: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__cast_timestamp(expr) -%}
    timezone('UTC', cast(nullif(trim(cast({{ expr }} as varchar)), '') as timestamptz))
{%- endmacro %}

{% macro trino__cast_timestamp(expr) -%}
    cast(
        from_iso8601_timestamp(
            nullif(trim(cast({{ expr }} as varchar)), '')
        ) at time zone 'UTC' as timestamp(6)
    )
{%- endmacro %}
