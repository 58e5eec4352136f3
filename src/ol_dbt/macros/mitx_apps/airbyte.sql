{#
    A FROM item for an application table Airbyte lands (`raw__<app>__app__postgres__<table>`,
    source `ol_warehouse_raw_data`): the latest record of every id (the newest generation, then
    the newest extraction), so a reader sees one row per id during a sync that has written a new
    generation but not yet removed the old one, and with incremental syncs too. An empty relation
    of the declared types when no sync has written the table yet (lake_source_or_empty).
#}
{% macro mitx_app_source(app, table) -%}
    {{ ol_dbt.deduplicate(
        ol_dbt.lake_source_or_empty('ol_warehouse_raw_data', 'raw__' ~ app ~ '__app__postgres__' ~ table),
        partition_by='id',
        order_by=['_airbyte_generation_id desc', '_airbyte_extracted_at desc', '_airbyte_raw_id'],
    ) }}
{%- endmacro %}

{#
    A `timestamp with time zone` Airbyte wrote (Parquet's UTC-adjusted timestamps) as the UTC
    `timestamp(6)` the warehouse uses, whatever the session's time zone.
#}
{% macro airbyte_timestamp(expr) -%}
    {{ return(adapter.dispatch('airbyte_timestamp', 'ol_dbt')(expr)) }}
{%- endmacro %}

{% macro default__airbyte_timestamp(expr) -%}
    cast({{ expr }} at time zone 'UTC' as timestamp(6))
{%- endmacro %}

{% macro duckdb__airbyte_timestamp(expr) -%}
    timezone('UTC', cast({{ expr }} as timestamptz))
{%- endmacro %}
