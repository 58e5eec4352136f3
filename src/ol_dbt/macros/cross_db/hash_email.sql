{#
    An email address as a salted hash (hash_pii) of its normalized form: trimmed, lower-cased,
    blank as null. Addresses are matched across platforms by this hash (dim_combined__learner),
    so every staging model hashing an email uses it: ` Ana@Example.COM ` and `ana@example.com`
    give the same hash.
#}
{% macro hash_email(expr) -%}
    {{ ol_dbt.hash_pii("nullif(lower(trim(" ~ expr ~ ")), '')") }}
{%- endmacro %}
