{#
    The catalog's LearningResource shape, flat: the columns of every `integrations__learn__<source>`
    model and of `fct_learning_resources__catalog`, in order, each cast to its contract type.
    `relation` is the CTE holding them under these names. The delivery assets turn a row into
    the webhook's nested shape (image {url, alt}, topics [{name}], offered_by {code}) with
    ol_orchestrate.lib.learn_delivery.learning_resource; `topics` holds topic names separated by
    `|` (the separator the sources mostly use, and one no topic name contains).
#}
{% macro learning_resource_columns(relation) -%}
    select
        cast({{ relation }}.readable_id as varchar) as readable_id,
        cast({{ relation }}.resource_type as varchar) as resource_type,
        cast({{ relation }}.resource_category as varchar) as resource_category,
        cast({{ relation }}.title as varchar) as title,
        cast({{ relation }}.url as varchar) as url,
        cast({{ relation }}.description as varchar) as description,
        cast({{ relation }}.image_url as varchar) as image_url,
        cast({{ relation }}.image_alt as varchar) as image_alt,
        cast({{ relation }}.topics as varchar) as topics,
        cast({{ relation }}.offered_by_code as varchar) as offered_by_code,
        cast({{ relation }}.platform as varchar) as platform,
        cast({{ relation }}.etl_source as varchar) as etl_source,
        cast({{ relation }}.published as boolean) as published,
        cast({{ relation }}.start_on as timestamp(6)) as start_on,
        cast({{ relation }}.end_on as timestamp(6)) as end_on,
        cast({{ relation }}.created_on as timestamp(6)) as created_on,
        cast({{ relation }}.last_modified_on as timestamp(6)) as last_modified_on
    from {{ relation }}
{%- endmacro %}

{# The HTML entities catalog feeds put in plain-text titles, decoded (`&amp;` last). #}
{% macro unescape_html(expr) -%}
    replace(
        replace(
            replace(replace(replace({{ expr }}, '&quot;', '"'), '&#039;', ''''), '&lt;', '<'),
            '&gt;',
            '>'
        ),
        '&amp;',
        '&'
    )
{%- endmacro %}
