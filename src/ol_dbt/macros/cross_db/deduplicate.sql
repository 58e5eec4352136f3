{#
    A FROM item with one row per `partition_by` group of `relation` (a CTE name or a ref()): the
    first row in `order_by` order, with exactly the relation's columns, so no model re-lists them.
    `partition_by` is a column or a list of columns; `order_by` an order-by item or a list of
    them. `order_by` alone decides which row is kept: spell out every tie-breaker, and `nulls
    last` on a descending key that may be null. Rows tied on every key keep an arbitrary one.

    DuckDB filters with `qualify`. Trino has neither `qualify` nor `select * exclude`, and the
    column list cannot be looked up without a server (`dbt compile --no-populate-cache` in CI has
    none), so Trino numbers the rows in a subquery and drops the number with its built-in
    `exclude_columns` table function (Trino 412 or later).
#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('deduplicate', 'ol_dbt')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__deduplicate(relation, partition_by, order_by) -%}
    {{ exceptions.raise_compiler_error("deduplicate: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__deduplicate(relation, partition_by, order_by) -%}
    (
        select *
        from {{ relation }}
        qualify row_number() over ({{ ol_dbt.deduplicate_window(partition_by, order_by) }}) = 1
    )
{%- endmacro %}

{% macro trino__deduplicate(relation, partition_by, order_by) -%}
    table(
        exclude_columns(
            input => table(
                select *
                from
                    (
                        select
                            deduplicate_input.*,
                            row_number() over (
                                {{ ol_dbt.deduplicate_window(partition_by, order_by) }}
                            ) as deduplicate_row_number
                        from {{ relation }} as deduplicate_input
                    ) as numbered
                where deduplicate_row_number = 1
            ),
            columns => descriptor(deduplicate_row_number)
        )
    )
{%- endmacro %}

{# `partition by <columns> order by <items>`, from a string or a list of strings each. #}
{% macro deduplicate_window(partition_by, order_by) -%}
    {%- set partition_items = [partition_by] if partition_by is string else partition_by | list -%}
    {%- set order_items = [order_by] if order_by is string else order_by | list -%}
    {%- if not partition_items or not order_items -%}
        {{ exceptions.raise_compiler_error("deduplicate: partition_by and order_by must not be empty") }}
    {%- endif -%}
    partition by {{ partition_items | join(', ') }}
    order by {{ order_items | join(', ') }}
{%- endmacro %}
