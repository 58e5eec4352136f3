{#
    Replace a personal value (username, email) by the lowercase hex SHA-256 of
    `var('pii_hash_salt') || value`. Both engines hash the UTF-8 bytes, so DuckDB and Trino give
    the same digest for the same salt (and Python's hashlib.sha256((salt + value).encode())).
    Null stays null. Staging applies it; nothing downstream ever sees the raw value.
#}
{% macro hash_pii(expr) -%}
    {{ return(adapter.dispatch('hash_pii', 'ol_dbt')(expr)) }}
{%- endmacro %}

{% macro pii_hash_salt_literal() -%}
    {#- the salt as a SQL string literal, quotes doubled -#}
    {{ "'" ~ (var("pii_hash_salt") | string | replace("'", "''")) ~ "'" }}
{%- endmacro %}

{% macro default__hash_pii(expr) -%}
    {{ exceptions.raise_compiler_error("hash_pii: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__hash_pii(expr) -%}
    sha256({{ ol_dbt.pii_hash_salt_literal() }} || cast({{ expr }} as varchar))
{%- endmacro %}

{% macro trino__hash_pii(expr) -%}
    {%- set salted = ol_dbt.pii_hash_salt_literal() ~ " || cast(" ~ expr ~ " as varchar)" -%}
    lower(to_hex(sha256(to_utf8({{ salted }}))))
{%- endmacro %}
