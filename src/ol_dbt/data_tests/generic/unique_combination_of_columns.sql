{#
    Fails for every combination of `combination_of_columns` that occurs more than once (the
    grain test dbt_utils would provide; the hub is out of reach here).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    with
        grouped as (
            select {{ combination_of_columns | join(', ') }}, count(*) as row_count
            from {{ model }}
            group by {{ combination_of_columns | join(', ') }}
        ),

        duplicated as (select * from grouped where row_count > 1)

    select *
    from duplicated

{% endtest %}
