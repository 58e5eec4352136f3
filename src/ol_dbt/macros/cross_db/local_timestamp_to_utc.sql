{#
    A wall-clock time without an offset, in the IANA zone `zone` (e.g. 'America/New_York'), as a
    UTC timestamp without time zone; null and blank stay null. Daylight saving is the zone's own.
    DuckDB reads the text as a timestamp and places it in the zone (`timezone(zone, ts)`, ICU is
    statically linked in the duckdb wheel); Trino uses `with_timezone`.
#}
{% macro local_timestamp_to_utc(expr, zone) -%}
    {{ return(adapter.dispatch('local_timestamp_to_utc', 'ol_dbt')(expr, zone)) }}
{%- endmacro %}

{% macro default__local_timestamp_to_utc(expr, zone) -%}
    {{ exceptions.raise_compiler_error("local_timestamp_to_utc: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__local_timestamp_to_utc(expr, zone) -%}
    timezone(
        'UTC',
        timezone('{{ zone }}', cast(nullif(trim(cast({{ expr }} as varchar)), '') as timestamp))
    )
{%- endmacro %}

{% macro trino__local_timestamp_to_utc(expr, zone) -%}
    cast(
        with_timezone(
            cast(nullif(trim(cast({{ expr }} as varchar)), '') as timestamp(6)), '{{ zone }}'
        ) at time zone 'UTC' as timestamp(6)
    )
{%- endmacro %}
