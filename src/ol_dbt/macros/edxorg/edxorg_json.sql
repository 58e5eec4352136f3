{#
    The JSON object text held by an edX.org TSV column such as `courseware_studentmodule.state`,
    or null. The exporter writes the column's JSON text as it is stored, and some rows hold it
    JSON-encoded twice (a JSON *string* whose value is the object's text): those are decoded
    once more. Null, blank and the literal `NULL` are null; text that is not JSON is null.
#}
{% macro edxorg_json_object(expr) -%}
    {{ return(adapter.dispatch('edxorg_json_object', 'ol_dbt')(expr)) }}
{%- endmacro %}

{% macro default__edxorg_json_object(expr) -%}
    case
        when nullif(nullif(trim({{ expr }}), ''), 'NULL') is null
        then null
        when is_json_scalar(try(json_parse({{ expr }})))
        then json_extract_scalar(try(json_parse({{ expr }})), '$')
        when try(json_parse({{ expr }})) is not null
        then {{ expr }}
    end
{%- endmacro %}

{% macro duckdb__edxorg_json_object(expr) -%}
    case
        when nullif(nullif(trim({{ expr }}), ''), 'NULL') is null
        then null
        when json_type(try_cast({{ expr }} as json)) = 'VARCHAR'
        then json_extract_string(try_cast({{ expr }} as json), '$')
        when json_type(try_cast({{ expr }} as json)) in ('OBJECT', 'ARRAY')
        then {{ expr }}
    end
{%- endmacro %}


{#
    A naive UTC date-time as MySQL writes it (`2013-02-14 09:12:33`, `...:33.123456`) as a
    timestamp(6) without time zone; null, blank and the literal `NULL` stay null.
#}
{% macro cast_naive_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('cast_naive_utc_timestamp', 'ol_dbt')(expr)) }}
{%- endmacro %}

{% macro default__cast_naive_utc_timestamp(expr) -%}
    cast(nullif(nullif(trim(cast({{ expr }} as varchar)), ''), 'NULL') as timestamp(6))
{%- endmacro %}

{% macro duckdb__cast_naive_utc_timestamp(expr) -%}
    cast(nullif(nullif(trim(cast({{ expr }} as varchar)), ''), 'NULL') as timestamp)
{%- endmacro %}


{#
    A number written as text (a certificate's `grade`: `0.87`, `` or `NULL`), as a double; null
    when blank, `NULL` or not a number.
#}
{% macro text_to_double(expr) -%}
    {{ return(adapter.dispatch('text_to_double', 'ol_dbt')(expr)) }}
{%- endmacro %}

{% macro default__text_to_double(expr) -%}
    try_cast(nullif(nullif(trim(cast({{ expr }} as varchar)), ''), 'NULL') as double)
{%- endmacro %}


{#
    Rows of `relation` from the latest archive holding each course: edX.org re-delivers every
    course in full each week, so the latest archive that has a course is that course's data.
    `relation` has `courserun_source_system`, `archive_courserun_readable_id` and `archive_date`.
#}
{% macro edxorg_latest_archive(relation) -%}
    (
        select latest_input.*
        from
            (
                select
                    archive_input.*,
                    max(archive_input.archive_date) over (
                        partition by
                            archive_input.courserun_source_system,
                            archive_input.archive_courserun_readable_id
                    ) as latest_archive_date
                from {{ relation }} as archive_input
            ) as latest_input
        where latest_input.archive_date = latest_input.latest_archive_date
    )
{%- endmacro %}
