{#
    The tracking-log models are incremental by day: each run replaces whole days
    (`openedx_deployment`, `tracking_log_date`) of its table and leaves the others alone, so
    adding a day costs a day whatever the history (benchmarks/bench_dbt_incremental.py).

    - staging (stg_openedx__tracking_logs) loads the days whose raw files changed: each row
      carries `tracking_log_landed_at`, the last modification time of its day's raw Parquet
      files (DuckDB: the file system, via read_blob; Trino: the `$file_modified_time` hidden
      column), and a day is loaded when that time differs from the one staged for it (a new
      day, a late one, a re-normalized one) or its files are gone;
    - int_openedx__tracking_log_events loads the days whose staged landed time differs from its
      own, plus the days its cross-day deduplication ties to them (below);
    - the activity models load the days the events table wrote since their own last load
      (`tracking_log_loaded_at`, the dbt invocation's start) and drop days it no longer has.

    The days are found at run time (run_query) and written into the SQL as literals, so both
    engines prune the scans to them (DuckDB's hive partitions, Trino's partitions). A day that
    has no row left is replaced by nothing: the model adds one marker row per day (key columns
    only, `event_id` null) that the `replace_days` strategy uses to delete and never inserts.
    `dbt compile --no-populate-cache` (CI's Trino compile, no server) renders the incremental
    SQL over a placeholder day.
#}
{# (deployment, source name, table name) of every tracking-log source. #}
{% macro tracking_log_branches() -%}
    {%- set branches = [] -%}
    {%- for deployment in var('openedx_deployments', ['mitxonline', 'xpro']) -%}
        {%- do branches.append((deployment, 'openedx', deployment ~ '_tracking_logs')) -%}
    {%- endfor -%}
    {%- if var('edxorg_tracking_logs', true) -%}
        {%- do branches.append(('edxorg', 'edxorg', 'edxorg_tracking_logs')) -%}
    {%- endif -%}
    {{ return(branches) }}
{%- endmacro %}

{# `dbt compile --no-populate-cache`: no warehouse to ask (CI's Trino compile). #}
{% macro offline_compile() -%}
    {{ return(execute and flags.WHICH == 'compile' and not invocation_args_dict.get('populate_cache', true)) }}
{%- endmacro %}

{# is_incremental(), or true in an offline compile (so the incremental SQL is compiled too). #}
{% macro incremental_by_day() -%}
    {#- not executing, or a unit test (no `this`: it renders the model as a full build) -#}
    {%- if not execute or this is none -%} {{ return(false) }} {%- endif -%}
    {%- if offline_compile() -%} {{ return(true) }} {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}

{# The start of this dbt invocation: the `tracking_log_loaded_at` of every row it writes. #}
{% macro tracking_log_loaded_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp(6))
{%- endmacro %}

{#
    A predicate selecting `days` (a list of [deployment, 'YYYY-MM-DD']) by the columns named;
    false for no day. Dates are literals, so the engines prune partitions with it.
#}
{% macro days_filter(days, deployment_column='openedx_deployment', date_column='tracking_log_date') -%}
    {%- set by_deployment = {} -%}
    {%- for day in days -%}
        {%- do by_deployment.setdefault(day[0], []).append(day[1]) -%}
    {%- endfor -%}
    {%- if not by_deployment -%}(1 = 0)
    {%- else -%}
        (
            {%- for deployment in by_deployment | sort %}
                (
                    {{ deployment_column }} = '{{ deployment }}'
                    and {{ date_column }} in (
                        {%- for day in by_deployment[deployment] | sort -%}
                            date '{{ day }}'{{ ", " if not loop.last }}
                        {%- endfor -%}
                    )
                ){{ " or" if not loop.last }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#
    `union all` of one marker row per day of `days` (key columns set, every other column null),
    in the column order of the existing table; nothing when `days` is none (not incremental).
#}
{% macro day_markers(days) -%}
    {%- if days is none or not days or offline_compile() -%} {{ return('') }} {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) %}
    union all
    select
        {%- for column in columns %}
            {%- if column.name | lower == 'openedx_deployment' %} markers.openedx_deployment
            {%- elif column.name | lower == 'tracking_log_date' %} markers.tracking_log_date
            {%- else %} cast(null as {{ column.data_type }})
            {%- endif %} as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
        {%- endfor %}
    from
        (
            values
                {%- for day in days %}
                    ('{{ day[0] }}', date '{{ day[1] }}'){{ "," if not loop.last }}
                {%- endfor %}
        ) as markers(openedx_deployment, tracking_log_date)
{%- endmacro %}

{# `days` as rows [deployment, 'YYYY-MM-DD'] from a query returning those two columns. #}
{% macro query_days(sql) -%}
    {%- set days = [] -%}
    {%- for row in run_query(sql).rows -%}
        {%- do days.append([row[0] | string, row[1] | string]) -%}
    {%- endfor -%}
    {{ return(days) }}
{%- endmacro %}

{#
    One row per deployment and day with raw files (restricted to `days` when given, with the
    landed times found then): openedx_deployment, tracking_log_date, tracking_log_landed_at
    (the latest modification time of the day's files, UTC).
#}
{% macro tracking_log_landed_days(days=none) -%}
    {%- if days is not none -%}
        {%- set landed = [] -%}
        {%- for day in days if day[2] -%} {%- do landed.append(day) -%} {%- endfor -%}
        {%- if not landed -%}
            select
                cast(null as varchar) as openedx_deployment,
                cast(null as date) as tracking_log_date,
                cast(null as timestamp(6)) as tracking_log_landed_at
            where 1 = 0
        {%- else -%}
            select
                openedx_deployment,
                tracking_log_date,
                cast(tracking_log_landed_at as timestamp(6)) as tracking_log_landed_at
            from
                (
                    values
                        {%- for deployment, day, landed_at in landed %}
                            (
                                '{{ deployment }}', date '{{ day }}', timestamp '{{ landed_at }}'
                            ){{ "," if not loop.last }}
                        {%- endfor %}
                ) as landed(openedx_deployment, tracking_log_date, tracking_log_landed_at)
        {%- endif -%}
    {%- else -%}
        {%- for deployment, source_name, table_name in tracking_log_branches() %}
            {{ ol_dbt.source_landed_days(deployment, source_name, table_name) }}
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{% macro source_landed_days(deployment, source_name, table_name) -%}
    {{ return(adapter.dispatch('source_landed_days', 'ol_dbt')(deployment, source_name, table_name)) }}
{%- endmacro %}

{% macro default__source_landed_days(deployment, source_name, table_name) -%}
    select
        '{{ deployment }}' as openedx_deployment,
        cast(dt as date) as tracking_log_date,
        max({{ to_utc_timestamp('"$file_modified_time"') }}) as tracking_log_landed_at
    from {{ source(source_name, table_name) }}
    group by cast(dt as date)
{%- endmacro %}

{% macro duckdb__source_landed_days(deployment, source_name, table_name) -%}
    {#- the files' metadata only (read_blob reads no content unless asked for it) -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- set glob = ol_dbt.lake_glob(relation) -%}
    {%- if glob is none or (execute and run_query('select count(*) from glob(' ~ glob ~ ')').columns[0].values()[0] == 0) -%}
        select
            '{{ deployment }}' as openedx_deployment,
            cast(null as date) as tracking_log_date,
            cast(null as timestamp) as tracking_log_landed_at
        where 1 = 0
    {%- else -%}
        select
            '{{ deployment }}' as openedx_deployment,
            cast(
                regexp_extract(filename, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date
            ) as tracking_log_date,
            max({{ to_utc_timestamp('last_modified') }}) as tracking_log_landed_at
        from read_blob({{ glob }})
        group by all
    {%- endif -%}
{%- endmacro %}

{# The quoted glob of a DuckDB lake source's read_parquet() (none when it reads something else). #}
{% macro lake_glob(relation) -%}
    {%- set match = modules.re.search("read_parquet\(('(?:[^']|'')*')", relation.external or '') -%}
    {{ return(match.group(1) if match else none) }}
{%- endmacro %}

{#
    The raw days staging must (re)load: [deployment, day, landed_at or none] for every day whose
    landed time differs from the one staged for it, new days included; a staged day whose files
    are gone comes with landed_at none (it is replaced by nothing).
#}
{% macro raw_days_to_stage() -%}
    {%- if offline_compile() -%}
        {{ return([['mitxonline', '2000-01-01', '2000-01-01 00:00:00']]) }}
    {%- endif -%}
    {%- set sql -%}
        with
            landed as ({{ tracking_log_landed_days() }}),
            staged as (
                select openedx_deployment, tracking_log_date, max(tracking_log_landed_at) as tracking_log_landed_at
                from {{ this }}
                where tracking_log_date is not null
                group by openedx_deployment, tracking_log_date
            )
        select
            coalesce(landed.openedx_deployment, staged.openedx_deployment) as openedx_deployment,
            cast(coalesce(landed.tracking_log_date, staged.tracking_log_date) as varchar) as tracking_log_date,
            cast(landed.tracking_log_landed_at as varchar) as tracking_log_landed_at
        from landed
        full outer join staged
            on landed.openedx_deployment = staged.openedx_deployment
            and landed.tracking_log_date = staged.tracking_log_date
        where landed.tracking_log_landed_at is distinct from staged.tracking_log_landed_at
        order by 1, 2
    {%- endset -%}
    {%- set days = [] -%}
    {%- for row in run_query(sql).rows -%}
        {%- do days.append([row[0] | string, row[1] | string, row[2] | string if row[2] is not none else none]) -%}
    {%- endfor -%}
    {%- do log('stg_openedx__tracking_logs: ' ~ days | length ~ ' day(s) to stage', info=true) -%}
    {{ return(days) }}
{%- endmacro %}

{#
    The days the events table must (re)load from `staged` (the staging model):
    1. the days whose staged landed time differs from its own (or that it lacks, or that
       staging no longer has);
    2. the days it holds a copy of an event of those days for (a late day may hold an earlier
       copy of an event kept for a later day: both days are decided again together);
    3. when a day already loaded changed, the staged days holding an event that day no longer
       has (its copy elsewhere may now be the first one).
    Only (3) reads the whole staging table, and only when a loaded day changed.
#}
{% macro event_days_to_load(staged) -%}
    {%- if offline_compile() -%} {{ return([['mitxonline', '2000-01-01']]) }} {%- endif -%}
    {%- set changed = query_days(
        "with staged as (select openedx_deployment, tracking_log_date, max(tracking_log_landed_at) as landed_at from "
        ~ staged ~ " group by openedx_deployment, tracking_log_date), "
        ~ "loaded as (select openedx_deployment, tracking_log_date, max(tracking_log_landed_at) as landed_at from "
        ~ this ~ " group by openedx_deployment, tracking_log_date) "
        ~ "select coalesce(staged.openedx_deployment, loaded.openedx_deployment), "
        ~ "cast(coalesce(staged.tracking_log_date, loaded.tracking_log_date) as varchar) "
        ~ "from staged full outer join loaded on staged.openedx_deployment = loaded.openedx_deployment "
        ~ "and staged.tracking_log_date = loaded.tracking_log_date "
        ~ "where staged.landed_at is distinct from loaded.landed_at order by 1, 2"
    ) -%}
    {%- if not changed -%}
        {%- do log('int_openedx__tracking_log_events: no day to load', info=true) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set shared = query_days(
        "select distinct loaded.openedx_deployment, cast(loaded.tracking_log_date as varchar) from "
        ~ this ~ " as loaded inner join (select openedx_deployment, event_id from " ~ staged
        ~ " where " ~ days_filter(changed) ~ ") as batch on loaded.openedx_deployment = batch.openedx_deployment"
        ~ " and loaded.event_id = batch.event_id where not "
        ~ days_filter(changed, 'loaded.openedx_deployment', 'loaded.tracking_log_date')
    ) -%}
    {%- set reloaded = query_days(
        "select distinct openedx_deployment, cast(tracking_log_date as varchar) from " ~ this
        ~ " where " ~ days_filter(changed)
    ) -%}
    {%- set holders = [] -%}
    {%- if reloaded -%}
        {%- set holders = query_days(
            "with lost as (select openedx_deployment, event_id from " ~ this ~ " where " ~ days_filter(reloaded)
            ~ " except select openedx_deployment, event_id from " ~ staged ~ " where " ~ days_filter(reloaded)
            ~ ") select distinct staged.openedx_deployment, cast(staged.tracking_log_date as varchar) from "
            ~ staged ~ " as staged inner join lost on staged.openedx_deployment = lost.openedx_deployment"
            ~ " and staged.event_id = lost.event_id where not "
            ~ days_filter(changed, 'staged.openedx_deployment', 'staged.tracking_log_date')
        ) -%}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for day in changed + shared + holders -%}
        {%- if day not in days -%} {%- do days.append(day) -%} {%- endif -%}
    {%- endfor -%}
    {%- do log('int_openedx__tracking_log_events: ' ~ days | length ~ ' day(s) to load ('
        ~ changed | length ~ ' changed, ' ~ (days | length - changed | length) ~ ' sharing events)', info=true) -%}
    {{ return(days | sort) }}
{%- endmacro %}

{#
    The days an activity model must (re)load from `events` (int_openedx__tracking_log_events):
    the days the events table wrote after this model's latest load, and the days this model has
    that the events table no longer has.
#}
{% macro activity_days_to_load(events) -%}
    {%- if offline_compile() -%} {{ return([['mitxonline', '2000-01-01']]) }} {%- endif -%}
    {%- set days = query_days(
        "select distinct openedx_deployment, cast(tracking_log_date as varchar) from " ~ events
        ~ " where tracking_log_loaded_at > (select coalesce(max(tracking_log_loaded_at), "
        ~ "cast('1900-01-01' as timestamp(6))) from " ~ this ~ ") "
        ~ "union select openedx_deployment, cast(tracking_log_date as varchar) from ("
        ~ "select distinct openedx_deployment, tracking_log_date from " ~ this
        ~ " except select distinct openedx_deployment, tracking_log_date from " ~ events ~ ") as gone "
        ~ "order by 1, 2"
    ) -%}
    {%- do log(this.identifier ~ ': ' ~ days | length ~ ' day(s) to load', info=true) -%}
    {{ return(days) }}
{%- endmacro %}
