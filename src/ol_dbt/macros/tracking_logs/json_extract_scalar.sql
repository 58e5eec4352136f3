{#
    The scalar at `json_path` (e.g. '$.currentTime') of a JSON text column, as varchar; null
    when the text has no such key, the value is not a scalar, or the text is a JSON string
    rather than an object (tracking-log payloads can be any of those). Numbers come back as
    their JSON text ('12.5'): cast them. `json_path` is a SQL string literal, quotes included.
#}
{% macro json_extract_scalar(json_text, json_path) -%}
    {{ return(adapter.dispatch('json_extract_scalar', 'ol_dbt')(json_text, json_path)) }}
{%- endmacro %}

{% macro default__json_extract_scalar(json_text, json_path) -%}
    json_extract_scalar({{ json_text }}, {{ json_path }})
{%- endmacro %}

{% macro duckdb__json_extract_scalar(json_text, json_path) -%}
    case
        when
            json_type(try_cast({{ json_text }} as json), {{ json_path }}) not in ('OBJECT', 'ARRAY')
        then json_extract_string(try_cast({{ json_text }} as json), {{ json_path }})
    end
{%- endmacro %}
