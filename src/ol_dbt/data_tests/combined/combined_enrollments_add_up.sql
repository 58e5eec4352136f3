{{ config(meta={'dagster': {'ref': {'name': 'fct_combined__course_enrollment'}}}) }}
-- fct_combined__course_enrollment holds exactly the enrollments of the per-platform marts: per
-- platform, its rows equal the platform mart's (with the combined mart's inclusion rules:
-- residential is the `mitx` LMS, Canvas one row per student and course), and so does the total.
-- Fails with the platforms whose counts differ.
with
    platform_marts as (
        select 'mitxonline' as platform, count(*) as mart_rows
        from {{ ref('fct_mitxonline__course_enrollment') }}
        union all
        select 'xpro' as platform, count(*) as mart_rows
        from {{ ref('fct_xpro__course_enrollment') }}
        union all
        select 'edxorg' as platform, count(*) as mart_rows
        from {{ ref('fct_edxorg__enrollment') }}
        union all
        select 'residential' as platform, count(*) as mart_rows
        from {{ ref('fct_residential__enrollment') }}
        where openedx_deployment = 'mitx'
        union all
        select 'canvas' as platform, count(*) as mart_rows
        from
            (
                select distinct course_id, user_id_hash
                from {{ ref('fct_canvas__enrollment') }}
                where enrollment_is_student
            ) as canvas_students
    ),

    combined as (
        select platform, count(*) as combined_rows
        from {{ ref('fct_combined__course_enrollment') }}
        group by platform
    ),

    compared as (
        select
            platform_marts.platform,
            platform_marts.mart_rows,
            coalesce(combined.combined_rows, 0) as combined_rows
        from platform_marts
        left join combined on platform_marts.platform = combined.platform
        union all
        select
            'total' as platform,
            (select sum(mart_rows) from platform_marts) as mart_rows,
            (select count(*) from {{ ref('fct_combined__course_enrollment') }}) as combined_rows
    )

select *
from compared
where mart_rows != combined_rows
