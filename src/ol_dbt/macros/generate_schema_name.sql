{#
    Layer schemas. DuckDB (dev, ci) gets the bare layer name: `staging`, `intermediate`, `marts`.
    Trino (qa, production) prefixes the target schema: `ol_warehouse_production_marts`, so the
    environments never share a schema in one catalog. A developer's target on the shared Trino
    (dev_qa, dev_production) has DBT_SCHEMA_SUFFIX in its target schema (profiles.yml), so it
    writes `ol_warehouse_production_<suffix>_marts` and never a deployment's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%} {{ target.schema }}
    {%- elif target.type == 'duckdb' -%} {{ custom_schema_name | trim }}
    {%- else -%} {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
